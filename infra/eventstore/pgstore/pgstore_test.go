package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/eventstoretest"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
	"github.com/hustmusik/backend/infra/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newStore(t testing.TB, cfg pgstore.Config, pool *pgxpool.Pool) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(cfg, pool, quietLogger())
	if err != nil {
		t.Fatalf("pgstore.New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return newStore(t, pgstore.Config{}, pgtest.New(t))
	})
}

func TestConfigValidate(t *testing.T) {
	valid := pgstore.Config{MaxBatchEvents: 1, QueueSize: 1, AppendTimeout: time.Second, PollInterval: time.Second,
		RetryMinBackoff: time.Millisecond, RetryMaxBackoff: time.Millisecond}
	for _, tc := range []struct {
		name   string
		change func(*pgstore.Config)
		want   []string
	}{
		{"valid", func(*pgstore.Config) {}, nil},
		{"negative batch", func(c *pgstore.Config) { c.MaxBatchEvents = -1 }, []string{"MaxBatchEvents"}},
		{"several problems at once", func(c *pgstore.Config) {
			c.QueueSize, c.PollInterval, c.AppendTimeout = -1, -time.Second, -time.Second
		}, []string{"QueueSize", "PollInterval", "AppendTimeout"}},
		{"backoff bounds crossed", func(c *pgstore.Config) { c.RetryMaxBackoff = time.Microsecond }, []string{"RetryMaxBackoff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.change(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	if _, err := pgstore.New(pgstore.Config{}, nil, nil); err == nil {
		t.Fatal("New without a pool succeeded")
	}
}

func req(ctx context.Context, stream string, expected eventstore.ExpectedRevision, evs []eventstore.EventData) pgstore.BatchRequest {
	return pgstore.BatchRequest{Ctx: ctx, Stream: stream, Expected: expected, Events: evs}
}

func event(eventType string, data string) eventstore.EventData {
	return eventstore.EventData{
		ID:       uuid.New(),
		Type:     eventType,
		Data:     json.RawMessage(data),
		Metadata: eventstore.Metadata{OccurredAt: time.Now().UTC(), SchemaVersion: 1},
	}
}

// checkGapFree asserts the log holds exactly positions 1..head.
func checkGapFree(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var n, maxPos int64
	if err := pool.QueryRow(context.Background(), `SELECT count(*), coalesce(max(position), 0) FROM events`).Scan(&n, &maxPos); err != nil {
		t.Fatal(err)
	}
	if n != maxPos {
		t.Fatalf("%d events but head %d: the log has gaps", n, maxPos)
	}
	return n
}

// TestPositionsAreGapFreeAndCommitOrdered is the sequence-gap trap: many
// concurrent writers, while a reader and a subscriber require every position
// to follow the previous one exactly. A position p+1 visible before p would
// show as a gap to them.
func TestPositionsAreGapFreeAndCommitOrdered(t *testing.T) {
	pool := pgtest.New(t)
	s := newStore(t, pgstore.Config{}, pool)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Half the writers go through a second store on its own pool, as a
	// second process would: only the database lock orders the two.
	otherPool, err := postgres.Connect(ctx, pool.Config().ConnString(), 10)
	if err != nil {
		t.Fatal(err)
	}
	defer otherPool.Close()
	stores := []*pgstore.Store{s, newStore(t, pgstore.Config{MaxBatchEvents: 7}, otherPool)}

	const writers, appends = 16, 100
	var (
		total   atomic.Int64
		writing = make(chan struct{})
	)
	sub, err := s.Subscribe(ctx, 0, eventstore.Filter{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	subDone := make(chan error, 1)
	var subSeen atomic.Int64
	go func() {
		var last uint64
		for b := range sub.Batches() {
			for _, e := range b.Events {
				if e.Position != last+1 {
					subDone <- fmt.Errorf("subscriber: position %d after %d", e.Position, last)
					return
				}
				last = e.Position
			}
			subSeen.Store(int64(last))
		}
		subDone <- sub.Err()
	}()
	readerDone := make(chan error, 1)
	go func() {
		var pos uint64
		finished := false
		for {
			b, err := s.ReadAll(ctx, pos, 300, eventstore.Filter{})
			if err != nil {
				readerDone <- err
				return
			}
			for _, e := range b.Events {
				if e.Position != pos+1 {
					readerDone <- fmt.Errorf("reader: position %d after %d", e.Position, pos)
					return
				}
				pos = e.Position
			}
			if finished && int64(pos) == total.Load() {
				readerDone <- nil
				return
			}
			if len(b.Events) == 0 {
				time.Sleep(time.Millisecond)
			}
			select {
			case <-writing:
				finished = true
			default:
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < appends; i++ {
				// Some streams are shared between writers, some private.
				stream := fmt.Sprintf("listens-%d", w)
				if i%4 == 0 {
					stream = fmt.Sprintf("shared-%d", i%3)
				}
				evs := make([]eventstore.EventData, 1+(w+i)%3)
				for j := range evs {
					evs[j] = event("ListenRecorded", fmt.Sprintf(`{"w":%d,"i":%d,"j":%d}`, w, i, j))
				}
				if _, err := stores[w%2].Append(ctx, stream, eventstore.Any(), evs...); err != nil {
					errs <- err
					return
				}
				total.Add(int64(len(evs)))
			}
		}()
	}
	wg.Wait()
	close(writing)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); subSeen.Load() < total.Load(); {
		if time.Now().After(deadline) {
			t.Fatalf("subscriber reached %d of %d", subSeen.Load(), total.Load())
		}
		select {
		case err := <-subDone:
			t.Fatalf("subscriber stopped: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-subDone; err != nil {
		t.Fatal(err)
	}
	if n := checkGapFree(t, pool); n != total.Load() {
		t.Fatalf("%d events stored, %d appended", n, total.Load())
	}
	// Per stream, revisions are gap-free too and follow position order.
	var bad int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM (
		SELECT stream_revision, row_number() OVER (PARTITION BY stream_id ORDER BY position) - 1 AS expected
		FROM events) x WHERE stream_revision <> expected`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d events whose stream revision does not follow position order", bad)
	}
}

// TestBatchDecidesEachRequestAlone runs one hand-made group-commit batch:
// each request is decided on its own, in arrival order, against the
// revisions the earlier requests of the batch leave.
func TestBatchDecidesEachRequestAlone(t *testing.T) {
	pool := pgtest.New(t)
	s := newStore(t, pgstore.Config{}, pool)
	ctx := context.Background()
	existing := "user-existing"
	if _, err := s.Append(ctx, existing, eventstore.NoStream(), event("UserRegistered", `{}`)); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	e1, e2, e3, e4 := event("A", `{"n":1}`), event("A", `{"n":2}`), event("A", `{"n":3}`), event("A", `{"n":4}`)
	reqs := []pgstore.BatchRequest{
		req(ctx, "s1", eventstore.NoStream(), []eventstore.EventData{e1, e2}),                        // 0: ok, revisions 0-1
		req(ctx, "s1", eventstore.Exact(1), []eventstore.EventData{e3}),                              // 1: ok against the batch's own revision
		req(ctx, "s1", eventstore.Exact(1), []eventstore.EventData{e4}),                              // 2: stale now
		req(ctx, existing, eventstore.NoStream(), []eventstore.EventData{event("B", `{}`)}),          // 3: stream exists
		req(ctx, "s3", eventstore.Any(), []eventstore.EventData{event("C", `{"x":"\u0000"}`)}),       // 4: jsonb refuses NUL
		req(cancelled, "s4", eventstore.NoStream(), []eventstore.EventData{event("D", `{}`)}),        // 5: caller gave up
		req(ctx, "s5", eventstore.NoStream(), []eventstore.EventData{e1}),                            // 6: id already in s1
		req(ctx, "s1", eventstore.NoStream(), []eventstore.EventData{e1, e2}),                        // 7: a retry of 0
		req(ctx, "s6", eventstore.Any(), []eventstore.EventData{event("E", `{}`), event("E", `[]`)}), // 8: ok
		req(ctx, "s7", eventstore.Any(), nil),                                                        // 9: nothing to append
	}
	results, errs := s.CommitBatch(reqs)

	check := func(i int, wantErr error) {
		t.Helper()
		if wantErr == nil {
			if errs[i] != nil {
				t.Errorf("request %d: %v", i, errs[i])
			}
			return
		}
		if !errors.Is(errs[i], wantErr) {
			t.Errorf("request %d: err = %v, want %v", i, errs[i], wantErr)
		}
	}
	check(0, nil)
	check(1, nil)
	check(2, eventstore.ErrWrongExpectedRevision)
	check(3, eventstore.ErrWrongExpectedRevision)
	if errs[4] == nil {
		t.Error("request 4 with a NUL in its data succeeded")
	}
	check(5, context.Canceled)
	check(6, domain.ErrConflict)
	check(7, nil)
	check(8, nil)
	check(9, domain.ErrValidation)
	if results[0].NextExpectedRevision != 1 || results[1].NextExpectedRevision != 2 {
		t.Errorf("revisions %d and %d, want 1 and 2", results[0].NextExpectedRevision, results[1].NextExpectedRevision)
	}
	if results[7] != results[0] {
		t.Errorf("retry answered %+v, the original %+v", results[7], results[0])
	}
	if results[1].Position != results[0].Position+1 {
		t.Errorf("positions %d then %d within one batch", results[0].Position, results[1].Position)
	}

	for stream, want := range map[string]int{"s1": 3, existing: 1, "s3": 0, "s4": 0, "s5": 0, "s6": 2} {
		got, err := s.ReadStream(ctx, stream, 0, 100)
		if want == 0 {
			if !errors.Is(err, eventstore.ErrStreamNotFound) {
				t.Errorf("stream %s: %d events, err %v; want none", stream, len(got), err)
			}
			continue
		}
		if err != nil || len(got) != want {
			t.Errorf("stream %s: %d events, err %v; want %d", stream, len(got), err, want)
		}
	}
	checkGapFree(t, pool)
}

// TestFailedCommitWritesNothing makes the commit itself fail (a deferred
// constraint trigger that refuses one event): every caller of the batch
// gets the error, nothing of it is in the log, and positions stay gap-free.
func TestFailedCommitWritesNothing(t *testing.T) {
	pool := pgtest.New(t)
	s := newStore(t, pgstore.Config{}, pool)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `
		CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.event_type = 'FailAtCommit' THEN RAISE EXCEPTION 'refused at commit'; END IF;
			RETURN NULL;
		END $$;
		CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON events
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit();`); err != nil {
		t.Fatal(err)
	}
	before, err := s.Append(ctx, "before", eventstore.NoStream(), event("Fine", `{}`))
	if err != nil {
		t.Fatal(err)
	}
	good := event("Fine", `{"n":1}`)
	_, errs := s.CommitBatch([]pgstore.BatchRequest{
		req(ctx, "good", eventstore.NoStream(), []eventstore.EventData{good}),
		req(ctx, "bad", eventstore.NoStream(), []eventstore.EventData{event("FailAtCommit", `{}`)}),
	})
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "refused at commit") {
			t.Errorf("request %d: err = %v, want the commit's error", i, err)
		}
	}
	for _, stream := range []string{"good", "bad"} {
		if _, err := s.ReadStream(ctx, stream, 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Errorf("stream %s after the failed commit: err = %v, want ErrStreamNotFound", stream, err)
		}
	}
	// The caller retries: written now, at the next position.
	res, err := s.Append(ctx, "good", eventstore.NoStream(), good)
	if err != nil {
		t.Fatal(err)
	}
	if res.Position != before.Position+1 || res.NextExpectedRevision != 0 {
		t.Fatalf("retry landed at position %d revision %d, want %d and 0", res.Position, res.NextExpectedRevision, before.Position+1)
	}
	checkGapFree(t, pool)
}

func TestAppendWithEndedContextWritesNothing(t *testing.T) {
	s := newStore(t, pgstore.Config{}, pgtest.New(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, "song-1", eventstore.NoStream(), event("SongAdded", `{}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := s.ReadStream(context.Background(), "song-1", 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("err = %v, want ErrStreamNotFound", err)
	}
}

func TestAppendValidation(t *testing.T) {
	s := newStore(t, pgstore.Config{}, pgtest.New(t))
	ctx := context.Background()
	dup := event("A", `{}`)
	for _, tc := range []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"no stream id", "", []eventstore.EventData{event("A", `{}`)}},
		{"NUL in stream id", "a\x00b", []eventstore.EventData{event("A", `{}`)}},
		{"no event type", "s", []eventstore.EventData{event("", `{}`)}},
		{"data not JSON", "s", []eventstore.EventData{event("A", `{nope`)}},
		{"no data", "s", []eventstore.EventData{event("A", ``)}},
		{"nil event id", "s", []eventstore.EventData{{Type: "A", Data: json.RawMessage(`{}`)}}},
		{"same id twice", "s", []eventstore.EventData{dup, dup}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Append(ctx, tc.stream, eventstore.Any(), tc.events...); !errors.Is(err, domain.ErrValidation) {
				t.Fatalf("err = %v, want ErrValidation", err)
			}
		})
	}
	if h, err := s.Head(ctx); err != nil || h != 0 {
		t.Fatalf("head %d, err %v after refused appends", h, err)
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	pool := pgtest.New(t)
	s := newStore(t, pgstore.Config{}, pool)
	ctx := context.Background()
	if _, err := s.Append(ctx, "user-1", eventstore.NoStream(), event("UserRegistered", `{"name":"Mỹ Tâm"}`)); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE events SET data = '{"name":"someone else"}'`,
		`DELETE FROM events`,
		`TRUNCATE events`,
	} {
		if _, err := pool.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
	got, err := s.ReadStream(ctx, "user-1", 0, 10)
	if err != nil || len(got) != 1 || !strings.Contains(string(got[0].Data), "Mỹ Tâm") {
		t.Fatalf("after the refused changes: %v, %v", got, err)
	}
}

// TestSubscriptionSurvivesTerminatedConnections kills every server
// connection of the database, the subscription's and the listener's
// included, between rounds of appends made by another store (as another
// process would). The subscriber polls only once an hour, so it depends on
// the listener coming back; it must see every event exactly once.
func TestSubscriptionSurvivesTerminatedConnections(t *testing.T) {
	pool := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reader := newStore(t, pgstore.Config{PollInterval: time.Hour, RetryMinBackoff: 20 * time.Millisecond, RetryMaxBackoff: 200 * time.Millisecond}, pool)
	otherPool, err := postgres.Connect(ctx, pool.Config().ConnString(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer otherPool.Close()
	writer := newStore(t, pgstore.Config{}, otherPool)

	sub, err := reader.Subscribe(ctx, 0, eventstore.Filter{}, 7)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uuid.UUID]int{}
	var last uint64
	receive := func(want int) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for len(seen) < want {
			select {
			case b, ok := <-sub.Batches():
				if !ok {
					t.Fatalf("subscription closed: %v", sub.Err())
				}
				for _, e := range b.Events {
					if e.Position != last+1 {
						t.Fatalf("position %d after %d", e.Position, last)
					}
					last = e.Position
					seen[e.ID]++
					if seen[e.ID] > 1 {
						t.Fatalf("event %s delivered twice", e.ID)
					}
				}
			case <-timeout:
				t.Fatalf("received %d of %d events", len(seen), want)
			}
		}
	}

	admin, err := pgx.Connect(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	const rounds, perRound = 3, 20
	for round := 0; round < rounds; round++ {
		for i := 0; i < perRound; i++ {
			e := event("ListenRecorded", fmt.Sprintf(`{"round":%d,"i":%d}`, round, i))
			// The writer's pooled connections were killed too: retry, which
			// the event id makes idempotent.
			for attempt := 0; ; attempt++ {
				_, err := writer.Append(ctx, fmt.Sprintf("listens-%d", i%4), eventstore.Any(), e)
				if err == nil {
					break
				}
				if attempt == 20 {
					t.Fatalf("append after termination: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		receive((round + 1) * perRound)
		var killed int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM (
			SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()) x`).Scan(&killed); err != nil {
			t.Fatal(err)
		}
		if killed == 0 {
			t.Fatal("no connection was terminated")
		}
	}
	receive(rounds * perRound)
	if last != rounds*perRound {
		t.Fatalf("last position %d, want %d", last, rounds*perRound)
	}
}

// BenchmarkAppendParallel measures group commit: many concurrent callers,
// one small event per Append, each on its own stream.
func BenchmarkAppendParallel(b *testing.B) {
	pool := pgtest.New(b)
	s, err := pgstore.New(pgstore.Config{}, pool, quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var streams atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		stream := fmt.Sprintf("listens-%d", streams.Add(1))
		expected := eventstore.NoStream()
		for pb.Next() {
			res, err := s.Append(ctx, stream, expected, event("ListenRecorded", `{"song_id":"song-1","ms":180000}`))
			if err != nil {
				b.Error(err)
				return
			}
			expected = eventstore.Exact(res.NextExpectedRevision)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
