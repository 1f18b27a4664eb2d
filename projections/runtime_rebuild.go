package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/eventstore"
)

// Rebuild empties p's read model and sends its checkpoint back to 0 in one
// transaction; whichever process runs p then replays the log into it.
//
// This is the simple rebuild: readers see an empty, then filling read model
// until the replay catches up. Missing (a later issue): the zero-downtime
// blue/green rebuild that replays into fresh tables under a new checkpoint
// name while the old tables keep serving, then swaps them in.
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
