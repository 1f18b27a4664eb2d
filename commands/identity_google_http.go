package commands

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/httpapi"
)

// GoogleHTTP holds the Gin handlers of Google sign-in.
type GoogleHTTP struct {
	g     *Google
	wait  httpapi.Waiter
	login string
}

// NewGoogleHTTP makes the handlers. frontendURL is the first FRONTEND_URL:
// the callback always lands on its /login page.
func NewGoogleHTTP(g *Google, wait httpapi.Waiter, frontendURL string) *GoogleHTTP {
	return &GoogleHTTP{g: g, wait: wait, login: strings.TrimRight(frontendURL, "/") + "/login"}
}

// Start serves GET /v1/auth/oauth?returnUrl=...: 200 {"url": <issuer
// authorization URL>}, unwrapped as the frontend reads it; 503 when Google
// sign-in is not configured.
func (h *GoogleHTTP) Start(c *gin.Context) {
	u, err := h.g.Start(c.Request.Context(), c.Query("returnUrl"))
	if err != nil {
		if errors.Is(err, ErrGoogleUnavailable) {
			// A 503 is not logged by httpapi.Error; the cause matters here.
			httpapi.Logger(c).Warn("google sign-in unavailable", "err", err)
		}
		httpapi.Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"url": u})
}

// Callback serves GET /v1/auth/oauth/callback?code&state, where the issuer
// sends the browser back. It always answers 302 to <frontend>/login:
//
//   - success: the session rides in the URL fragment,
//     #access_token=...&refresh_token=...&expires_in=...&token_type=bearer[&returnUrl=...],
//     as Supabase (the old backend's auth provider) did. A fragment is never
//     sent to any server, so the tokens stay out of access logs, proxies and
//     Referer headers; the frontend's /login page reads location.hash.
//   - failure: ?error=<reason> (see the Reason constants).
func (h *GoogleHTTP) Callback(c *gin.Context) {
	ctx := c.Request.Context()
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	if e := c.Query("error"); e != "" {
		// The user refused (or the issuer failed) at the issuer: burn the
		// state so the URL cannot be replayed.
		h.g.Abandon(ctx, c.Query("state"))
		reason := ReasonAccessDenied
		if e != "access_denied" {
			reason = ReasonExchangeFailed
		}
		httpapi.Logger(c).Info("google sign-in refused at the issuer", "error", e)
		h.fail(c, reason)
		return
	}
	res, err := h.g.Finish(ctx, c.Query("code"), c.Query("state"))
	if err != nil {
		reason := ReasonServerError
		var gf *GoogleFailure
		if errors.As(err, &gf) {
			reason = gf.Reason
		}
		if reason == ReasonServerError {
			httpapi.Logger(c).Error("google sign-in failed", "err", err)
		} else {
			httpapi.Logger(c).Info("google sign-in refused", "reason", reason, "err", err)
		}
		h.fail(c, reason)
		return
	}
	// The profile is readable (GET /v1/user/me) as soon as the browser lands.
	httpapi.Written(c, h.wait, res.Written.Position, res.Written.Types)
	frag := url.Values{
		"access_token":  {res.Session.AccessToken},
		"refresh_token": {res.Session.RefreshToken},
		"expires_in":    {strconv.Itoa(res.Session.ExpiresIn)},
		"token_type":    {"bearer"},
	}
	if res.ReturnURL != "" {
		frag.Set("returnUrl", res.ReturnURL)
	}
	c.Redirect(http.StatusFound, h.login+"#"+frag.Encode())
}

func (h *GoogleHTTP) fail(c *gin.Context, reason string) {
	c.Redirect(http.StatusFound, h.login+"?"+url.Values{"error": {reason}}.Encode())
}
