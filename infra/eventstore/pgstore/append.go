package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// appendRequest is one Append call waiting for the appender.
type appendRequest struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	metadata []string // events' metadata as JSON, marshalled by the caller's goroutine
	reply    chan appendReply
}

type appendReply struct {
	result eventstore.AppendResult
	err    error
}

// Append writes events at the end of stream if expected holds, all or
// nothing, through the group-commit appender.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	req, err := newAppendRequest(ctx, stream, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	select {
	case s.queue <- req:
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("pgstore: append to %q: %w", stream, ctx.Err())
	case <-s.stopped:
		return eventstore.AppendResult{}, ErrClosed
	}
	select {
	case rep := <-req.reply:
		return rep.result, rep.err
	case <-ctx.Done():
		// The batch may still commit; a retry with the same event IDs is
		// idempotent and tells.
		return eventstore.AppendResult{}, fmt.Errorf("pgstore: append to %q: outcome unknown: %w", stream, ctx.Err())
	case <-s.stopped:
		// The appender answers everything it took before it exits.
		select {
		case rep := <-req.reply:
			return rep.result, rep.err
		default:
			return eventstore.AppendResult{}, ErrClosed
		}
	}
}

// newAppendRequest checks what the database would otherwise reject for the
// whole batch, so that one caller's bad input fails that caller alone.
func newAppendRequest(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (*appendRequest, error) {
	if len(events) == 0 {
		return nil, domain.Errorf(domain.ErrValidation, "pgstore: append to %q: no events", stream)
	}
	var problems []string
	if !validText(stream) {
		problems = append(problems, "stream id must be non-empty UTF-8 text without NUL")
	}
	seen := make(map[uuid.UUID]bool, len(events))
	metadata := make([]string, len(events))
	for i, e := range events {
		if e.ID == uuid.Nil {
			problems = append(problems, fmt.Sprintf("event %d has no id", i))
		} else if seen[e.ID] {
			problems = append(problems, fmt.Sprintf("event id %s appears twice", e.ID))
		}
		seen[e.ID] = true
		if !validText(e.Type) {
			problems = append(problems, fmt.Sprintf("event %d: type must be non-empty UTF-8 text without NUL", i))
		}
		if !json.Valid(e.Data) {
			problems = append(problems, fmt.Sprintf("event %d (%s): data is not valid JSON", i, e.Type))
		}
		md, err := json.Marshal(e.Metadata)
		if err != nil {
			problems = append(problems, fmt.Sprintf("event %d: metadata: %v", i, err))
		}
		metadata[i] = string(md)
	}
	if len(problems) > 0 {
		return nil, domain.Errorf(domain.ErrValidation, "pgstore: append to %q: %s", stream, strings.Join(problems, "; "))
	}
	return &appendRequest{
		ctx:      ctx,
		stream:   stream,
		expected: expected,
		events:   events,
		metadata: metadata,
		reply:    make(chan appendReply, 1),
	}, nil
}

func validText(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// runAppender gathers queued requests into batches and commits each batch in
// one transaction, until Close.
func (s *Store) runAppender() {
	var carry *appendRequest
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-s.queue:
			case <-s.done:
				return
			}
		}
		batch, n := []*appendRequest{first}, len(first.events)
		yielded := false
	gather:
		for n < s.cfg.MaxBatchEvents {
			select {
			case r := <-s.queue:
				if n+len(r.events) > s.cfg.MaxBatchEvents {
					carry = r
					break gather
				}
				batch, n = append(batch, r), n+len(r.events)
			default:
				if yielded {
					break gather
				}
				// The callers just answered are about to append again:
				// let them run once, so the next batch carries them too
				// instead of leaving them for one more transaction.
				runtime.Gosched()
				yielded = true
			}
		}
		s.commitBatch(batch)
		select {
		case <-s.done:
			if carry != nil {
				carry.reply <- appendReply{err: ErrClosed}
			}
			return
		default:
		}
	}
}

