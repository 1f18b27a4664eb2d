// Package esdbstore is the KurrentDB/EventStoreDB implementation of the event
// store port (infra/eventstore), through the official gRPC client
// github.com/EventStore/EventStore-Client-Go/v4. It is selected by
// EVENTSTORE_URL (an esdb:// or kurrentdb-style connection string) and
// passes the same conformance suite (eventstoretest) as pgstore when a server
// is reachable.
//
// Mapping in short: a port stream is a KurrentDB stream of the same name;
// expected revisions map one to one; event ids are the port's EventData.ID,
// so a retried append is deduplicated by the server; the port's global
// position is the event's $all commit position (position.go says why that is
// exact); system events ($-prefixed types or streams) never reach the port.
//
// Never link the KurrentDB client (kurrent-io/KurrentDB-Client-Go) into the
// same binary: both register the same protobuf names and the process panics
// at start-up.
package esdbstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Config tunes the store. URL is required; the rest have defaults.
type Config struct {
	// URL is the connection string, e.g.
	// esdb://localhost:2113?tls=false or
	// esdb+discover://node1:2113,node2:2113,node3:2113 for a cluster.
	URL string
	// ScanPageSize is how many $all events one read of a catch-up or of
	// ReadAll fetches (default 512).
	ScanPageSize int
	// ReadAllScanLimit bounds how many $all events one ReadAll call scans
	// looking for matches before it answers with its checkpoint (default
	// 4096), so a filter matching nothing still answers quickly.
	ReadAllScanLimit int
	// LiveSearchWindow and CheckpointInterval are the server-side filter's
	// MaxSearchWindow and checkpoint multiplier of a live subscription: the
	// server sends a checkpoint after every LiveSearchWindow*CheckpointInterval
	// filtered-out events. The default 1*1 sends one after each, so a
	// filtered projector passes a write's position as soon as it is
	// written (read-your-writes waits on it). Catching up does not use the
	// server-side window: it pages $all itself (ScanPageSize).
	LiveSearchWindow   int
	CheckpointInterval int
	// QuietFlush is how long a live subscription waits for more messages
	// before delivering a partial batch (default 5ms); MaxBatchDelay bounds
	// how long a partial batch may wait under a steady trickle (default 50ms).
	QuietFlush    time.Duration
	MaxBatchDelay time.Duration
	// RetryMinBackoff and RetryMaxBackoff bound the exponential backoff
	// between resubscriptions after a drop (defaults 50ms and 5s).
	RetryMinBackoff time.Duration
	RetryMaxBackoff time.Duration
}

func (c *Config) setDefaults() {
	if c.ScanPageSize == 0 {
		c.ScanPageSize = 512
	}
	if c.ReadAllScanLimit == 0 {
		c.ReadAllScanLimit = 4096
	}
	if c.LiveSearchWindow == 0 {
		c.LiveSearchWindow = 1
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = 1
	}
	if c.QuietFlush == 0 {
		c.QuietFlush = 5 * time.Millisecond
	}
	if c.MaxBatchDelay == 0 {
		c.MaxBatchDelay = 50 * time.Millisecond
	}
	if c.RetryMinBackoff == 0 {
		c.RetryMinBackoff = 50 * time.Millisecond
	}
	if c.RetryMaxBackoff == 0 {
		c.RetryMaxBackoff = 5 * time.Second
	}
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.URL) == "" {
		errs = append(errs, errors.New("esdbstore: URL is required (EVENTSTORE_URL, e.g. esdb://localhost:2113?tls=false)"))
	}
	// A page must hold at least one event past the one it starts on: reads
	// of $all from a position include the event at that position.
	if c.ScanPageSize < 2 {
		errs = append(errs, fmt.Errorf("esdbstore: ScanPageSize %d must be at least 2", c.ScanPageSize))
	}
	if c.ReadAllScanLimit < c.ScanPageSize {
		errs = append(errs, fmt.Errorf("esdbstore: ReadAllScanLimit %d is below ScanPageSize %d", c.ReadAllScanLimit, c.ScanPageSize))
	}
	if c.LiveSearchWindow < 1 {
		errs = append(errs, fmt.Errorf("esdbstore: LiveSearchWindow %d must be at least 1", c.LiveSearchWindow))
	}
	if c.CheckpointInterval < 1 {
		errs = append(errs, fmt.Errorf("esdbstore: CheckpointInterval %d must be at least 1", c.CheckpointInterval))
	}
	if c.QuietFlush <= 0 {
		errs = append(errs, fmt.Errorf("esdbstore: QuietFlush %s must be positive", c.QuietFlush))
	}
	if c.MaxBatchDelay < c.QuietFlush {
		errs = append(errs, fmt.Errorf("esdbstore: MaxBatchDelay %s is below QuietFlush %s", c.MaxBatchDelay, c.QuietFlush))
	}
	if c.RetryMinBackoff <= 0 {
		errs = append(errs, fmt.Errorf("esdbstore: RetryMinBackoff %s must be positive", c.RetryMinBackoff))
	}
	if c.RetryMaxBackoff < c.RetryMinBackoff {
		errs = append(errs, fmt.Errorf("esdbstore: RetryMaxBackoff %s is below RetryMinBackoff %s", c.RetryMaxBackoff, c.RetryMinBackoff))
	}
	return errors.Join(errs...)
}

