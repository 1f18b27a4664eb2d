// Package eventstore is the port to Hust Musik's event log: streams of events
// appended with optimistic concurrency, and one global, totally ordered log
// that projectors follow. Two implementations pass one conformance suite
// (eventstoretest): PostgreSQL (the default) and KurrentDB/EventStoreDB.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Errors an implementation maps its own failures onto.
var (
	// ErrWrongExpectedRevision: the stream is not at the revision the caller expected.
	ErrWrongExpectedRevision = errors.New("eventstore: wrong expected revision")
	// ErrStreamNotFound: reading a stream that has no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrStreamDeleted: the stream was deleted (KurrentDB tombstones).
	ErrStreamDeleted = errors.New("eventstore: stream deleted")
)

// ExpectedRevision is the optimistic-concurrency condition of an append.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExact
)

// Any appends whatever the stream's state.
func Any() ExpectedRevision { return ExpectedRevision{kind: expectAny} }

// NoStream appends only if the stream has no events yet.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectNoStream} }

// Exact appends only if the stream's last event has revision rev (0-based).
func Exact(rev uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: rev} }

// IsAny, IsNoStream and Revision let implementations read the condition.
func (e ExpectedRevision) IsAny() bool      { return e.kind == expectAny }
func (e ExpectedRevision) IsNoStream() bool { return e.kind == expectNoStream }
func (e ExpectedRevision) Revision() (uint64, bool) {
	return e.revision, e.kind == expectExact
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return fmt.Sprintf("revision %d", e.revision)
	default:
		return "any"
	}
}

// Metadata travels with every event. It never holds secrets or personal data
// (no email, token, password hash or MAC key): the log keeps only ids.
type Metadata struct {
	OccurredAt    time.Time `json:"occurred_at"`
	ActorID       string    `json:"actor_id,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	CausationID   string    `json:"causation_id,omitempty"`
	RequestID     string    `json:"request_id,omitempty"`
	SchemaVersion int       `json:"schema_version"`
	Source        string    `json:"source,omitempty"` // api, cli, callback, reconciler, ...
	// Extra carries the metadata of a message published through
	// eventbus.Publisher that has no field above (Watermill metadata is an
	// open map). Domain commands never set it.
	Extra map[string]string `json:"extra,omitempty"`
}

// EventData is an event to append. ID makes the append idempotent: appending
// an event whose ID is already in the stream writes nothing again.
type EventData struct {
	ID       uuid.UUID
	Type     string
	Data     json.RawMessage
	Metadata Metadata
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	ID       uuid.UUID
	StreamID string
	// Revision is the event's 0-based index in its stream.
	Revision uint64
	// Position is the event's place in the global log: strictly increasing,
	// starting at 1. Zero means "before the first event".
	Position   uint64
	Type       string
	Data       json.RawMessage
	Metadata   Metadata
	RecordedAt time.Time
}

// AppendResult tells where the last appended event landed.
type AppendResult struct {
	// NextExpectedRevision is the revision of the stream's last event now.
	NextExpectedRevision uint64
	// Position is the global position of the last appended event.
	Position uint64
}

// Filter selects events of the global log. Empty slices select everything.
type Filter struct {
	EventTypes     []string
	StreamPrefixes []string
}

// Matches reports whether an event passes the filter.
func (f Filter) Matches(streamID, eventType string) bool {
	if len(f.EventTypes) > 0 {
		ok := false
		for _, t := range f.EventTypes {
			if t == eventType {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.StreamPrefixes) > 0 {
		for _, p := range f.StreamPrefixes {
			if len(streamID) >= len(p) && streamID[:len(p)] == p {
				return true
			}
		}
		return false
	}
	return true
}

// Batch is what a subscription delivers: consecutive matching events of the
// global log, and the position up to which the log has been scanned. Checkpoint
// can be past the last event (filtered-out events, or a checkpoint-only batch
// with no events), so that a filtered subscriber's position keeps up with the
// log's head.
type Batch struct {
	Events     []RecordedEvent
	Checkpoint uint64
}

// Store is the event store port.
type Store interface {
	// Append writes events at the end of a stream if expected holds, all or
	// nothing. Re-appending events whose IDs are already in the stream (a
	// retried request) succeeds and writes nothing.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)
	// ReadStream reads up to max events of a stream forward from revision from
	// (inclusive). A stream with no events is ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, from uint64, max int) ([]RecordedEvent, error)
	// ReadStreamTail reads the last max events of a stream, in forward
	// order: enough for an aggregate whose decisions need only its recent
	// past (a listener's last plays). A stream with no events is ErrStreamNotFound.
	ReadStreamTail(ctx context.Context, stream string, max int) ([]RecordedEvent, error)
	// ReadAll reads up to max events of the global log after position after
	// (exclusive) that pass filter. Checkpoint in the answer is how far the log
	// was scanned. It never returns an event while an earlier-positioned event
	// could still become visible.
	ReadAll(ctx context.Context, after uint64, max int, filter Filter) (Batch, error)
	// Subscribe follows the global log after position after (exclusive),
	// filtered, until ctx ends: the channel delivers batches in order, each at
	// most batchSize events, and is closed when ctx ends or on a fatal error
	// (then Err says why). It resumes on its own after transient failures.
	Subscribe(ctx context.Context, after uint64, filter Filter, batchSize int) (Subscription, error)
	// Head is the position of the last event of the global log (0 when empty).
	Head(ctx context.Context) (uint64, error)
}

// Subscription is a live feed of the global log.
type Subscription interface {
	Batches() <-chan Batch
	// Err is why the channel closed early; nil after ctx ended.
	Err() error
}
