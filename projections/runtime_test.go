package projections

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

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
	"github.com/hustmusik/backend/infra/postgres"
)

// counter is a test read model: per stream, how many of its events were
// applied. An event applied twice, or lost, shows in the totals.
type counter struct {
	name   string
	table  string
	filter eventstore.Filter

	applies atomic.Int64 // Apply calls: one per transaction attempt
	// hook runs after the rows of a batch were written, in the same
	// transaction: its error makes Apply fail with the rows written.
	hook func(ctx context.Context, events []eventstore.RecordedEvent) error
}

func (c *counter) Name() string              { return c.name }
func (c *counter) Filter() eventstore.Filter { return c.filter }

func (c *counter) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	c.applies.Add(1)
	streams := make([]string, len(events))
	for i, e := range events {
		streams[i] = e.StreamID
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`
		INSERT INTO %[1]s (stream_id, n) SELECT s, count(*) FROM unnest($1::text[]) s GROUP BY s
		ON CONFLICT (stream_id) DO UPDATE SET n = %[1]s.n + excluded.n`, c.table), streams); err != nil {
		return err
	}
	if c.hook != nil {
		return c.hook(ctx, events)
	}
	return nil
}

func (c *counter) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "DELETE FROM "+c.table)
	return err
}

func newCounter(t *testing.T, pool *pgxpool.Pool, name, table string, types ...string) *counter {
	t.Helper()
	if _, err := pool.Exec(context.Background(),
		"CREATE TABLE IF NOT EXISTS "+table+" (stream_id text PRIMARY KEY, n bigint NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return &counter{name: name, table: table, filter: eventstore.Filter{EventTypes: types}}
}

// rows reads a counter table as a map.
func rows(t *testing.T, pool *pgxpool.Pool, table string) map[string]int64 {
	t.Helper()
	r, err := pool.Query(context.Background(), "SELECT stream_id, n FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	var (
		s string
		n int64
	)
	if _, err := pgx.ForEachRow(r, []any{&s, &n}, func() error { out[s] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func total(m map[string]int64) int64 {
	var sum int64
	for _, n := range m {
		sum += n
	}
	return sum
}

func checkpoint(t *testing.T, pool *pgxpool.Pool, name string) uint64 {
	t.Helper()
	var pos int64
	err := pool.QueryRow(context.Background(), "SELECT position FROM projection_checkpoints WHERE name = $1", name).Scan(&pos)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return uint64(pos)
}

func newStore(t *testing.T, pool *pgxpool.Pool) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(pgstore.Config{PollInterval: 50 * time.Millisecond}, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// appendEvents appends n events of type typ over 10 streams, 100 per append,
// and returns the position of the last one.
func appendEvents(t *testing.T, store eventstore.Store, n int, typ string) uint64 {
	t.Helper()
	var last uint64
	for done := 0; done < n; {
		chunk := min(100, n-done)
		events := make([]eventstore.EventData, chunk)
		for i := range events {
			events[i] = eventstore.EventData{
				ID: uuid.New(), Type: typ,
				Data:     json.RawMessage(fmt.Sprintf(`{"n":%d}`, done+i)),
				Metadata: eventstore.Metadata{OccurredAt: time.Now(), SchemaVersion: 1},
			}
		}
		res, err := store.Append(context.Background(), fmt.Sprintf("song-%d", done/100%10), eventstore.Any(), events...)
		if err != nil {
			t.Fatal(err)
		}
		done += chunk
		last = res.Position
	}
	return last
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// fast is a config whose retries and standby polls suit tests.
func fast(batch int) Config {
	return Config{
		BatchSize:         batch,
		MaxRetries:        2,
		InitialInterval:   5 * time.Millisecond,
		MaxInterval:       20 * time.Millisecond,
		LockRetryInterval: 100 * time.Millisecond,
		LockCheckInterval: 100 * time.Millisecond,
		NackDelay:         20 * time.Millisecond,
	}
}

// started runs rt until the test ends (or stop is called) and waits for it
// to run. stop cancels it and waits for Run to return.
func started(t *testing.T, rt *Runtime) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-rt.Running():
	case err := <-done:
		t.Fatalf("Run ended at once: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("runtime did not start")
	}
	return stop
}

func newRuntime(t *testing.T, cfg Config, pool *pgxpool.Pool, store eventstore.Store, ps ...Projector) *Runtime {
	t.Helper()
	rt, err := New(cfg, pool, store, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := rt.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

func waitFor(t *testing.T, rt *Runtime, pos uint64, types ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := rt.Wait(ctx, pos, types); err != nil {
		t.Fatalf("Wait(%d, %v): %v", pos, types, err)
	}
}

func TestCatchUpInBatchesAndKeepUpWithTheHead(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	all := newCounter(t, pool, "all_songs", "all_songs")
	listens := newCounter(t, pool, "listens", "listen_counts", "ListenRecorded")
	appendEvents(t, store, 4000, "SongAdded")
	appendEvents(t, store, 800, "ListenRecorded")
	head := appendEvents(t, store, 200, "SongAdded")

	rt := newRuntime(t, fast(500), pool, store, all, listens)
	started(t, rt)
	waitFor(t, rt, head)

	if got := total(rows(t, pool, "all_songs")); got != 5000 {
		t.Errorf("all_songs counted %d events, want 5000", got)
	}
	if got := total(rows(t, pool, "listen_counts")); got != 800 {
		t.Errorf("listen_counts counted %d events, want 800", got)
	}
	// 5,000 events in batches of 500: about ten transactions, not thousands.
	if n := all.applies.Load(); n < 10 || n > 30 {
		t.Errorf("all_songs applied in %d transactions, want about 10", n)
	}
	if n := listens.applies.Load(); n > 10 {
		t.Errorf("listens applied in %d transactions, want a few", n)
	}
	// The filtered projector's checkpoint passes the events it skips.
	for _, name := range []string{"all_songs", "listens"} {
		if got := checkpoint(t, pool, name); got != head {
			t.Errorf("checkpoint of %s = %d, want the head %d", name, got, head)
		}
	}

	// Live: new events are applied as they come.
	head = appendEvents(t, store, 30, "ListenRecorded")
	waitFor(t, rt, head, "ListenRecorded")
	if got := total(rows(t, pool, "listen_counts")); got != 830 {
		t.Errorf("listen_counts counted %d events after live appends, want 830", got)
	}

	st, err := rt.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Position != head || s.Head != head || s.LagEvents != 0 || !s.LagExact || s.LagSeconds != 0 || s.Parked != 0 {
			t.Errorf("status of caught-up %s = %+v", s.Name, s)
		}
	}
}

func TestCommitWritesRowsAndCheckpointTogether(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	head := appendEvents(t, store, 50, "SongAdded")
	batch, err := store.ReadAll(context.Background(), 0, 100, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	c := newCounter(t, pool, "atomic", "atomic_counts")
	c.hook = func(context.Context, []eventstore.RecordedEvent) error { return errors.New("fails after writing rows") }
	rt := newRuntime(t, fast(100), pool, store, c)
	r := rt.byName["atomic"]
	if _, err := rt.start(r)(context.Background()); err != nil {
		t.Fatal(err)
	}

	err = rt.commit(context.Background(), r, 0, batch.Events, batch.Checkpoint, nil)
	if err == nil || !strings.Contains(err.Error(), "fails after writing rows") {
		t.Fatalf("commit = %v, want the projector's error", err)
	}
	if got := rows(t, pool, "atomic_counts"); len(got) != 0 {
		t.Errorf("a failed Apply left rows: %v", got)
	}
	if got := checkpoint(t, pool, "atomic"); got != 0 {
		t.Errorf("a failed Apply moved the checkpoint to %d", got)
	}

	c.hook = nil
	if err := rt.commit(context.Background(), r, 0, batch.Events, batch.Checkpoint, nil); err != nil {
		t.Fatal(err)
	}
	if got := total(rows(t, pool, "atomic_counts")); got != 50 || checkpoint(t, pool, "atomic") != head {
		t.Errorf("after a good commit: %d rows counted, checkpoint %d; want 50 and %d", got, checkpoint(t, pool, "atomic"), head)
	}
	// Delivering the same batch again (a redelivery after a lost ack) is
	// refused by the checkpoint's compare-and-set: nothing applied twice.
	if err := rt.commit(context.Background(), r, 0, batch.Events, batch.Checkpoint, nil); !errors.Is(err, errFenced) {
		t.Errorf("second commit of one batch = %v, want errFenced", err)
	}
	if got := total(rows(t, pool, "atomic_counts")); got != 50 {
		t.Errorf("the refused commit left %d events counted, want 50", got)
	}
}

func TestTransientFailuresAreRetriedWithoutDuplicates(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	head := appendEvents(t, store, 1200, "SongAdded")
	c := newCounter(t, pool, "flaky", "flaky_counts")
	var calls atomic.Int64
	c.hook = func(context.Context, []eventstore.RecordedEvent) error {
		if calls.Add(1)%2 == 1 { // every batch fails once, rows written
			return errors.New("flaky")
		}
		return nil
	}
	rt := newRuntime(t, fast(300), pool, store, c)
	started(t, rt)
	waitFor(t, rt, head)
	if got := total(rows(t, pool, "flaky_counts")); got != 1200 {
		t.Errorf("counted %d events, want 1200: a failed attempt left rows", got)
	}
	st, err := rt.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Parked != 0 {
		t.Errorf("retried events were parked: %+v", st[0])
	}
}

func TestPoisonEventIsParkedAndTheProjectorGoesOn(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	appendEvents(t, store, 40, "SongAdded")
	batch, err := store.ReadAll(context.Background(), 0, 100, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	poison := batch.Events[17]
	head := batch.Events[len(batch.Events)-1].Position

	c := newCounter(t, pool, "poisoned", "poisoned_counts")
	var poisonTries atomic.Int64
	c.hook = func(_ context.Context, events []eventstore.RecordedEvent) error {
		for _, e := range events {
			if e.ID == poison.ID {
				poisonTries.Add(1)
				return fmt.Errorf("cannot apply event %d: poison", e.Position)
			}
		}
		return nil
	}
	rt := newRuntime(t, fast(500), pool, store, c)
	started(t, rt)
	waitFor(t, rt, head)

	if got := total(rows(t, pool, "poisoned_counts")); got != 39 {
		t.Errorf("counted %d events, want 39 (all but the parked one)", got)
	}
	// The batch's 3 attempts, then the event's own 3.
	if n := poisonTries.Load(); n != 6 {
		t.Errorf("poison event tried %d times, want 6", n)
	}
	var (
		id        uuid.UUID
		stream    string
		typ, msg  string
		attempts  int
		parkedPos int64
	)
	if err := pool.QueryRow(context.Background(), `
		SELECT position, event_id, stream_id, event_type, error, attempts FROM parked_events WHERE projector = 'poisoned'`).
		Scan(&parkedPos, &id, &stream, &typ, &msg, &attempts); err != nil {
		t.Fatalf("parked row: %v", err)
	}
	if uint64(parkedPos) != poison.Position || id != poison.ID || stream != poison.StreamID || typ != "SongAdded" ||
		!strings.Contains(msg, "poison") || attempts != 6 {
		t.Errorf("parked row = pos %d id %s stream %s type %s attempts %d error %q; want the poison event %d with its error",
			parkedPos, id, stream, typ, attempts, msg, poison.Position)
	}

	st, err := rt.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Parked != 1 || st[0].Position != head || st[0].LagEvents != 0 {
		t.Errorf("status = %+v, want Parked 1 at the head", st[0])
	}

	// Later events still flow.
	head = appendEvents(t, store, 5, "SongAdded")
	waitFor(t, rt, head)
	if got := total(rows(t, pool, "poisoned_counts")); got != 44 {
		t.Errorf("counted %d events after more appends, want 44", got)
	}
}

func TestCrashBetweenBatchesResumesWithoutDuplicates(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	head := appendEvents(t, store, 3000, "SongAdded")

	first := newCounter(t, pool, "crashy", "crashy_counts")
	ctx, crash := context.WithCancel(context.Background())
	var batches atomic.Int64
	first.hook = func(context.Context, []eventstore.RecordedEvent) error {
		if batches.Add(1) == 4 {
			crash() // mid catch-up: this batch may or may not commit
		}
		return nil
	}
	rt1 := newRuntime(t, fast(200), pool, store, first)
	done := make(chan error, 1)
	go func() { done <- rt1.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("first Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("first runtime did not stop after its context ended")
	}
	crashedAt := checkpoint(t, pool, "crashy")
	if crashedAt == 0 || crashedAt >= head {
		t.Fatalf("crashed at checkpoint %d: want it in the middle of 1..%d", crashedAt, head)
	}
	if got := uint64(total(rows(t, pool, "crashy_counts"))); got != crashedAt {
		t.Fatalf("after the crash %d events counted but checkpoint at %d", got, crashedAt)
	}

	second := newCounter(t, pool, "crashy", "crashy_counts")
	rt2 := newRuntime(t, fast(200), pool, store, second)
	started(t, rt2)
	waitFor(t, rt2, head)

	fresh := newCounter(t, pool, "crashy_replay", "crashy_replay_counts")
	reached, err := Replay(context.Background(), pool, store, fresh, 700)
	if err != nil {
		t.Fatal(err)
	}
	if reached != head {
		t.Errorf("Replay reached %d, want %d", reached, head)
	}
	got, want := rows(t, pool, "crashy_counts"), rows(t, pool, "crashy_replay_counts")
	if total(want) != 3000 || len(got) != len(want) {
		t.Fatalf("resumed read model %v, replayed %v", got, want)
	}
	for s, n := range want {
		if got[s] != n {
			t.Errorf("stream %s: resumed counts %d, replay counts %d", s, got[s], n)
		}
	}
}

func TestOneRunnerPerProjectorAcrossRuntimes(t *testing.T) {
	url := pgtest.URL(t)
	connect := func() *pgxpool.Pool {
		p, err := postgres.Connect(context.Background(), url, 10)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	poolA, poolB := connect(), connect() // two "processes"
	storeA, storeB := newStore(t, poolA), newStore(t, poolB)
	a := newCounter(t, poolA, "shared", "shared_counts")
	b := &counter{name: "shared", table: "shared_counts"}
	rtA := newRuntime(t, fast(100), poolA, storeA, a)
	rtB := newRuntime(t, fast(100), poolB, storeB, b)
	stopA := started(t, rtA)
	stopB := started(t, rtB)

	head := appendEvents(t, storeA, 1000, "SongAdded")
	// Each runtime waits for the projector, wherever it runs.
	waitFor(t, rtA, head)
	waitFor(t, rtB, head)
	if got := total(rows(t, poolA, "shared_counts")); got != 1000 {
		t.Fatalf("counted %d events, want 1000 (each applied exactly once)", got)
	}
	runner, standby, stopRunner, standbyRT := a, b, stopA, rtB
	if a.applies.Load() == 0 {
		runner, standby, stopRunner, standbyRT = b, a, stopB, rtA
	}
	if runner.applies.Load() == 0 || standby.applies.Load() != 0 {
		t.Fatalf("applies: %d and %d; want exactly one runtime to run the projector", a.applies.Load(), b.applies.Load())
	}

	stopRunner()
	head = appendEvents(t, storeB, 500, "SongAdded")
	waitFor(t, standbyRT, head)
	if got := total(rows(t, poolA, "shared_counts")); got != 1500 {
		t.Errorf("after the takeover counted %d events, want 1500", got)
	}
	if standby.applies.Load() == 0 {
		t.Error("the standby did not take over")
	}
}

func TestLockConnectionLossStopsAndResumes(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	c := newCounter(t, pool, "fragile", "fragile_counts")
	rt := newRuntime(t, fast(100), pool, store, c)
	started(t, rt)
	head := appendEvents(t, store, 300, "SongAdded")
	waitFor(t, rt, head)

	// Kill the session that holds the projector's lock: PostgreSQL releases
	// it, the runner notices, stands back, and takes the lock again.
	holder := func() int32 {
		k := uint64(lockKey("fragile"))
		var pid int32
		err := pool.QueryRow(context.Background(), `
			SELECT pid FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND classid::bigint = $1 AND objid::bigint = $2`,
			int64(k>>32), int64(k&0xffffffff)).Scan(&pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	old := holder()
	if old == 0 {
		t.Fatal("nobody holds the projector's lock")
	}
	if _, err := pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, old); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for pid := holder(); pid == 0 || pid == old; pid = holder() {
		if time.Now().After(deadline) {
			t.Fatal("the lock was not taken again after its connection died")
		}
		time.Sleep(20 * time.Millisecond)
	}
	head = appendEvents(t, store, 300, "SongAdded")
	waitFor(t, rt, head)
	if got := total(rows(t, pool, "fragile_counts")); got != 600 {
		t.Errorf("counted %d events, want 600", got)
	}
}

func TestWaitReadsYourWritesAndTimesOut(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	songs := newCounter(t, pool, "songs", "song_counts", "SongAdded")
	stuck := newCounter(t, pool, "stuck", "stuck_counts", "ListenRecorded")
	release := make(chan struct{})
	stuck.hook = func(ctx context.Context, _ []eventstore.RecordedEvent) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	rt := newRuntime(t, fast(100), pool, store, songs, stuck)
	started(t, rt)

	// 32 readers wait for a position that does not exist yet.
	next := appendEvents(t, store, 1, "SongAdded") + 1
	waitFor(t, rt, next-1, "SongAdded")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := rt.Wait(ctx, next, []string{"SongAdded"}); err != nil {
				errs <- err
				return
			}
			// Read-your-writes: once Wait returned, the read model has it.
			var n int64
			if err := pool.QueryRow(ctx, "SELECT coalesce(sum(n), 0) FROM song_counts").Scan(&n); err != nil {
				errs <- err
			} else if n != 2 {
				errs <- fmt.Errorf("after Wait the read model counts %d songs, want 2", n)
			}
		}()
	}
	if got := appendEvents(t, store, 1, "SongAdded"); got != next {
		t.Fatalf("appended at %d, want %d", got, next)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// A stuck projector: waiting for it ends with the caller's deadline,
	// while waiting for the others does not involve it.
	pos := appendEvents(t, store, 1, "ListenRecorded")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := rt.Wait(ctx, pos, []string{"ListenRecorded"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a stuck projector = %v, want deadline exceeded", err)
	}
	if err := rt.Wait(context.Background(), 0, nil); err != nil {
		t.Errorf("Wait(0) = %v", err)
	}
	waitFor(t, rt, pos, "SongAdded") // the songs projector passed it (filtered out)
	close(release)
	waitFor(t, rt, pos)
}

func TestRebuildReplaysFromScratch(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	c := newCounter(t, pool, "rebuilt", "rebuilt_counts")
	rt := newRuntime(t, fast(250), pool, store, c)
	started(t, rt)
	head := appendEvents(t, store, 1000, "SongAdded")
	waitFor(t, rt, head)
	before := c.applies.Load()

	if err := rt.Rebuild(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rt, head)
	if got := total(rows(t, pool, "rebuilt_counts")); got != 1000 {
		t.Errorf("after a rebuild counted %d events, want 1000", got)
	}
	if c.applies.Load() <= before {
		t.Error("the rebuild did not replay anything")
	}
	if _, err := Replay(context.Background(), pool, store, c, 100); err == nil {
		t.Error("Replay ran a projector that a runtime runs")
	}
}

func TestReadStatusWithoutRuntime(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	appendEvents(t, store, 20, "SongAdded")
	appendEvents(t, store, 10, "ListenRecorded")
	head := appendEvents(t, store, 5, "SongAdded")
	songs := &counter{name: "songs", filter: eventstore.Filter{EventTypes: []string{"SongAdded"}}}
	fresh := &counter{name: "fresh"}
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ('songs', 12, now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO parked_events (projector, position, event_id, stream_id, event_type, error, attempts, parked_at)
		VALUES ('songs', 3, $1, 'song-0', 'SongAdded', 'boom', 6, now())`, uuid.New()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // LagSeconds is the age of the oldest unapplied event

	st, err := ReadStatus(ctx, pool, store, []Projector{songs, fresh})
	if err != nil {
		t.Fatal(err)
	}
	// songs: positions 13..20 and 31..35 are SongAdded events it has not applied.
	want := []Status{
		{Name: "songs", Position: 12, Head: head, LagEvents: 13, LagExact: true, Parked: 1},
		{Name: "fresh", Position: 0, Head: head, LagEvents: 35, LagExact: true, Parked: 0},
	}
	for i, w := range want {
		g := st[i]
		if g.LagSeconds <= 0 || g.LagSeconds > 60 {
			t.Errorf("%s: LagSeconds = %v, want the age of an event appended just now", g.Name, g.LagSeconds)
		}
		g.LagSeconds = 0
		if g != w {
			t.Errorf("status = %+v, want %+v", g, w)
		}
	}
}

func TestLockKeyIsStable(t *testing.T) {
	// Golden values: a changed key would let two versions of the binary run
	// one projector side by side during a deploy.
	tests := []struct {
		name string
		want int64
	}{
		{"users", 6070699634267947761},
		{"song_counts", 7653066854589946631},
		{"", -5736286057691258565},
	}
	for _, tt := range tests {
		if got := lockKey(tt.name); got != tt.want {
			t.Errorf("lockKey(%q) = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestReadsAny(t *testing.T) {
	tests := []struct {
		filter, asked []string
		want          bool
	}{
		{nil, nil, true},
		{nil, []string{"SongAdded"}, true},
		{[]string{"SongAdded"}, nil, true},
		{[]string{"SongAdded", "SongRemoved"}, []string{"SongRemoved"}, true},
		{[]string{"SongAdded"}, []string{"ListenRecorded", "UserRegistered"}, false},
	}
	for _, tt := range tests {
		if got := readsAny(tt.filter, tt.asked); got != tt.want {
			t.Errorf("readsAny(%v, %v) = %v, want %v", tt.filter, tt.asked, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{}
	good.setDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := good
	bad.BatchSize, bad.MaxRetries, bad.PollInterval = -1, -2, -time.Second
	err := bad.Validate()
	for _, want := range []string{"BatchSize", "MaxRetries", "PollInterval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
	if _, err := New(Config{}, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "pool") || !strings.Contains(err.Error(), "store") {
		t.Errorf("New without pool and store = %v", err)
	}
}

// BenchmarkWait32Waiters measures one commit waking 32 readers that wait
// for it (the in-memory broadcast behind read-your-writes).
func BenchmarkWait32Waiters(b *testing.B) {
	p := newPositions()
	names := []string{"songs", "listens"}
	var pos uint64
	for b.Loop() {
		pos++
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.wait(context.Background(), names, pos); err != nil {
					b.Error(err)
				}
			}()
		}
		p.set("songs", pos)
		p.set("listens", pos)
		wg.Wait()
	}
}