// Store is the KurrentDB event store. It is safe for concurrent use.
type Store struct {
	cfg    Config
	client *esdb.Client
	logger *slog.Logger
}

var _ eventstore.Store = (*Store)(nil)

// New parses the connection string and creates the client. It makes no
// network call: the client connects on first use, and every operation
// reports an unreachable server as its error.
func New(cfg Config, logger *slog.Logger) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conf, err := esdb.ParseConnectionString(cfg.URL)
	if err != nil {
		// The connection string may hold a password: do not echo it.
		return nil, fmt.Errorf("esdbstore: parse EVENTSTORE_URL: %w", errors.New(redact(err.Error(), cfg.URL)))
	}
	conf.Logger = clientLogger(logger)
	client, err := esdb.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("esdbstore: create client: %w", err)
	}
	return &Store{cfg: cfg, client: client, logger: logger}, nil
}

// Close closes the client's connections; subscriptions end with an error.
func (s *Store) Close() {
	if err := s.client.Close(); err != nil {
		s.logger.Warn("esdbstore: close client", "err", err)
	}
}

// redact removes the user info of url from msg.
func redact(msg, url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return msg
	}
	userinfo := url[scheme+3 : at]
	if userinfo == "" {
		return msg
	}
	return strings.ReplaceAll(msg, userinfo, "***")
}

// clientLogger routes the client's own log lines to slog at debug level for
// everything but errors: it logs every dropped subscription as an error,
// which this store handles by resubscribing.
func clientLogger(logger *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...interface{}) {
		lvl := slog.LevelDebug
		if level == esdb.LogWarn || level == esdb.LogError {
			lvl = slog.LevelInfo
		}
		logger.Log(context.Background(), lvl, "esdb client: "+fmt.Sprintf(format, args...))
	}
}

// toExpected maps the port's expected revision onto the client's.
func toExpected(e eventstore.ExpectedRevision) esdb.ExpectedRevision {
	if e.IsNoStream() {
		return esdb.NoStream{}
	}
	if rev, ok := e.Revision(); ok {
		return esdb.Revision(rev)
	}
	return esdb.Any{}
}

// toEventData checks the events and maps them onto the client's, refusing
// what the server would store but readers could not use.
func toEventData(stream string, events []eventstore.EventData) ([]esdb.EventData, error) {
	if len(events) == 0 {
		return nil, domain.Errorf(domain.ErrValidation, "esdbstore: append to %q: no events", stream)
	}
	var problems []string
	if !validText(stream) {
		problems = append(problems, "stream id must be non-empty UTF-8 text without NUL")
	} else if strings.HasPrefix(stream, "$") {
		problems = append(problems, "stream ids starting with $ are KurrentDB system streams")
	}
	seen := make(map[uuid.UUID]bool, len(events))
	out := make([]esdb.EventData, len(events))
	for i, e := range events {
		if e.ID == uuid.Nil {
			problems = append(problems, fmt.Sprintf("event %d has no id", i))
		} else if seen[e.ID] {
			problems = append(problems, fmt.Sprintf("event id %s appears twice", e.ID))
		}
		seen[e.ID] = true
		if !validText(e.Type) {
			problems = append(problems, fmt.Sprintf("event %d: type must be non-empty UTF-8 text without NUL", i))
		} else if strings.HasPrefix(e.Type, "$") {
			problems = append(problems, fmt.Sprintf("event %d: types starting with $ are KurrentDB system events", i))
		}
		if !json.Valid(e.Data) {
			problems = append(problems, fmt.Sprintf("event %d (%s): data is not valid JSON", i, e.Type))
		}
		md, err := json.Marshal(e.Metadata)
		if err != nil {
			problems = append(problems, fmt.Sprintf("event %d: metadata: %v", i, err))
		}
		out[i] = esdb.EventData{
			EventID:     e.ID,
			EventType:   e.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        e.Data,
			Metadata:    md,
		}
	}
	if len(problems) > 0 {
		return nil, domain.Errorf(domain.ErrValidation, "esdbstore: append to %q: %s", stream, strings.Join(problems, "; "))
	}
	return out, nil
}

