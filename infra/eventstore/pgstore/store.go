// Package pgstore is the PostgreSQL implementation of the event store port
// (infra/eventstore): an append-only events table (migration 00002), appends
// serialised by a transaction-level advisory lock and grouped into few
// transactions (group commit), and subscriptions woken by LISTEN/NOTIFY.
//
// Why appends are serialised: a subscriber reads the log in position order.
// If two transactions could assign positions concurrently, position 8 could
// commit before position 7; a reader would then deliver 8, move its checkpoint
// past 7 and never see it. Taking one lock before assigning positions makes
// commit order equal position order, and positions gap-free. Group commit
// keeps throughput high despite that: one transaction carries every append
// request that queued up while the previous one ran.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("pgstore: store closed")

// appendLockKey is the pg_advisory_xact_lock key every appending transaction
// takes, in every process sharing the database ("hustevts" in ASCII). Changing
// it while an old binary still runs would let both append concurrently.
const appendLockKey int64 = 0x6875737465767473

// notifyChannel is the LISTEN/NOTIFY channel carrying the head position after
// each append commit.
const notifyChannel = "hustmusik_events"

// Config tunes the store; the zero value is usable.
type Config struct {
	// MaxBatchEvents bounds the events of one group-commit transaction
	// (default 500). A single larger append still goes in one transaction.
	MaxBatchEvents int
	// QueueSize is how many append requests may wait for the appender
	// (default 4096).
	QueueSize int
	// AppendTimeout bounds one group-commit transaction, lock wait included
	// (default 30s). It is not the caller's context: one caller giving up must
	// not fail the others of its batch.
	AppendTimeout time.Duration
	// PollInterval is how often a caught-up subscription re-reads the log
	// when no notification arrives (default 500ms): the fallback if the
	// LISTEN connection is down.
	PollInterval time.Duration
	// RetryMinBackoff and RetryMaxBackoff bound the exponential backoff of a
	// subscription or the listener after a transient database error
	// (defaults 50ms and 5s).
	RetryMinBackoff time.Duration
	RetryMaxBackoff time.Duration
	// RecentEvents is how many of its last committed events the store keeps
	// in memory for this process's subscriptions (default 8192; negative:
	// none, every subscription reads the database). See recentLog.
	RecentEvents int
}

func (c *Config) setDefaults() {
	if c.MaxBatchEvents == 0 {
		c.MaxBatchEvents = 500
	}
	if c.QueueSize == 0 {
		c.QueueSize = 4096
	}
	if c.AppendTimeout == 0 {
		c.AppendTimeout = 30 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.RetryMinBackoff == 0 {
		c.RetryMinBackoff = 50 * time.Millisecond
	}
	if c.RetryMaxBackoff == 0 {
		c.RetryMaxBackoff = 5 * time.Second
	}
	if c.RecentEvents == 0 {
		c.RecentEvents = 8192
	}
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBatchEvents < 1 {
		errs = append(errs, fmt.Errorf("pgstore: MaxBatchEvents %d must be at least 1", c.MaxBatchEvents))
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("pgstore: QueueSize %d must be at least 1", c.QueueSize))
	}
	if c.AppendTimeout <= 0 {
		errs = append(errs, fmt.Errorf("pgstore: AppendTimeout %s must be positive", c.AppendTimeout))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("pgstore: PollInterval %s must be positive", c.PollInterval))
	}
	if c.RetryMinBackoff <= 0 {
		errs = append(errs, fmt.Errorf("pgstore: RetryMinBackoff %s must be positive", c.RetryMinBackoff))
	}
	if c.RetryMaxBackoff < c.RetryMinBackoff {
		errs = append(errs, fmt.Errorf("pgstore: RetryMaxBackoff %s is below RetryMinBackoff %s", c.RetryMaxBackoff, c.RetryMinBackoff))
	}
	return errors.Join(errs...)
}

