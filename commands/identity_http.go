package commands

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// IdentityHTTP holds the Gin handlers of the auth and user writes. Each one
// decodes, calls one command, and encodes.
type IdentityHTTP struct {
	id   *Identity
	wait httpapi.Waiter
}

// NewIdentityHTTP makes the handlers; wait is the projection runtime.
func NewIdentityHTTP(id *Identity, wait httpapi.Waiter) *IdentityHTTP {
	return &IdentityHTTP{id: id, wait: wait}
}

func (h *IdentityHTTP) authAnswer(c *gin.Context, res AuthResult, err error) {
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Written(c, h.wait, res.Written.Position, res.Written.Types)
	c.JSON(http.StatusOK, res) // unwrapped {"user", "session"}: the frontend reads them at top level
}

// SignUp serves POST /v1/auth/signup (JSON or multipart).
func (h *IdentityHTTP) SignUp(c *gin.Context) {
	f, err := httpapi.Fields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	name, _ := f.Get("username")
	if name == "" {
		name, _ = f.Get("name")
	}
	cmd := SignUp{Username: name}
	cmd.Email, _ = f.Get("email")
	cmd.Password, _ = f.Get("password")
	cmd.Country, _ = f.Get("country")
	cmd.AvatarURL, _ = f.Get("avatarurl")
	// A bad file is refused before the account is created.
	if cmd.Avatar, err = ImageFromForm(f); err != nil {
		httpapi.Error(c, err)
		return
	}
	res, err := h.id.SignUp(c.Request.Context(), cmd)
	h.authAnswer(c, res, err)
}

// SignIn serves POST /v1/auth/signin.
func (h *IdentityHTTP) SignIn(c *gin.Context) {
	f, err := httpapi.Fields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	email, _ := f.Get("email")
	password, _ := f.Get("password")
	res, err := h.id.SignIn(c.Request.Context(), email, password)
	h.authAnswer(c, res, err)
}

// Renew serves POST /v1/auth/session/renew.
func (h *IdentityHTTP) Renew(c *gin.Context) {
	f, err := httpapi.Fields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	refresh, _ := f.Get("refresh_token")
	res, err := h.id.Renew(c.Request.Context(), refresh)
	h.authAnswer(c, res, err)
}

// SignOut serves GET /v1/auth/signout.
func (h *IdentityHTTP) SignOut(c *gin.Context) {
	if err := h.id.SignOut(c.Request.Context(), httpapi.SessionID(c)); err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.NoContent(c)
}

// Credentials serves POST /v1/auth/credentials.
func (h *IdentityHTTP) Credentials(c *gin.Context) {
	f, err := httpapi.Fields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	cmd := ChangeCredentials{SessionID: httpapi.SessionID(c)}
	if v, ok := f.Get("email"); ok && v != "" {
		cmd.Email = &v
	}
	if v, ok := f.Get("password"); ok && v != "" {
		cmd.Password = &v
	}
	cmd.CurrentPassword, _ = f.Get("current_password")
	w, err := h.id.ChangeCredentials(c.Request.Context(), httpapi.Principal(c), cmd)
	answerNoContent(c, h.wait, w, err)
}

// UpdateMe serves POST /v1/user/me.
func (h *IdentityHTTP) UpdateMe(c *gin.Context) {
	f, err := httpapi.Fields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	img, err := ImageFromForm(f)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	var p domain.Profile
	for name, dst := range map[string]**string{"username": &p.Username, "country": &p.Country, "avatarurl": &p.AvatarURL} {
		if v, ok := f.Get(name); ok {
			*dst = &v
		}
	}
	view, w, err := h.id.UpdateProfile(c.Request.Context(), httpapi.Principal(c), p, img)
	answerData(c, h.wait, view, w, err)
}

// SetRole serves POST /v1/user/:id/role (Admin).
func (h *IdentityHTTP) SetRole(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "user")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	f, err := httpapi.Fields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	raw, _ := f.Get("role")
	role, err := domain.ParseRole(raw)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	view, w, err := h.id.SetRole(c.Request.Context(), httpapi.Principal(c), id, role)
	answerData(c, h.wait, view, w, err)
}

// DeleteUser serves DELETE /v1/user/:id (Admin).
func (h *IdentityHTTP) DeleteUser(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "user")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	w, err := h.id.DeleteUser(c.Request.Context(), httpapi.Principal(c), id)
	answerNoContent(c, h.wait, w, err)
}