func validText(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// errorCode is the client's classification of err, if it has one.
func errorCode(err error) (esdb.ErrorCode, bool) {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return esdb.ErrorCodeUnknown, false
}

// mapError turns a client error into the port's errors; op and stream say
// what failed.
func mapError(op, stream string, expected eventstore.ExpectedRevision, err error) error {
	code, _ := errorCode(err)
	return mapCode(code, op, stream, expected, err)
}

// mapCode is mapError for an error the client classified as code.
func mapCode(code esdb.ErrorCode, op, stream string, expected eventstore.ExpectedRevision, err error) error {
	switch code {
	case esdb.ErrorCodeWrongExpectedVersion:
		// The client's message carries the stream's actual revision.
		return fmt.Errorf("%w: %s %q expecting %s: %w", eventstore.ErrWrongExpectedRevision, op, stream, expected, err)
	case esdb.ErrorCodeStreamDeleted:
		return fmt.Errorf("%w: %s %q: %w", eventstore.ErrStreamDeleted, op, stream, err)
	case esdb.ErrorCodeResourceNotFound:
		return fmt.Errorf("%w: %s %q", eventstore.ErrStreamNotFound, op, stream)
	default:
		return fmt.Errorf("esdbstore: %s %q: %w", op, stream, err)
	}
}

// Append writes events at the end of stream if expected holds. The event ids
// are the caller's: the server treats a re-append of ids already at the
// expected place as done and writes nothing.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	data, err := toEventData(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := s.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: toExpected(expected)}, data...)
	if err != nil {
		return eventstore.AppendResult{}, mapError("append to", stream, expected, err)
	}
	out := eventstore.AppendResult{NextExpectedRevision: res.NextExpectedVersion, Position: res.CommitPosition}
	if res.CommitPosition == 0 || res.CommitPosition == noPosition {
		// The server answers some idempotent re-appends without a
		// position: the stream's event at the reported revision has it.
		evs, err := s.ReadStream(ctx, stream, res.NextExpectedVersion, 1)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("esdbstore: append to %q: look up the position of revision %d: %w", stream, res.NextExpectedVersion, err)
		}
		if len(evs) != 1 {
			return eventstore.AppendResult{}, fmt.Errorf("esdbstore: append to %q: revision %d reported but not readable", stream, res.NextExpectedVersion)
		}
		out.Position = evs[0].Position
	}
	return out, nil
}

// ReadStream reads up to limit events of stream forward from revision from.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.ErrValidation, "esdbstore: read stream %q: max %d must be at least 1", stream, limit)
	}
	return s.readStream(ctx, "read stream", stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}, limit)
}

// ReadStreamTail reads the last limit events of stream, in forward order:
// a backward read from the end, reversed.
func (s *Store) ReadStreamTail(ctx context.Context, stream string, limit int) ([]eventstore.RecordedEvent, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.ErrValidation, "esdbstore: read stream tail %q: max %d must be at least 1", stream, limit)
	}
	out, err := s.readStream(ctx, "read stream tail", stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, limit)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
	}
	slices.Reverse(out)
	return out, nil
}

func (s *Store) readStream(ctx context.Context, op, stream string, opts esdb.ReadStreamOptions, limit int) ([]eventstore.RecordedEvent, error) {
	rs, err := s.client.ReadStream(ctx, stream, opts, uint64(limit))
	if err != nil {
		return nil, mapError(op, stream, eventstore.Any(), err)
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, mapError(op, stream, eventstore.Any(), err)
		}
		rec, err := toRecorded(ev)
		if err != nil {
			return nil, fmt.Errorf("esdbstore: %s %q: %w", op, stream, err)
		}
		out = append(out, rec)
	}
}

// isSystem reports whether a recorded event is KurrentDB's own (statistics,
// stream metadata, projections' links...), never part of the port's log.
func isSystem(e *esdb.RecordedEvent) bool {
	return strings.HasPrefix(e.EventType, "$") || strings.HasPrefix(e.StreamID, "$")
}

