package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// tabled is the counter test read model, declaring its table so that it
// can be rebuilt blue/green.
type tabled struct{ *counter }

func (t tabled) Tables() []string { return []string{t.table} }

func schemaExists(t *testing.T, pool *pgxpool.Pool, name string) bool {
	t.Helper()
	var ok bool
	if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func indexNames(t *testing.T, pool *pgxpool.Pool, table string) map[string]bool {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1`, table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[n] = true
	}
	return out
}

// TestRebuildBlueGreenSwapsWhileReadersReadAndWritersWrite rebuilds a read
// model kept current by a running runtime while readers query it and events
// keep arriving: no reader ever sees fewer rows or events than before, the
// rebuilt table counts every event once, keeps its index names, and the
// runner goes on from the swapped checkpoint.
func TestRebuildBlueGreenSwapsWhileReadersReadAndWritersWrite(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	ctx := context.Background()
	appendEvents(t, store, 3000, "SongAdded")
	c := newCounter(t, pool, "bluegreen", "bg_counts", "SongAdded")
	if _, err := pool.Exec(ctx, `CREATE INDEX bg_counts_n_idx ON bg_counts (n)`); err != nil {
		t.Fatal(err)
	}
	p := tabled{c}
	rt := newRuntime(t, fast(200), pool, store, p)
	started(t, rt)
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, rt, head)

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	errc := make(chan error, 4)
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var last int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				var rowsN, sum int64
				if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(n), 0) FROM bg_counts`).Scan(&rowsN, &sum); err != nil {
					errc <- fmt.Errorf("read during rebuild: %w", err)
					return
				}
				if rowsN != 10 || sum < 3000 || sum < last {
					errc <- fmt.Errorf("a reader saw %d rows, %d events (before: %d): an empty, partial or older table", rowsN, sum, last)
					return
				}
				last = sum
				reads.Add(1)
			}
		}()
	}
	var appended atomic.Int64
	appended.Store(3000)
	readers.Add(1)
	go func() { // writers keep the live runner busy during the rebuild
		defer readers.Done()
		for i := 0; i < 10; i++ {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
			}
			appendEvents(t, store, 50, "SongAdded")
			appended.Add(50)
		}
	}()

	var phases []string
	pos, err := RebuildBlueGreen(ctx, pool, store, p, RebuildConfig{BatchSize: 100, ProgressInterval: time.Nanosecond,
		Progress: func(pr RebuildProgress) {
			if len(phases) == 0 || phases[len(phases)-1] != pr.Phase {
				phases = append(phases, pr.Phase)
			}
		}})
	time.Sleep(100 * time.Millisecond) // reads after the swap too
	close(stop)
	readers.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if reads.Load() == 0 {
		t.Fatal("no read ran during the rebuild")
	}
	if fmt.Sprint(phases) != "[copy catch-up swapped]" {
		t.Errorf("phases %v", phases)
	}
	if cp := checkpoint(t, pool, "bluegreen"); cp < pos {
		t.Errorf("checkpoint %d after the swap, want at least %d", cp, pos)
	}
	head = appendEvents(t, store, 7, "SongAdded")
	waitFor(t, rt, head)
	if got, want := total(rows(t, pool, "bg_counts")), appended.Load()+7; got != want || want <= 3007 {
		t.Errorf("after the rebuild the read model counts %d events, want %d (each once, some appended during the rebuild)", got, want)
	}
	if idx := indexNames(t, pool, "bg_counts"); !idx["bg_counts_pkey"] || !idx["bg_counts_n_idx"] || len(idx) != 2 {
		t.Errorf("indexes after the swap: %v, want bg_counts_pkey and bg_counts_n_idx", idx)
	}
	if schemaExists(t, pool, ShadowSchema("bluegreen")) || schemaExists(t, pool, "rebuild_old_bluegreen") {
		t.Error("a rebuild schema was left behind")
	}
}

