package projections

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/eventstore"
)

// applySelected runs the events p's filter selects (only those reach a
// projector) through Apply in batches of batch, in one transaction, after
// a Reset when asked.
func applySelected(t *testing.T, pool *pgxpool.Pool, p Projector, events []eventstore.RecordedEvent, batch int, reset bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if reset {
		if err := p.Reset(ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	var selected []eventstore.RecordedEvent
	for _, e := range events {
		if p.Filter().Matches(e.StreamID, e.Type) {
			selected = append(selected, e)
		}
	}
	for i := 0; i < len(selected); i += batch {
		if err := p.Apply(ctx, tx, selected[i:min(i+batch, len(selected))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
