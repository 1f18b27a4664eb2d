package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/eventstore"
)

// ParkedEvent is an event a projector set aside after every retry failed.
type ParkedEvent struct {
	Projector string    `json:"projector"`
	Position  uint64    `json:"position"`
	EventID   string    `json:"event_id"`
	Stream    string    `json:"stream"`
	Type      string    `json:"type"`
	Error     string    `json:"error"`
	Attempts  int       `json:"attempts"`
	ParkedAt  time.Time `json:"parked_at"`
}

// ListParked lists the parked events of every projector (projector "") or
// of one, by projector and position.
func ListParked(ctx context.Context, pool *pgxpool.Pool, projector string) ([]ParkedEvent, error) {
	rows, err := pool.Query(ctx, `
		SELECT projector, position, event_id::text, stream_id, event_type, error, attempts, parked_at
		FROM parked_events WHERE $1 = '' OR projector = $1
		ORDER BY projector, position`, projector)
	if err != nil {
		return nil, fmt.Errorf("projections: list parked events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ParkedEvent, error) {
		var e ParkedEvent
		var pos int64
		err := r.Scan(&e.Projector, &pos, &e.EventID, &e.Stream, &e.Type, &e.Error, &e.Attempts, &e.ParkedAt)
		e.Position = uint64(pos)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("projections: list parked events: %w", err)
	}
	return out, nil
}

// RetryResult says what a retry of parked events did.
type RetryResult struct {
	// Applied are the positions applied and unparked.
	Applied []uint64
	// Failed are the events that failed again; they stay parked, with the
	// new error and one more attempt.
	Failed []ParkedEvent
}

// RetryParked applies p's parked events again, in position order, each in
// its own transaction through p.Apply: on success its row leaves
// parked_events in that transaction; on failure the row stays, with the
// error and one more attempt. Each transaction takes p's swap lock, so it
// never interleaves with a batch of the live runner.
//
// An event parked long ago is applied after the events that followed it;
// the projectors are written so that this converges (upserts keyed by id,
// deletes of missing rows are no-ops), which is why parking moves on.
func RetryParked(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Projector) (RetryResult, error) {
	var res RetryResult
	parked, err := ListParked(ctx, pool, p.Name())
	if err != nil {
		return res, err
	}
	for _, pe := range parked {
		e, err := eventAt(ctx, store, pe.Position)
		if err != nil {
			return res, fmt.Errorf("projections: retry %s: %w", p.Name(), err)
		}
		applyErr := retryOne(ctx, pool, p, e)
		if applyErr == nil {
			res.Applied = append(res.Applied, pe.Position)
			continue
		}
		if ctx.Err() != nil || !parkable(ctx, applyErr) {
			// The surroundings failed, not the event: stop, change nothing.
			return res, fmt.Errorf("projections: retry %s: event %d: %w", p.Name(), pe.Position, applyErr)
		}
		if _, err := pool.Exec(ctx, `UPDATE parked_events SET error = $3, attempts = attempts + 1, parked_at = now()
			WHERE projector = $1 AND position = $2`, p.Name(), int64(pe.Position), applyErr.Error()); err != nil {
			return res, fmt.Errorf("projections: retry %s: record failure of %d: %w", p.Name(), pe.Position, err)
		}
		pe.Error, pe.Attempts = applyErr.Error(), pe.Attempts+1
		res.Failed = append(res.Failed, pe)
	}
	return res, nil
}

func retryOne(ctx context.Context, pool *pgxpool.Pool, p Projector, e eventstore.RecordedEvent) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, swapKey(p.Name())); err != nil {
		return fmt.Errorf("swap lock: %w", err)
	}
	if err := p.Apply(ctx, tx, []eventstore.RecordedEvent{e}); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM parked_events WHERE projector = $1 AND position = $2`, p.Name(), int64(e.Position))
	if err != nil {
		return fmt.Errorf("unpark: %w", err)
	}
	if tag.RowsAffected() != 1 {
		// Retried or rebuilt by someone else meanwhile: applying it again
		// could count it twice.
		return errors.New("the parked row is gone: retried by someone else")
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// eventAt reads the event at a position of the global log.
func eventAt(ctx context.Context, store eventstore.Store, pos uint64) (eventstore.RecordedEvent, error) {
	if pos == 0 {
		return eventstore.RecordedEvent{}, errors.New("no event at position 0")
	}
	b, err := store.ReadAll(ctx, pos-1, 1, eventstore.Filter{})
	if err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("read event %d: %w", pos, err)
	}
	if len(b.Events) == 0 || b.Events[0].Position != pos {
		return eventstore.RecordedEvent{}, fmt.Errorf("no event at position %d in the log", pos)
	}
	return b.Events[0], nil
}