// TestRebuildInterruptedLeavesServingTablesUntouched cancels a rebuild in
// the middle of its copy: the serving table, its checkpoint and its parked
// events are as they were, and the shadow schema is gone.
func TestRebuildInterruptedLeavesServingTablesUntouched(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	ctx := context.Background()
	head := appendEvents(t, store, 2000, "SongAdded")
	c := newCounter(t, pool, "interrupted", "int_counts", "SongAdded")
	p := tabled{c}
	if _, err := Replay(ctx, pool, store, p, 500); err != nil {
		t.Fatal(err)
	}
	before := rows(t, pool, "int_counts")

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sawShadow bool
	_, err := RebuildBlueGreen(rctx, pool, store, p, RebuildConfig{BatchSize: 50, ProgressInterval: time.Nanosecond,
		Progress: func(pr RebuildProgress) {
			if pr.Phase == "copy" && pr.Events >= 500 {
				var n int64
				if err := pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM `+ShadowSchema("interrupted")+`.int_counts`).Scan(&n); err == nil && n > 0 {
					sawShadow = true
				}
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("rebuild = %v, want it cancelled", err)
	}
	if !sawShadow {
		t.Error("the shadow table was not filling when the rebuild was cancelled")
	}
	if after := rows(t, pool, "int_counts"); fmt.Sprint(after) != fmt.Sprint(before) || total(after) != 2000 {
		t.Errorf("serving table changed: %v, was %v", after, before)
	}
	if cp := checkpoint(t, pool, "interrupted"); cp != head {
		t.Errorf("checkpoint %d, want %d", cp, head)
	}
	if schemaExists(t, pool, ShadowSchema("interrupted")) {
		t.Error("the shadow schema of an interrupted rebuild was left behind")
	}

	// A rebuild that fails on an event is refused the same way.
	c.hook = func(_ context.Context, events []eventstore.RecordedEvent) error {
		return errors.New("cannot apply")
	}
	if _, err := RebuildBlueGreen(ctx, pool, store, p, RebuildConfig{}); err == nil {
		t.Fatal("a failing rebuild succeeded")
	}
	if after := rows(t, pool, "int_counts"); total(after) != 2000 || schemaExists(t, pool, ShadowSchema("interrupted")) {
		t.Errorf("a failed rebuild changed the serving table (%d events) or left its schema", total(after))
	}
}

// TestRebuildRefusesWhatItCannotSwap: a projector without tables, and a
// table another read model references.
func TestRebuildRefusesWhatItCannotSwap(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	ctx := context.Background()
	c := newCounter(t, pool, "plain", "plain_counts", "SongAdded")
	if _, err := RebuildBlueGreen(ctx, pool, store, c, RebuildConfig{}); err == nil {
		t.Error("a projector without tables was rebuilt blue/green")
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE refs (stream_id text REFERENCES plain_counts (stream_id))`); err != nil {
		t.Fatal(err)
	}
	if _, err := RebuildBlueGreen(ctx, pool, store, tabled{c}, RebuildConfig{}); err == nil {
		t.Error("a table referenced by another table was swapped")
	}
	if schemaExists(t, pool, ShadowSchema("plain")) {
		t.Error("shadow schema left behind")
	}
}

// TestRebuildCatalogKeepsForeignKeys rebuilds the real catalog read model,
// whose song_artists references songs: the swapped tables keep that key,
// pointing at the new songs table.
func TestRebuildCatalogKeepsForeignKeys(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	ctx := context.Background()
	if _, err := RebuildBlueGreen(ctx, pool, store, Catalog{}, RebuildConfig{}); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	var ref string
	if err := pool.QueryRow(ctx, `SELECT confrelid::regclass::text FROM pg_constraint
		WHERE conrelid = 'public.song_artists'::regclass AND contype = 'f'`).Scan(&ref); err != nil {
		t.Fatalf("foreign key of song_artists: %v", err)
	}
	if ref != "songs" {
		t.Errorf("song_artists references %q, want songs (public)", ref)
	}
	if idx := indexNames(t, pool, "songs"); !idx["songs_pkey"] || !idx["songs_created_idx"] {
		t.Errorf("songs indexes after the swap: %v", idx)
	}
}
