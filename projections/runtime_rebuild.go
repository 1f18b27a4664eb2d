package projections

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/eventstore"
)

// Rebuild empties p's read model and sends its checkpoint back to 0 in one
// transaction; whichever process runs p then replays the log into it.
//
// This is the simple rebuild: readers see an empty, then filling read model
// until the replay catches up. RebuildBlueGreen is the one without downtime.
func (rt *Runtime) Rebuild(ctx context.Context, p Projector) error {
	rt.mu.Lock()
	r, ok := rt.byName[p.Name()]
	rt.mu.Unlock()
	if !ok {
		return fmt.Errorf("projections: rebuild %q: not a projector of this runtime", p.Name())
	}
	if err := reset(ctx, rt.pool, p); err != nil {
		return err
	}
	rt.positions.dataChanged(r.name, 0)
	rt.positions.set(r.name, 0)
	// The runner resumes from the stored checkpoint; a runner in another
	// process learns it from the notification (and, failing that, is fenced
	// off on its next commit).
	r.restart()
	return nil
}

// reset empties p's read model, its parked events and its checkpoint. The
// checkpoint row is written first: that waits for a runner's transaction in
// flight, so that the Reset that follows sees (and deletes) its rows, and
// fences that runner off from committing after it.
func reset(ctx context.Context, pool *pgxpool.Pool, p Projector) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projections: reset %s: begin: %w", p.Name(), err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `
		INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, 0, now())
		ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()`, p.Name()); err != nil {
		return fmt.Errorf("projections: reset %s: checkpoint: %w", p.Name(), err)
	}
	if err := p.Reset(ctx, tx); err != nil {
		return fmt.Errorf("projections: reset %s: %w", p.Name(), err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM parked_events WHERE projector = $1`, p.Name()); err != nil {
		return fmt.Errorf("projections: reset %s: parked events: %w", p.Name(), err)
	}
	// Position 0 is never a commit's (a commit moves past something), so
	// listeners read it as "reset": the runner starts over.
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, CheckpointChannel, p.Name()+":0"); err != nil {
		return fmt.Errorf("projections: reset %s: notify: %w", p.Name(), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: reset %s: commit: %w", p.Name(), err)
	}
	return nil
}

// Replay resets p and applies the whole log to it now, in batches of
// batchSize (0: 500), each committed with the checkpoint; it returns the
// position it reached. It refuses to run while a runtime runs p (it takes
// p's lock), and unlike a runtime it parks nothing: the first event that
// fails stops it with that error, leaving the checkpoint before it.
func Replay(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Projector, batchSize int) (uint64, error) {
	rt, err := New(Config{BatchSize: batchSize}, pool, store, nil)
	if err != nil {
		return 0, err
	}
	r := &runner{p: p, name: p.Name(), filter: p.Filter(), lockKey: lockKey(p.Name())}

	c, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("projections: replay %s: %w", r.name, err)
	}
	conn := c.Hijack()
	defer closeConn(conn) // and with the session, the lock
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, r.lockKey).Scan(&got); err != nil {
		return 0, fmt.Errorf("projections: replay %s: lock: %w", r.name, err)
	}
	if !got {
		return 0, fmt.Errorf("projections: replay %s: a runtime runs it now; rebuild it there instead", r.name)
	}

	if err := reset(ctx, pool, p); err != nil {
		return 0, err
	}
	head, err := store.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("projections: replay %s: head: %w", r.name, err)
	}
	var after uint64
	for after < head {
		b, err := store.ReadAll(ctx, after, rt.cfg.BatchSize, r.filter)
		if err != nil {
			return after, fmt.Errorf("projections: replay %s: read after %d: %w", r.name, after, err)
		}
		if len(b.Events) == 0 && b.Checkpoint <= after {
			// An append below head is still in flight: it becomes visible soon.
			select {
			case <-ctx.Done():
				return after, fmt.Errorf("projections: replay %s: %w", r.name, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if err := rt.commit(ctx, r, after, b.Events, b.Checkpoint, nil); err != nil {
			return after, fmt.Errorf("projections: replay: %w", err)
		}
		after = b.Checkpoint
	}
	return after, nil
}

// swapKey is the advisory-lock key that every commit of a projector takes
// shared (in its transaction) and the swap of a blue/green rebuild takes
// exclusive: the swap waits for the batch in flight and holds back the next.
func swapKey(name string) int64 { return lockKey("swap:" + name) }

// rebuildKey keeps two blue/green rebuilds of one projector from sharing
// one shadow schema.
func rebuildKey(name string) int64 { return lockKey("rebuild:" + name) }

// TableOwner is a projector whose read model is a set of PostgreSQL tables
// in the public schema, written through unqualified names. Such a projector
// can be rebuilt blue/green (RebuildBlueGreen).
type TableOwner interface {
	Tables() []string
}

// RebuildProgress is what a blue/green rebuild reports as it goes.
type RebuildProgress struct {
	Projector string
	// Phase is "copy" (filling the shadow tables while the old ones serve),
	// "catch-up" (inside the swap transaction) or "swapped".
	Phase string
	// Position is how far in the log the shadow tables are; Head is the
	// log's head when the phase began.
	Position, Head uint64
	// Events counts the events applied so far; Rate is events per second.
	Events uint64
	Rate   float64
	// ETA is the time left at the current scanning speed (0 when unknown).
	ETA time.Duration
}

// RebuildConfig tunes RebuildBlueGreen.
type RebuildConfig struct {
	// BatchSize is the most events per read and per transaction (default 1000).
	BatchSize int
	// Progress, when set, is called at most every ProgressInterval (default
	// 1s) during the copy, and once per phase change.
	Progress         func(RebuildProgress)
	ProgressInterval time.Duration
}

func (c *RebuildConfig) setDefaults() {
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Second
	}
}

// Validate reports every problem of the config at once.
func (c RebuildConfig) Validate() error {
	var errs []error
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("projections: rebuild batch size %d must be positive", c.BatchSize))
	}
	if c.ProgressInterval < 0 {
		errs = append(errs, fmt.Errorf("projections: rebuild progress interval %s must not be negative", c.ProgressInterval))
	}
	return errors.Join(errs...)
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// ShadowSchema is the schema in which a blue/green rebuild of the named
// projector builds its new tables.
func ShadowSchema(projector string) string { return "rebuild_" + projector }