// commitBatch writes a batch and answers every request in it.
func (s *Store) commitBatch(batch []*appendRequest) {
	live := batch[:0:0]
	for _, r := range batch {
		// A caller that gave up before its batch started is not written.
		if err := r.ctx.Err(); err != nil {
			r.reply <- appendReply{err: fmt.Errorf("pgstore: append to %q: %w", r.stream, err)}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	replies, err := s.writeBatch(live)
	if err != nil && len(live) > 1 && isolatable(err) {
		// One request's data broke the statement; which one is unknown, so
		// each is retried alone and only the culprit fails.
		for _, r := range live {
			rep, err := s.writeBatch([]*appendRequest{r})
			if err != nil {
				r.reply <- appendReply{err: err}
				continue
			}
			r.reply <- rep[0]
		}
		return
	}
	for i, r := range live {
		if err != nil {
			r.reply <- appendReply{err: err}
			continue
		}
		r.reply <- replies[i]
	}
}

// isolatable: the transaction failed on a statement because of some
// request's content (bad data, a violated constraint), not because of the
// connection or the commit.
func isolatable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")
}

// eventLocation is where an event id already sits in the log.
type eventLocation struct {
	stream   string
	revision int64
	position int64
}

// writeBatch runs one transaction for the batch: lock, read the streams'
// revisions and the already-present event ids, decide each request in
// arrival order, insert, commit. The returned error is the transaction's
// (every request failed); per-request refusals are in the replies.
func (s *Store) writeBatch(batch []*appendRequest) ([]appendReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.AppendTimeout)
	defer cancel()

	var streams, ids []string
	seenStream := map[string]bool{}
	for _, r := range batch {
		if !seenStream[r.stream] {
			seenStream[r.stream] = true
			streams = append(streams, r.stream)
		}
		for _, e := range r.events {
			ids = append(ids, e.ID.String())
		}
	}

	// The transaction is opened and closed by statements inside the two
	// pipelined batches below (BEGIN leads the first, COMMIT ends the
	// second) rather than by Begin and Commit, which would cost two more
	// round trips on the one path every append waits for.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgstore: append: acquire: %w", err)
	}
	defer conn.Release()
	open := true
	defer func() {
		if open {
			rollback(conn)
		}
	}()

	// Pipelined in one round trip. The lock comes first and the server runs
	// the statements in order, so the head and revisions below are read
	// (each statement takes a fresh READ COMMITTED snapshot) after the
	// previous holder of the lock has committed.
	pre := &pgx.Batch{}
	pre.Queue(`BEGIN`)
	// Custom plans, made for this batch's arrays and the tables as they
	// are now. After five executions the server may switch a prepared
	// statement to a generic plan and keep it until the table's statistics
	// are next analysed: a plan made while the log was small (a fresh
	// database filling up, as in every test and benchmark) joined the ids
	// below by a sequential scan of the whole log, 3 ms and growing, inside
	// the lock every append waits for. Planning anew costs tens of
	// microseconds.
	pre.Queue(`SET LOCAL plan_cache_mode = force_custom_plan`)
	pre.Queue(`SELECT pg_advisory_xact_lock($1)`, appendLockKey)
	pre.Queue(`SELECT coalesce(max(position), 0), clock_timestamp() FROM events`)
	// One index probe per stream, as a scalar subquery: with a join the
	// planner may prefer hashing a sequential scan of every stream.
	pre.Queue(`SELECT u.id, r.revision FROM unnest($1::text[]) AS u(id)
		CROSS JOIN LATERAL (SELECT (SELECT s.revision FROM streams s WHERE s.stream_id = u.id) AS revision) r
		WHERE r.revision IS NOT NULL`, streams)
	pre.Queue(`SELECT e.event_id::text, e.stream_id, e.stream_revision, e.position
		FROM unnest($1::uuid[]) AS u(id) JOIN events e ON e.event_id = u.id`, ids)
	br := conn.SendBatch(ctx, pre)
	var (
		head       int64
		recordedAt time.Time
		revisions  = map[string]int64{}
		existing   = map[uuid.UUID]eventLocation{}
	)
	for range 2 { // BEGIN, SET LOCAL
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, fmt.Errorf("pgstore: append: begin: %w", err)
		}
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("pgstore: append: lock: %w", err)
	}
	if err := br.QueryRow().Scan(&head, &recordedAt); err != nil {
		br.Close()
		return nil, fmt.Errorf("pgstore: append: head: %w", err)
	}
	rows, err := br.Query()
	if err == nil {
		var (
			id  string
			rev int64
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &rev}, func() error {
			revisions[id] = rev
			return nil
		})
	}
	if err != nil {
		br.Close()
		return nil, fmt.Errorf("pgstore: append: stream revisions: %w", err)
	}
	rows, err = br.Query()
	if err == nil {
		var (
			id  string
			loc eventLocation
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &loc.stream, &loc.revision, &loc.position}, func() error {
			u, err := uuid.Parse(id)
			if err != nil {
				return err
			}
			existing[u] = loc
			return nil
		})
	}
	if err != nil {
		br.Close()
		return nil, fmt.Errorf("pgstore: append: existing event ids: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("pgstore: append: %w", err)
	}

	// Decide every request against the revisions as the batch leaves them.
	var ins insertRows
	replies := make([]appendReply, len(batch))
	for i, r := range batch {
		cur, ok := revisions[r.stream]
		if !ok {
			cur = -1
		}
		if res, dup, err := idempotent(r, existing); dup {
			replies[i] = appendReply{result: res, err: err}
			continue
		}
		if err := checkExpected(r.stream, r.expected, cur); err != nil {
			replies[i] = appendReply{err: err}
			continue
		}
		for j, e := range r.events {
			head++
			cur++
			ins.add(head, r.stream, cur, e, r.metadata[j])
			existing[e.ID] = eventLocation{stream: r.stream, revision: cur, position: head}
		}
		revisions[r.stream] = cur
		replies[i] = appendReply{result: eventstore.AppendResult{NextExpectedRevision: uint64(cur), Position: uint64(head)}}
	}
	if len(ins.positions) == 0 {
		// Nothing to write (all refused or repeated): end the transaction
		// to release the lock.
		if _, err := conn.Exec(ctx, `COMMIT`); err != nil {
			return nil, fmt.Errorf("pgstore: append: commit: %w", err)
		}
		open = false
		return replies, nil
	}

	var upStreams []string
	var upRevisions []int64
	for _, st := range streams {
		if rev, ok := revisions[st]; ok {
			upStreams, upRevisions = append(upStreams, st), append(upRevisions, rev)
		}
	}
	write := &pgx.Batch{}
	write.Queue(`INSERT INTO events (position, stream_id, stream_revision, event_id, event_type, data, metadata, recorded_at)
		SELECT u.position, u.stream_id, u.stream_revision, u.event_id, u.event_type, u.data::jsonb, u.metadata::jsonb, $8
		FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::text[])
			AS u(position, stream_id, stream_revision, event_id, event_type, data, metadata)`,
		ins.positions, ins.streams, ins.revisions, ins.ids, ins.types, ins.data, ins.metadata, recordedAt)
	write.Queue(`INSERT INTO streams (stream_id, revision)
		SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (stream_id) DO UPDATE SET revision = EXCLUDED.revision`, upStreams, upRevisions)
	write.Queue(`SELECT pg_notify('`+notifyChannel+`', $1)`, strconv.FormatInt(head, 10))
	// Set before the notification can arrive, so that the listener knows it
	// for this store's own (see listen). Should the batch fail, that
	// listener may have passed over another process's notification as
	// this store's own: everyone is woken to re-read the database.
	s.ownHead.Store(uint64(head))
	committed := false
	defer func() {
		if !committed {
			s.hub.broadcast(true)
		}
	}()
	write.Queue(`COMMIT`)
	wr := conn.SendBatch(ctx, write)
	for range write.Len() - 1 {
		if _, err := wr.Exec(); err != nil {
			wr.Close()
			return nil, fmt.Errorf("pgstore: append: write: %w", err)
		}
	}
	// COMMIT of a transaction that failed answers ROLLBACK, not an error.
	tag, err := wr.Exec()
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("the transaction rolled back (%s)", tag)
	}
	if closeErr := wr.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: append: commit: %w", err)
	}
	open, committed = false, true
	// Subscriptions of this process need not wait for the notification's
	// round trip through the server, nor read back what was just written.
	s.recent.add(ins.recorded(recordedAt))
	s.hub.broadcast(false)
	return replies, nil
}

