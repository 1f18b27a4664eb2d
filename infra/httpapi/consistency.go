package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
)

// Waiter waits until the read models that follow the given event types
// (nil: all primary read models) have applied the event log up to position.
// The projection runtime implements it.
type Waiter interface {
	Wait(ctx context.Context, position uint64, eventTypes []string) error
}

// Written is called by a command handler after its events were appended at
// position: it sets X-Position and waits (at most the server's
// ConsistencyTimeout) for the read models fed by eventTypes, so that the
// client's next read sees the write. After the timeout it returns anyway and
// logs a warning: a slow projection delays the answer, never fails it.
func Written(c *gin.Context, w Waiter, position uint64, eventTypes []string) {
	c.Header("X-Position", strconv.FormatUint(position, 10))
	wait(c, w, position, eventTypes)
}

func wait(c *gin.Context, w Waiter, position uint64, eventTypes []string) {
	if w == nil {
		return
	}
	timeout := settingsOf(c).consistencyTimeout
	ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
	defer cancel()
	start := time.Now()
	err := w.Wait(ctx, position, eventTypes)
	switch {
	case err == nil:
	case c.Request.Context().Err() != nil:
		// The client is gone; the answer no longer matters.
	case errors.Is(err, context.DeadlineExceeded):
		Logger(c).Warn("read models did not reach the position in time; answering anyway",
			"position", position, "event_types", eventTypes, "waited", time.Since(start))
	default:
		Logger(c).Warn("waiting for read models failed; answering anyway",
			"position", position, "event_types", eventTypes, "err", err)
	}
}

// minPosition honours X-Min-Position on reads: the answer waits until the
// read models passed that position (bounded like Written).
func (s *Server) minPosition(c *gin.Context) {
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		c.Next()
		return
	}
	raw := strings.TrimSpace(c.GetHeader("X-Min-Position"))
	if raw == "" {
		c.Next()
		return
	}
	pos, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		Error(c, domain.Invalid("X-Min-Position must be a non-negative integer"))
		return
	}
	wait(c, s.cfg.Waiter, pos, nil)
	c.Next()
}