// RebuildBlueGreen rebuilds p's read model without downtime and returns the
// log position it reached:
//
//  1. it copies the shape of p's tables (columns, defaults, checks, keys,
//     indexes with their names, foreign keys among them) into empty tables
//     of a shadow schema, rebuild_<name>;
//  2. it replays the log into them, batch by batch, with search_path set to
//     the shadow schema first, so that the projector's unqualified table
//     names land there, while the old tables keep serving and the live
//     runner (in this process or another) keeps them current;
//  3. in one transaction it takes the projector's swap lock (which holds
//     back the live runner's next batch and waits for the one in flight),
//     applies the events that arrived meanwhile, moves the old tables out
//     and the new ones into public, drops the old ones, sets the checkpoint
//     and clears the projector's parked events; it commits.
//
// Readers never see an empty or partial table: until the commit they read
// the old tables, after it the new ones (a query that arrives during the
// swap waits for it). A failure or a cancelled ctx anywhere leaves the
// serving tables untouched and drops the shadow schema. The live runner
// resumes from the new checkpoint: its next commit is fenced off if it
// expected an older one.
//
// Tables that other read models reference by foreign key, or that views
// read, cannot be swapped this way; p is refused before anything is built.
func RebuildBlueGreen(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Projector, cfg RebuildConfig) (uint64, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	name := p.Name()
	owner, ok := p.(TableOwner)
	if !ok || len(owner.Tables()) == 0 {
		return 0, fmt.Errorf("projections: rebuild %s: it declares no tables (TableOwner); use Replay with the projector stopped", name)
	}
	tables := owner.Tables()
	if !identifier.MatchString(name) {
		return 0, fmt.Errorf("projections: rebuild %s: the name is not usable in a schema name", name)
	}
	for _, t := range tables {
		if !identifier.MatchString(t) {
			return 0, fmt.Errorf("projections: rebuild %s: table name %q is not a plain identifier", name, t)
		}
	}
	b := &blueGreen{pool: pool, store: store, p: p, cfg: cfg, name: name, tables: tables,
		shadow: ShadowSchema(name), old: "rebuild_old_" + name, started: time.Now()}

	c, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: %w", name, err)
	}
	conn := c.Hijack()
	defer closeConn(conn) // and with the session, the rebuild lock
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, rebuildKey(name)).Scan(&got); err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: lock: %w", name, err)
	}
	if !got {
		return 0, fmt.Errorf("projections: rebuild %s: another rebuild of it runs", name)
	}
	defer func() {
		// Explicitly: a closed session's locks go only once its backend
		// has exited, and a rebuild started right after would be refused.
		unlockCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, rebuildKey(name))
		stop()
	}()
	// Whatever happens (a cancelled ctx included), no shadow tables stay
	// behind. After a swap the shadow schema is already gone.
	defer b.dropShadow()

	if err := b.prepare(ctx); err != nil {
		return 0, err
	}
	if err := b.copy(ctx); err != nil {
		return 0, err
	}
	return b.swap(ctx)
}