// Store is the PostgreSQL event store. It is safe for concurrent use; Close
// it to stop its appender, listener and subscriptions.
type Store struct {
	cfg    Config
	pool   *pgxpool.Pool
	logger *slog.Logger

	queue   chan *appendRequest
	done    chan struct{} // closed by Close: every goroutine winds down
	stopped chan struct{} // closed when the appender has exited
	wg      sync.WaitGroup

	mu           sync.Mutex // guards closed, so no goroutine starts after Close waits
	closed       bool
	listenerOnce sync.Once
	hub          hub
	recent       *recentLog
	ownHead      atomic.Uint64 // head notified by this store's last append
}

var _ eventstore.Store = (*Store)(nil)

// New starts a store on pool, whose database must be migrated. The pool stays
// the caller's: Close does not close it.
func New(cfg Config, pool *pgxpool.Pool, logger *slog.Logger) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, errors.New("pgstore: pool is required")
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Store{
		cfg:     cfg,
		pool:    pool,
		logger:  logger.With("component", "eventstore"),
		queue:   make(chan *appendRequest, cfg.QueueSize),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		hub:     hub{subs: map[*subscription]struct{}{}},
		recent:  newRecentLog(max(cfg.RecentEvents, 0)),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.stopped)
		s.runAppender()
	}()
	return s, nil
}

// Close stops the appender (an in-flight batch still completes and answers
// its callers), the listener and every subscription, and waits for them.
// Appends still queued fail with ErrClosed.
func (s *Store) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Head is the position of the last event of the global log (0 when empty).
func (s *Store) Head(ctx context.Context) (uint64, error) {
	var head int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head); err != nil {
		return 0, fmt.Errorf("pgstore: head: %w", err)
	}
	return uint64(head), nil
}

// eventColumns are the columns of eventRow, from an outer-joined "e".
const eventColumns = `e.position, e.stream_id, e.stream_revision, e.event_id, e.event_type, e.data, e.metadata, e.recorded_at`

// ReadStream reads up to limit events of stream forward from revision from.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.ErrValidation, "pgstore: read stream %q: max %d must be at least 1", stream, limit)
	}
	if from > uint64(1<<63-1) {
		return nil, domain.Errorf(domain.ErrValidation, "pgstore: read stream %q: revision %d out of range", stream, from)
	}
	// Whether the stream exists is read in the same statement (snapshot) as
	// its events: checked afterwards, a stream created in between would look
	// like an existing stream with no events at revision 0.
	rows, err := s.pool.Query(ctx, `SELECT f.found, `+eventColumns+`
		FROM (SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1) AS found) f
		LEFT JOIN LATERAL (
			SELECT ev.* FROM events ev
			WHERE ev.stream_id = $1 AND ev.stream_revision >= $2
			ORDER BY ev.stream_revision LIMIT $3
		) e ON true
		ORDER BY e.stream_revision`, stream, int64(from), limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read stream %q: %w", stream, err)
	}
	defer rows.Close()
	out := []eventstore.RecordedEvent{}
	found := false
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(append([]any{&found}, r.dest()...)...); err != nil {
			return nil, fmt.Errorf("pgstore: read stream %q: %w", stream, err)
		}
		if !r.position.Valid {
			continue // the LEFT JOIN row of an answer without events
		}
		e, err := r.recorded()
		if err != nil {
			return nil, fmt.Errorf("pgstore: read stream %q: %w", stream, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: read stream %q: %w", stream, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
	}
	return out, nil
}

// The head and the events come from one statement, hence one snapshot: a
// head read separately could include events committed after the events were
// read, and a checkpoint set to it would skip them.
const (
	readAllPrefix = `SELECT h.head, ` + eventColumns + `
FROM (SELECT coalesce(max(position), 0) AS head FROM events) h
LEFT JOIN LATERAL (`
	readAllSuffix = `) e ON true
ORDER BY e.position`
	prefixCondition = `($3::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($3::text[]) p WHERE starts_with(ev.stream_id, p)))`
	// Every event matches: walk the primary key.
	readAllAny = readAllPrefix + `SELECT ev.* FROM events ev
	WHERE ev.position > $1 AND ` + prefixCondition + `
	ORDER BY ev.position LIMIT $2` + readAllSuffix
	// A type filter: one ordered index range per type, merged, so that a
	// projector of rare events does not scan the whole log. The range is a
	// row comparison on (event_type, position), which only the type index
	// answers: with a plain "position > $1" the planner, not knowing the
	// type, may walk the primary key from $1 and filter, and for a type
	// with no event after $1 that reads the rest of the log (seconds per
	// batch for a projector of rare deletions behind a million listens).
	readAllTyped = readAllPrefix + `SELECT x.* FROM unnest($4::text[]) t(typ)
	CROSS JOIN LATERAL (
		SELECT ev.* FROM events ev
		WHERE ev.event_type = t.typ AND (ev.event_type, ev.position) > (t.typ, $1) AND ` + prefixCondition + `
		ORDER BY ev.position LIMIT $2
	) x
	ORDER BY x.position LIMIT $2` + readAllSuffix
)