// toRecorded maps a read or delivered event onto the port's.
func toRecorded(ev *esdb.ResolvedEvent) (eventstore.RecordedEvent, error) {
	e := ev.OriginalEvent()
	if e == nil {
		return eventstore.RecordedEvent{}, errors.New("a resolved event without an event")
	}
	pos, err := encodePosition(e.Position)
	if err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("event %s: %w", e.EventID, err)
	}
	var md eventstore.Metadata
	if len(e.UserMetadata) > 0 {
		if err := json.Unmarshal(e.UserMetadata, &md); err != nil {
			return eventstore.RecordedEvent{}, fmt.Errorf("event %s of %q: metadata is not the port's JSON: %w", e.EventID, e.StreamID, err)
		}
	}
	return eventstore.RecordedEvent{
		ID:         e.EventID,
		StreamID:   e.StreamID,
		Revision:   e.EventNumber,
		Position:   pos,
		Type:       e.EventType,
		Data:       json.RawMessage(e.Data),
		Metadata:   md,
		RecordedAt: e.CreatedDate,
	}, nil
}

// Head is the position of the newest non-system event of $all (0 when
// there is none among the newest few: KurrentDB writes statistics events of
// its own every few seconds, and the port's log does not include them).
func (s *Store) Head(ctx context.Context) (uint64, error) {
	const look = 64
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, look)
	if err != nil {
		return 0, fmt.Errorf("esdbstore: head: %w", err)
	}
	defer rs.Close()
	var newest uint64
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			// Only system events among the newest: their position is still
			// a head subscribers' checkpoints reach (checkpoints pass them).
			return newest, nil
		}
		if err != nil {
			return 0, fmt.Errorf("esdbstore: head: %w", err)
		}
		e := ev.OriginalEvent()
		pos, err := encodePosition(e.Position)
		if err != nil {
			return 0, fmt.Errorf("esdbstore: head: %w", err)
		}
		if !isSystem(e) {
			return pos, nil
		}
		if newest == 0 {
			newest = pos
		}
	}
}

// ReadAll reads up to limit events of $all after position after that pass
// filter. $all cannot be filtered server-side on reads with this client, so
// it filters here; Checkpoint is the last event scanned, so a filtered
// reader advances even when nothing matches.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int, filter eventstore.Filter) (eventstore.Batch, error) {
	if limit < 1 {
		return eventstore.Batch{}, domain.Errorf(domain.ErrValidation, "esdbstore: read all: max %d must be at least 1", limit)
	}
	b, _, _, err := scan(ctx, clientSource{s.client}, cursorAt(after), limit, s.cfg.ScanPageSize, s.cfg.ReadAllScanLimit, filter)
	if err != nil {
		return eventstore.Batch{}, fmt.Errorf("esdbstore: read all after %d: %w", after, err)
	}
	return b, nil
}

// cursor is a place in $all: the port's position and the server's full pair
// it came from (synthesised for a position read from a checkpoint).
type cursor struct {
	pos  uint64
	full esdb.AllPosition
}

func cursorAt(pos uint64) cursor { return cursor{pos: pos, full: decodePosition(pos)} }

// scan reads $all forward from cur, keeping up to limit events that pass
// filter, scanning at most scanLimit events in pages of pageSize. It returns
// the batch (Checkpoint = the last event scanned, or cur's position), the
// cursor after it, and whether it reached the end of the log.
func scan(ctx context.Context, src source, cur cursor, limit, pageSize, scanLimit int, filter eventstore.Filter) (eventstore.Batch, cursor, bool, error) {
	b := eventstore.Batch{Checkpoint: cur.pos}
	scanned := 0
	for scanned < scanLimit {
		page, err := src.readAll(ctx, cur.full, pageSize)
		if err != nil {
			return eventstore.Batch{}, cur, false, err
		}
		for _, ev := range page {
			e := ev.OriginalEvent()
			pos, err := encodePosition(e.Position)
			if err != nil {
				return eventstore.Batch{}, cur, false, permanent(err)
			}
			if pos <= cur.pos {
				// A read of $all from a position includes the event there.
				continue
			}
			scanned++
			cur = cursor{pos: pos, full: e.Position}
			b.Checkpoint = pos
			if isSystem(e) || !filter.Matches(e.StreamID, e.EventType) {
				continue
			}
			rec, err := toRecorded(ev)
			if err != nil {
				return eventstore.Batch{}, cur, false, permanent(err)
			}
			b.Events = append(b.Events, rec)
			if len(b.Events) == limit {
				return b, cur, false, nil
			}
		}
		if len(page) < pageSize {
			return b, cur, true, nil
		}
	}
	return b, cur, false, nil
}