type blueGreen struct {
	pool        *pgxpool.Pool
	store       eventstore.Store
	p           Projector
	cfg         RebuildConfig
	name        string
	tables      []string
	shadow, old string

	started      time.Time
	after, head  uint64
	events       uint64
	lastProgress time.Time
}

func (b *blueGreen) dropShadow() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Best effort: a leftover is dropped by the next rebuild's prepare.
	_, _ = b.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+b.shadow+` CASCADE`)
	_, _ = b.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+b.old+` CASCADE`)
}

// prepare creates the shadow schema with empty copies of the tables.
func (b *blueGreen) prepare(ctx context.Context) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projections: rebuild %s: begin: %w", b.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// With only pg_catalog on the path, the catalog functions below print
	// every table name schema-qualified.
	if _, err := tx.Exec(ctx, `SET LOCAL search_path = pg_catalog`); err != nil {
		return fmt.Errorf("projections: rebuild %s: %w", b.name, err)
	}
	for _, stmt := range []string{
		`DROP SCHEMA IF EXISTS ` + b.shadow + ` CASCADE`,
		`DROP SCHEMA IF EXISTS ` + b.old + ` CASCADE`,
		`CREATE SCHEMA ` + b.shadow,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("projections: rebuild %s: %s: %w", b.name, stmt, err)
		}
	}
	for _, t := range b.tables {
		if err := b.refuseDependents(ctx, tx, t); err != nil {
			return err
		}
		// Indexes are left out here and made below with their own names: a
		// future migration that drops an index by name must find it.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s.%s (LIKE public.%s INCLUDING ALL EXCLUDING INDEXES)`,
			b.shadow, t, t)); err != nil {
			return fmt.Errorf("projections: rebuild %s: copy table %s: %w", b.name, t, err)
		}
	}
	// Keys and indexes after every table exists, so that foreign keys among
	// the tables find their targets.
	var fks []string
	for _, t := range b.tables {
		stmts, tableFKs, err := b.keysAndIndexes(ctx, tx, t)
		if err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("projections: rebuild %s: %s: %w", b.name, s, err)
			}
		}
		fks = append(fks, tableFKs...)
	}
	for _, s := range fks {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("projections: rebuild %s: %s: %w", b.name, s, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: rebuild %s: commit shadow tables: %w", b.name, err)
	}
	return nil
}

