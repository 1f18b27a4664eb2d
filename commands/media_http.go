package commands

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// MediaHTTP holds the Gin handlers of the presigned audio URLs.
type MediaHTTP struct {
	media *Media
	wait  httpapi.Waiter
}

// NewMediaHTTP makes the handlers; wait is the projection runtime.
func NewMediaHTTP(media *Media, wait httpapi.Waiter) *MediaHTTP {
	return &MediaHTTP{media: media, wait: wait}
}

// UploadURL serves GET /v1/song/:id/presigned/upload.
func (h *MediaHTTP) UploadURL(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "song")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	url, w, err := h.media.GrantUpload(c.Request.Context(), httpapi.Principal(c), id)
	h.answer(c, url, w, err)
}

// StreamURL serves GET /v1/song/:id/presigned/stream. It answers once the
// read models counted the grant, so the caller's next read shows the view.
func (h *MediaHTTP) StreamURL(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "song")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	url, w, err := h.media.GrantStream(c.Request.Context(), httpapi.Principal(c), id)
	h.answer(c, url, w, err)
}

// answer is {"url"} unwrapped, as the frontend reads it.
func (h *MediaHTTP) answer(c *gin.Context, url string, w Written, err error) {
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Written(c, h.wait, w.Position, w.Types)
	c.Header("Cache-Control", "no-store") // a signed URL per request, never a cached one
	c.JSON(http.StatusOK, gin.H{"url": url})
}
