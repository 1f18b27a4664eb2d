package readapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/httpapi"
)

// EventLine is one event of the log as exported (NDJSON, one per line), by
// GET /v1/admin/events and `hustmusik events export`.
type EventLine struct {
	Position   uint64              `json:"position"`
	Stream     string              `json:"stream"`
	Revision   uint64              `json:"revision"`
	EventID    string              `json:"event_id"`
	Type       string              `json:"type"`
	RecordedAt time.Time           `json:"recorded_at"`
	Metadata   eventstore.Metadata `json:"metadata"`
	Data       json.RawMessage     `json:"data"`
}

// NewEventLine is the exported form of e. The data is compacted: the
// database hands it back reformatted, and an export should not depend on it.
func NewEventLine(e eventstore.RecordedEvent) EventLine {
	data := e.Data
	var buf bytes.Buffer
	if json.Compact(&buf, e.Data) == nil {
		data = buf.Bytes()
	}
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return EventLine{Position: e.Position, Stream: e.StreamID, Revision: e.Revision, EventID: e.ID.String(),
		Type: e.Type, RecordedAt: e.RecordedAt.UTC(), Metadata: e.Metadata, Data: data}
}

// Events serves the event log to Admins and Auditors.
type Events struct {
	store eventstore.Store
}

// NewEvents makes the event-log reads.
func NewEvents(store eventstore.Store) *Events { return &Events{store: store} }

const (
	eventsDefaultLimit = 1000
	eventsMaxLimit     = 10000
)

// Export serves GET /v1/admin/events?type=A&type=B,C&after=<position>&limit=<n>:
// up to limit events after the position, in log order, as NDJSON, with
// X-Next-After telling where the next page starts (the position scanned to,
// which may be past the last event sent when a type filter skips events).
// A page with no events and X-Next-After equal to after is the log's end.
func (q *Events) Export(c *gin.Context) {
	p := httpapi.Principal(c)
	if p.Role != domain.RoleAdmin && p.Role != domain.RoleAuditor {
		httpapi.Error(c, domain.Forbidden("Only Admins and Auditors may read the event log"))
		return
	}
	var filter eventstore.Filter
	for _, v := range c.QueryArray("type") {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				filter.EventTypes = append(filter.EventTypes, t)
			}
		}
	}
	var after uint64
	if raw := strings.TrimSpace(c.Query("after")); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 63)
		if err != nil {
			httpapi.Error(c, domain.Invalid("after must be a log position (a non-negative integer)"))
			return
		}
		after = n
	}
	limit := eventsDefaultLimit
	if raw := strings.TrimSpace(c.Query("limit")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			httpapi.Error(c, domain.Invalid("limit must be a number"))
			return
		}
		limit = min(max(n, 1), eventsMaxLimit)
	}
	batch, err := q.store.ReadAll(c.Request.Context(), after, limit, filter)
	if err != nil {
		httpapi.Error(c, fmt.Errorf("read the event log after %d: %w", after, err))
		return
	}
	c.Header("X-Next-After", strconv.FormatUint(batch.Checkpoint, 10))
	c.Header("Content-Type", "application/x-ndjson")
	c.Status(http.StatusOK)
	w := bufio.NewWriterSize(c.Writer, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range batch.Events {
		if err := enc.Encode(NewEventLine(e)); err != nil {
			// The status is sent: a cut answer is all the client can get.
			httpapi.Logger(c).Warn("event export: write failed", "error", err)
			return
		}
	}
	if err := w.Flush(); err != nil {
		httpapi.Logger(c).Warn("event export: write failed", "error", err)
	}
}