// refuseDependents fails when something outside the read model depends on
// table: a foreign key from another table or a view would follow the old
// table into the bin.
func (b *blueGreen) refuseDependents(ctx context.Context, tx pgx.Tx, table string) error {
	rows, err := tx.Query(ctx, `
		SELECT c.conrelid::regclass::text || ' (foreign key ' || c.conname || ')'
		FROM pg_constraint c
		WHERE c.contype = 'f' AND c.confrelid = to_regclass('public.' || $1)
		  AND c.conrelid <> ALL (SELECT to_regclass('public.' || t) FROM unnest($2::text[]) t)
		UNION ALL
		SELECT DISTINCT v.oid::regclass::text || ' (view)'
		FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
		WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass('public.' || $1) AND v.oid <> d.refobjid`,
		table, b.tables)
	if err != nil {
		return fmt.Errorf("projections: rebuild %s: dependents of %s: %w", b.name, table, err)
	}
	deps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("projections: rebuild %s: dependents of %s: %w", b.name, table, err)
	}
	if len(deps) > 0 {
		return fmt.Errorf("projections: rebuild %s: table %s is used by %s; it cannot be swapped blue/green (stop serve and use Replay)",
			b.name, table, strings.Join(deps, ", "))
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('public.' || $1) IS NOT NULL`, table).Scan(&exists); err != nil {
		return fmt.Errorf("projections: rebuild %s: %w", b.name, err)
	}
	if !exists {
		return fmt.Errorf("projections: rebuild %s: table public.%s does not exist", b.name, table)
	}
	return nil
}

// keysAndIndexes returns the statements that give the shadow copy of table
// the original's primary key, unique and exclusion constraints and indexes,
// under the same names, and separately its foreign keys (pointing at the
// shadow copies of the read model's own tables).
func (b *blueGreen) keysAndIndexes(ctx context.Context, tx pgx.Tx, table string) (stmts, fks []string, err error) {
	src, dst := "public."+table, b.shadow+"."+table
	rows, err := tx.Query(ctx, `
		SELECT c.conname, c.contype::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c
		WHERE c.conrelid = to_regclass($1) AND c.contype IN ('p', 'u', 'x', 'f')
		ORDER BY c.contype = 'f', c.conname`, src)
	if err != nil {
		return nil, nil, fmt.Errorf("projections: rebuild %s: constraints of %s: %w", b.name, table, err)
	}
	type constraint struct{ name, kind, def string }
	cons, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (constraint, error) {
		var c constraint
		return c, r.Scan(&c.name, &c.kind, &c.def)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("projections: rebuild %s: constraints of %s: %w", b.name, table, err)
	}
	for _, c := range cons {
		def := c.def
		if c.kind == "f" {
			for _, t := range b.tables {
				def = strings.ReplaceAll(def, "REFERENCES public."+t+"(", "REFERENCES "+b.shadow+"."+t+"(")
			}
			fks = append(fks, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, dst, pgx.Identifier{c.name}.Sanitize(), def))
			continue
		}
		stmts = append(stmts, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, dst, pgx.Identifier{c.name}.Sanitize(), def))
	}
	rows, err = tx.Query(ctx, `
		SELECT pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = to_regclass($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
		ORDER BY i.indexrelid`, src)
	if err != nil {
		return nil, nil, fmt.Errorf("projections: rebuild %s: indexes of %s: %w", b.name, table, err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("projections: rebuild %s: indexes of %s: %w", b.name, table, err)
	}
	for _, def := range defs {
		on := " ON " + src + " "
		if !strings.Contains(def, on) {
			return nil, nil, fmt.Errorf("projections: rebuild %s: unexpected index definition %q", b.name, def)
		}
		stmts = append(stmts, strings.Replace(def, on, " ON "+dst+" ", 1))
	}
	return stmts, fks, nil
}

// inShadow makes tx write to the shadow tables through unqualified names.
func (b *blueGreen) inShadow(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SET LOCAL search_path = `+b.shadow+`, public`); err != nil {
		return fmt.Errorf("projections: rebuild %s: search path: %w", b.name, err)
	}
	return nil
}

// copy replays the log into the shadow tables up to the head as it was when
// the copy began, one transaction per batch.
func (b *blueGreen) copy(ctx context.Context) error {
	head, err := b.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("projections: rebuild %s: head: %w", b.name, err)
	}
	b.head = head
	b.report("copy", true)
	filter := b.p.Filter()
	for b.after < b.head {
		batch, err := b.read(ctx, filter)
		if err != nil {
			return err
		}
		if batch == nil {
			continue
		}
		if len(batch.Events) > 0 {
			tx, err := b.pool.Begin(ctx)
			if err != nil {
				return fmt.Errorf("projections: rebuild %s: begin: %w", b.name, err)
			}
			err = b.apply(ctx, tx, batch.Events)
			if err == nil {
				err = tx.Commit(ctx)
			}
			tx.Rollback(context.WithoutCancel(ctx))
			if err != nil {
				return err
			}
		}
		b.after = batch.Checkpoint
		b.events += uint64(len(batch.Events))
		b.report("copy", false)
	}
	b.report("copy", true)
	return nil
}

// read reads the next batch after b.after; nil when an append below the
// head is still in flight (it becomes visible soon).
func (b *blueGreen) read(ctx context.Context, filter eventstore.Filter) (*eventstore.Batch, error) {
	batch, err := b.store.ReadAll(ctx, b.after, b.cfg.BatchSize, filter)
	if err != nil {
		return nil, fmt.Errorf("projections: rebuild %s: read after %d: %w", b.name, b.after, err)
	}
	if len(batch.Events) == 0 && batch.Checkpoint <= b.after {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("projections: rebuild %s: %w", b.name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		return nil, nil
	}
	return &batch, nil
}

func (b *blueGreen) apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	if err := b.inShadow(ctx, tx); err != nil {
		return err
	}
	if err := b.p.Apply(ctx, tx, events); err != nil {
		return fmt.Errorf("projections: rebuild %s: apply events %d..%d: %w",
			b.name, events[0].Position, events[len(events)-1].Position, err)
	}
	return nil
}

