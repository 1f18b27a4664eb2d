package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
)

// statuses is the one table from domain sentinels to HTTP statuses.
var statuses = []struct {
	kind   error
	status int
}{
	{domain.ErrValidation, http.StatusBadRequest},
	{domain.ErrUnauthorized, http.StatusUnauthorized},
	{domain.ErrForbidden, http.StatusForbidden},
	{domain.ErrNotFound, http.StatusNotFound},
	{domain.ErrConflict, http.StatusConflict},
	{domain.ErrPrecondition, http.StatusPreconditionFailed},
	{domain.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{domain.ErrRateLimited, http.StatusTooManyRequests},
	{domain.ErrUnavailable, http.StatusServiceUnavailable},
}

// Status and client message of an error: a domain error's own message, or
// for an error that only wraps a sentinel, the text after it
// ("load: not found: User does not exist" -> "User does not exist").
// Anything else is a 500 whose text the client never sees.
func classify(err error) (int, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, msgTooLarge
	}
	for _, s := range statuses {
		if !errors.Is(err, s.kind) {
			continue
		}
		var de *domain.Error
		if errors.As(err, &de) && de.Msg != "" && errors.Is(de, s.kind) {
			return s.status, de.Msg
		}
		text, marker := err.Error(), s.kind.Error()+": "
		if i := strings.LastIndex(text, marker); i >= 0 && i+len(marker) < len(text) {
			return s.status, text[i+len(marker):]
		}
		return s.status, http.StatusText(s.status)
	}
	return http.StatusInternalServerError, "Internal server error"
}

// Error answers err as {"error": <message>} with the status of its domain
// sentinel (see statuses). Any other error is logged with the request id and
// answered 500 {"error":"Internal server error"}: never a SQL message or a
// stack to the client. Handlers return right after calling it.
func Error(c *gin.Context, err error) {
	if err == nil {
		err = errors.New("httpapi: Error called with a nil error")
	}
	status, msg := classify(err)
	if status == http.StatusInternalServerError {
		if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
			// The client went away; nobody reads this answer.
			c.AbortWithStatus(499)
			return
		}
		Logger(c).Error("request failed", "method", c.Request.Method, "route", c.FullPath(), "err", err)
	} else {
		c.Set(keyErrorMessage, msg)
	}
	if status == http.StatusRequestEntityTooLarge {
		c.Header("Connection", "close")
	}
	if c.Writer.Written() {
		c.Abort()
		return
	}
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}
