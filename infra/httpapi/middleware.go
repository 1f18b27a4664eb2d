package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// requestIDKey is the request context key of the request id, for code that
// has only a context.Context (event metadata).
type requestIDKey struct{}

// requestID accepts a sane incoming X-Request-Id (a proxy's or the
// client's, so one id follows a request across systems) or makes one, and
// echoes it in the answer.
func (s *Server) requestID(c *gin.Context) {
	c.Set(keySettings, s.set)
	id := c.GetHeader("X-Request-Id")
	if !saneRequestID(id) {
		id = uuid.NewString()
	}
	c.Set(keyRequestID, id)
	c.Request = c.Request.WithContext(contextWithRequestID(c.Request.Context(), id))
	c.Header("X-Request-Id", id)
	c.Next()
}

// saneRequestID admits 1 to 128 of [A-Za-z0-9._:-]: nothing that could
// forge a log line or smuggle markup into a log viewer.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// RequestID is the id of the request being served.
func RequestID(c *gin.Context) string {
	return c.GetString(keyRequestID)
}

// secretParams are query parameters whose values never reach a log:
// tokens, presigned URL signatures, OAuth codes and state, payment MACs.
var secretParams = map[string]bool{
	"token": true, "access_token": true, "refresh_token": true, "id_token": true,
	"signature": true, "sig": true, "mac": true, "hmac": true,
	"x-amz-signature": true, "x-amz-credential": true, "x-amz-security-token": true,
	"x-goog-signature": true, "x-goog-credential": true,
	"code": true, "state": true, "code_verifier": true,
	"password": true, "secret": true, "key": true, "api_key": true, "apikey": true,
}

// redactQuery keeps the parameter names of a raw query and replaces the
// values of secret ones.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		decoded, err := url.QueryUnescape(name)
		if err != nil {
			decoded = name
		}
		if hasValue && secretParams[strings.ToLower(decoded)] {
			parts[i] = name + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// accessLog writes one JSON line per request: never a body, never the
// Authorization header, secret query values redacted.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("request_id", RequestID(c)),
		slog.String("client_ip", c.ClientIP()),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
	}
	if q := redactQuery(c.Request.URL.RawQuery); q != "" {
		attrs = append(attrs, slog.String("query", q))
	}
	if p := Principal(c); !p.Anonymous() {
		attrs = append(attrs, slog.String("user_id", p.UserID))
	}
	if msg := c.GetString(keyErrorMessage); msg != "" {
		attrs = append(attrs, slog.String("error", msg))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.logger.LogAttrs(c.Request.Context(), level, "http request", attrs...)
}

// recovery turns a panic into 500 {"error":"Internal server error"}; the
// stack goes to the log only.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(rec) // net/http's way to cut a response short on purpose
		}
		s.logger.Error("panic while serving a request",
			"request_id", RequestID(c), "method", c.Request.Method, "route", c.FullPath(),
			"panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
	}()
	c.Next()
}

// limitBody answers 413 at once for a declared Content-Length over the
// limit and caps the body of every other request, so a chunked upload
// fails (with 413, through Error) as soon as it passes the limit.
func (s *Server) limitBody(c *gin.Context) {
	for _, p := range s.cfg.BodyLimitExempt {
		if strings.HasPrefix(c.Request.URL.Path, p) {
			c.Next()
			return
		}
	}
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		// The unread body is not worth draining: close the connection.
		c.Header("Connection", "close")
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"error": msgTooLarge})
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	}
	c.Next()
}

const msgTooLarge = "Request body too large"

func contextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext is the request id carried by a request's context
// (event metadata records it); "" outside a request.
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