// swap catches up and swaps the tables in one transaction.
func (b *blueGreen) swap(ctx context.Context) (uint64, error) {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: begin swap: %w", b.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, swapKey(b.name)); err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: swap lock: %w", b.name, err)
	}
	// The live runner is held back now: what it committed is all there is,
	// and the head read now covers it.
	head, err := b.store.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: head: %w", b.name, err)
	}
	b.head = head
	b.report("catch-up", true)
	filter := b.p.Filter()
	for b.after < b.head {
		batch, err := b.read(ctx, filter)
		if err != nil {
			return 0, err
		}
		if batch == nil {
			continue
		}
		if len(batch.Events) > 0 {
			if err := b.apply(ctx, tx, batch.Events); err != nil {
				return 0, err
			}
		}
		b.after = batch.Checkpoint
		b.events += uint64(len(batch.Events))
	}
	if err := b.lockServing(ctx, tx); err != nil {
		return 0, err
	}
	stmts := []string{`CREATE SCHEMA ` + b.old}
	for _, t := range b.tables {
		stmts = append(stmts,
			fmt.Sprintf(`ALTER TABLE public.%s SET SCHEMA %s`, t, b.old),
			fmt.Sprintf(`ALTER TABLE %s.%s SET SCHEMA public`, b.shadow, t))
	}
	stmts = append(stmts, `DROP SCHEMA `+b.old+` CASCADE`, `DROP SCHEMA `+b.shadow+` CASCADE`)
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return 0, fmt.Errorf("projections: rebuild %s: swap: %s: %w", b.name, s, err)
		}
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO public.projection_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
		b.name, int64(b.after)); err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: checkpoint: %w", b.name, err)
	}
	// Every event was applied to the new tables: nothing stays parked.
	if _, err := tx.Exec(ctx, `DELETE FROM public.parked_events WHERE projector = $1`, b.name); err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: parked events: %w", b.name, err)
	}
	// 0 tells listeners "start over from the stored checkpoint"; any other
	// position is a plain move forward.
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, CheckpointChannel, b.name+":"+strconv.FormatUint(b.after, 10)+swappedSuffix); err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: notify: %w", b.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("projections: rebuild %s: commit swap: %w", b.name, err)
	}
	b.report("swapped", true)
	return b.after, nil
}

// lockServing takes the serving tables for the swap. Readers lock the
// tables of a join one at a time, in an order of the planner's choosing: a
// reader holding one table and waiting for another that the swap holds,
// while the swap waits for the first, is a deadlock, and PostgreSQL would
// end one of them, perhaps the reader. So the swap takes every table with
// a short lock timeout, and on a timeout gives back what it took (through a
// savepoint), lets the readers pass, and tries again: only the swap ever
// waits for the swap.
func (b *blueGreen) lockServing(ctx context.Context, tx pgx.Tx) error {
	names := make([]string, len(b.tables))
	for i, t := range b.tables {
		names[i] = "public." + t
	}
	lock := `LOCK TABLE ` + strings.Join(names, ", ") + ` IN ACCESS EXCLUSIVE MODE`
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '200ms'`); err != nil {
		return fmt.Errorf("projections: rebuild %s: lock timeout: %w", b.name, err)
	}
	for attempt := 1; ; attempt++ {
		if _, err := tx.Exec(ctx, `SAVEPOINT swap_locks`); err != nil {
			return fmt.Errorf("projections: rebuild %s: savepoint: %w", b.name, err)
		}
		_, err := tx.Exec(ctx, lock)
		if err == nil {
			break
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" || attempt >= 300 {
			return fmt.Errorf("projections: rebuild %s: lock the serving tables (attempt %d): %w", b.name, attempt, err)
		}
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT swap_locks`); err != nil {
			return fmt.Errorf("projections: rebuild %s: rollback to savepoint: %w", b.name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("projections: rebuild %s: %w", b.name, ctx.Err())
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = 0`); err != nil {
		return fmt.Errorf("projections: rebuild %s: lock timeout: %w", b.name, err)
	}
	return nil
}

func (b *blueGreen) report(phase string, force bool) {
	if b.cfg.Progress == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(b.lastProgress) < b.cfg.ProgressInterval {
		return
	}
	b.lastProgress = now
	elapsed := now.Sub(b.started).Seconds()
	pr := RebuildProgress{Projector: b.name, Phase: phase, Position: b.after, Head: b.head, Events: b.events}
	if elapsed > 0 {
		pr.Rate = float64(b.events) / elapsed
		if scanned := float64(b.after) / elapsed; scanned > 0 && b.head > b.after {
			pr.ETA = time.Duration(float64(b.head-b.after) / scanned * float64(time.Second))
		}
	}
	b.cfg.Progress(pr)
}
