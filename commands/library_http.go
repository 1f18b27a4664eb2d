package commands

import (
	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/httpapi"
)

// LibraryHTTP holds the Gin handlers of follows and listens. Each one
// decodes, calls one command, and answers 204.
type LibraryHTTP struct {
	lib  *Library
	wait httpapi.Waiter
}

// NewLibraryHTTP makes the handlers; wait is the projection runtime.
func NewLibraryHTTP(lib *Library, wait httpapi.Waiter) *LibraryHTTP {
	return &LibraryHTTP{lib: lib, wait: wait}
}

// Follow serves POST /v1/user/me/following/:artistid.
func (h *LibraryHTTP) Follow(c *gin.Context) {
	w, err := h.lib.Follow(c.Request.Context(), httpapi.Principal(c), c.Param("artistid"))
	answerNoContent(c, h.wait, w, err)
}

// Unfollow serves DELETE /v1/user/me/following/:artistid.
func (h *LibraryHTTP) Unfollow(c *gin.Context) {
	w, err := h.lib.Unfollow(c.Request.Context(), httpapi.Principal(c), c.Param("artistid"))
	answerNoContent(c, h.wait, w, err)
}

// RecordListen serves POST /v1/user/me/history/:songid (the body is
// ignored, as the old backend did).
func (h *LibraryHTTP) RecordListen(c *gin.Context) {
	w, err := h.lib.RecordListen(c.Request.Context(), httpapi.Principal(c), c.Param("songid"))
	answerNoContent(c, h.wait, w, err)
}