// ReadAll reads up to limit events after position after that pass filter.
// A committed event is never overtaken by a later-positioned one becoming
// visible first, because appends are serialised (see the package comment);
// so whatever one snapshot shows up to its head is final.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int, filter eventstore.Filter) (eventstore.Batch, error) {
	if limit < 1 {
		return eventstore.Batch{}, domain.Errorf(domain.ErrValidation, "pgstore: read all: max %d must be at least 1", limit)
	}
	if after > uint64(1<<63-1) {
		return eventstore.Batch{}, domain.Errorf(domain.ErrValidation, "pgstore: read all: position %d out of range", after)
	}
	var prefixes []string
	if len(filter.StreamPrefixes) > 0 {
		prefixes = dedupe(filter.StreamPrefixes)
	}
	query, args := readAllAny, []any{int64(after), limit, prefixes}
	if len(filter.EventTypes) > 0 {
		query, args = readAllTyped, append(args, dedupe(filter.EventTypes))
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return eventstore.Batch{}, fmt.Errorf("pgstore: read all after %d: %w", after, err)
	}
	defer rows.Close()
	var (
		head   int64
		events []eventstore.RecordedEvent
	)
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(append([]any{&head}, r.dest()...)...); err != nil {
			return eventstore.Batch{}, fmt.Errorf("pgstore: read all after %d: %w", after, err)
		}
		if !r.position.Valid {
			continue // the LEFT JOIN row of an answer without events
		}
		e, err := r.recorded()
		if err != nil {
			return eventstore.Batch{}, fmt.Errorf("pgstore: read all after %d: %w", after, err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return eventstore.Batch{}, fmt.Errorf("pgstore: read all after %d: %w", after, err)
	}
	b := eventstore.Batch{Events: events, Checkpoint: max(after, uint64(head))}
	if len(events) == limit {
		// More may match below the head: only this far is scanned.
		b.Checkpoint = events[len(events)-1].Position
	}
	return b, nil
}

// eventRow is one scanned row of the events table, whose columns come from
// an outer join and may all be NULL (an answer without events).
type eventRow struct {
	position   pgtype.Int8
	streamID   pgtype.Text
	revision   pgtype.Int8
	id         pgtype.UUID
	eventType  pgtype.Text
	data       []byte
	metadata   []byte
	recordedAt pgtype.Timestamptz
}

// dest lists the scan targets in eventColumns order.
func (r *eventRow) dest() []any {
	return []any{&r.position, &r.streamID, &r.revision, &r.id, &r.eventType, &r.data, &r.metadata, &r.recordedAt}
}

func (r *eventRow) recorded() (eventstore.RecordedEvent, error) {
	var md eventstore.Metadata
	// goccy/go-json decodes the same JSON into the same struct about five
	// times faster than encoding/json: every event read from the log
	// (a projector catching up reads millions) has its metadata decoded
	// here, and this was a third of the service's CPU while catching up.
	if err := gojson.Unmarshal(r.metadata, &md); err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("metadata of event at position %d: %w", r.position.Int64, err)
	}
	return eventstore.RecordedEvent{
		ID:         uuid.UUID(r.id.Bytes),
		StreamID:   r.streamID.String,
		Revision:   uint64(r.revision.Int64),
		Position:   uint64(r.position.Int64),
		Type:       r.eventType.String,
		Data:       json.RawMessage(r.data),
		Metadata:   md,
		RecordedAt: r.recordedAt.Time,
	}, nil
}

func dedupe(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