// rollback ends the transaction a failed batch left open on conn; a
// connection that cannot is closed (the server then rolls back), so the
// pool never hands out a connection inside a transaction.
func rollback(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, `ROLLBACK`); err != nil {
		conn.Conn().Close(ctx)
	}
}

// idempotent answers a request whose event ids are already in the log: the
// original result when all of them are in its stream (a retried request),
// an error when some are elsewhere or only some are present.
func idempotent(r *appendRequest, existing map[uuid.UUID]eventLocation) (eventstore.AppendResult, bool, error) {
	var (
		found int
		last  eventLocation
	)
	for _, e := range r.events {
		loc, ok := existing[e.ID]
		if !ok {
			continue
		}
		found++
		if loc.stream != r.stream {
			return eventstore.AppendResult{}, true, domain.Errorf(domain.ErrConflict,
				"pgstore: append to %q: event %s is already in stream %q", r.stream, e.ID, loc.stream)
		}
		if loc.position > last.position {
			last = loc
		}
	}
	switch {
	case found == 0:
		return eventstore.AppendResult{}, false, nil
	case found < len(r.events):
		return eventstore.AppendResult{}, true, domain.Errorf(domain.ErrConflict,
			"pgstore: append to %q: %d of its %d events are already in the stream, the others not", r.stream, found, len(r.events))
	default:
		return eventstore.AppendResult{NextExpectedRevision: uint64(last.revision), Position: uint64(last.position)}, true, nil
	}
}

