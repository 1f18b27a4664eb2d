package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// The CORS lists of the wire contract (API.md, compatibility).
const (
	corsMethods = "GET, POST, PUT, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, Cache-Control, Idempotency-Key, If-Match, X-Min-Position"
	corsExpose  = "X-Position, X-Request-Id, Retry-After, Idempotent-Replayed"
	corsMaxAge  = "600"
)

// normalizeOrigin reduces a configured origin (maybe with a path or a
// trailing slash, as FRONTEND_URL often has) to "scheme://host[:port]" in
// lower case, the form browsers send in Origin.
func normalizeOrigin(o string) (string, error) {
	o = strings.TrimSpace(o)
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("httpapi: frontend origin %q must be an http(s) URL", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// cors sets the CORS headers for allowed origins on every answer (they are
// set before the handlers run, so errors, 404s and panics carry them too)
// and answers every OPTIONS request with 204 itself: a preflight needs no
// route, and no auth or rate limit should see it.
func cors(origins map[string]bool, anyOrigin bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		origin := c.GetHeader("Origin")
		allowed := origin != "" && (anyOrigin || origins[strings.ToLower(origin)])
		if allowed {
			// The origin itself, never "*": credentials are allowed.
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", corsExpose)
		}
		if c.Request.Method == http.MethodOptions {
			if allowed {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
