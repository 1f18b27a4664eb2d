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

// lagCountLimit bounds how many matching events Status counts one by one;
// past it, LagEvents is the head minus the checkpoint, an upper bound.
const lagCountLimit = 10000

// Status is how far one projector is.
type Status struct {
	Name string `json:"name"`
	// Position is its checkpoint (0: nothing applied yet).
	Position uint64 `json:"position"`
	// Head is the log's last position when the status was read.
	Head uint64 `json:"head"`
	// LagEvents is how many events it still has to read: the exact count of
	// events matching its filter after Position when LagExact, else (more
	// than lagCountLimit of them) Head - Position, an upper bound that also
	// counts events its filter skips.
	LagEvents uint64 `json:"lag_events"`
	LagExact  bool   `json:"lag_exact"`
	// LagSeconds is the age of the oldest matching event it has not
	// applied yet; 0 when caught up.
	LagSeconds float64 `json:"lag_seconds"`
	// Parked counts its events in parked_events.
	Parked int64 `json:"parked"`
}

// Status reads the status of every projector of the runtime.
func (rt *Runtime) Status(ctx context.Context) ([]Status, error) {
	rt.mu.Lock()
	ps := make([]Projector, len(rt.runners))
	for i, r := range rt.runners {
		ps[i] = r.p
	}
	rt.mu.Unlock()
	return ReadStatus(ctx, rt.pool, rt.store, ps)
}

// ReadStatus reads the status of projectors from the database and the log,
// without a running Runtime (`hustmusik projections status`).
func ReadStatus(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, projectors []Projector) ([]Status, error) {
	head, err := store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("projections: status: head: %w", err)
	}
	out := make([]Status, 0, len(projectors))
	for _, p := range projectors {
		s := Status{Name: p.Name(), Head: head}
		var pos int64
		err := pool.QueryRow(ctx, `SELECT position FROM projection_checkpoints WHERE name = $1`, s.Name).Scan(&pos)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("projections: status of %s: checkpoint: %w", s.Name, err)
		}
		s.Position = uint64(pos)
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM parked_events WHERE projector = $1`, s.Name).Scan(&s.Parked); err != nil {
			return nil, fmt.Errorf("projections: status of %s: parked: %w", s.Name, err)
		}
		if err := readLag(ctx, store, p.Filter(), &s); err != nil {
			return nil, fmt.Errorf("projections: status of %s: %w", s.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// readLag counts the matching events after s.Position, up to lagCountLimit.
func readLag(ctx context.Context, store eventstore.Store, filter eventstore.Filter, s *Status) error {
	if s.Position >= s.Head {
		s.LagExact = true
		return nil
	}
	after := s.Position
	var count uint64
	for count < lagCountLimit && after < s.Head {
		b, err := store.ReadAll(ctx, after, min(1000, lagCountLimit-int(count)), filter)
		if err != nil {
			return fmt.Errorf("read log after %d: %w", after, err)
		}
		if count == 0 && len(b.Events) > 0 {
			s.LagSeconds = max(0, time.Since(b.Events[0].RecordedAt).Seconds())
		}
		count += uint64(len(b.Events))
		if b.Checkpoint <= after {
			break // the rest is not visible yet (appends in flight)
		}
		after = b.Checkpoint
	}
	if after >= s.Head {
		s.LagEvents, s.LagExact = count, true
	} else {
		s.LagEvents = s.Head - s.Position
	}
	return nil
}