// checkExpected compares expected with the stream's current revision (-1:
// no stream).
func checkExpected(stream string, expected eventstore.ExpectedRevision, cur int64) error {
	ok := true
	switch rev, exact := expected.Revision(); {
	case expected.IsNoStream():
		ok = cur == -1
	case exact:
		ok = cur >= 0 && uint64(cur) == rev
	}
	if ok {
		return nil
	}
	actual := "no stream"
	if cur >= 0 {
		actual = fmt.Sprintf("revision %d", cur)
	}
	return fmt.Errorf("%w: stream %q: expected %s, actual %s", eventstore.ErrWrongExpectedRevision, stream, expected, actual)
}

// insertRows are the columns of a batch's new events, as arrays for unnest.
type insertRows struct {
	positions []int64
	streams   []string
	revisions []int64
	ids       []string
	types     []string
	data      []string
	metadata  []string
	events    []eventstore.EventData
}

func (in *insertRows) add(position int64, stream string, revision int64, e eventstore.EventData, metadata string) {
	in.positions = append(in.positions, position)
	in.streams = append(in.streams, stream)
	in.revisions = append(in.revisions, revision)
	in.ids = append(in.ids, e.ID.String())
	in.types = append(in.types, e.Type)
	in.data = append(in.data, string(e.Data))
	in.metadata = append(in.metadata, metadata)
	in.events = append(in.events, e)
}

// recorded is the rows as ReadAll would read them back, but for the JSON
// of their data, which the database stores as jsonb (the same values, keys
// reordered and spaces dropped). Metadata is decoded from the JSON written,
// as ReadAll decodes it.
func (in *insertRows) recorded(at time.Time) []eventstore.RecordedEvent {
	out := make([]eventstore.RecordedEvent, 0, len(in.positions))
	for i, e := range in.events {
		var md eventstore.Metadata
		if err := gojson.Unmarshal([]byte(in.metadata[i]), &md); err != nil {
			// Marshalled by newAppendRequest a moment ago: cannot happen.
			// Subscriptions then read the database.
			return nil
		}
		out = append(out, eventstore.RecordedEvent{
			ID:         e.ID,
			StreamID:   in.streams[i],
			Revision:   uint64(in.revisions[i]),
			Position:   uint64(in.positions[i]),
			Type:       e.Type,
			Data:       e.Data,
			Metadata:   md,
			RecordedAt: at,
		})
	}
	return out
}
