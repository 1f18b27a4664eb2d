// Package projections builds Hust Musik's read models from the event log:
// one named projector per read model, run by a Watermill router over the
// event store's global log.
package projections

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/infra/eventstore"
)

// Projector builds one read model from the events it selects.
type Projector interface {
	// Name is the projector's checkpoint key and Watermill handler name.
	// Renaming a projector replays it from the start of the log.
	Name() string
	// Filter selects the events it reads (event types and/or stream prefixes).
	Filter() eventstore.Filter
	// Apply writes the read-model changes of a batch of consecutive events in
	// tx; the runtime commits them together with the projector's checkpoint.
	// Apply must be deterministic: replaying the log rebuilds the same rows.
	Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error
	// Reset deletes every row of the read model (a rebuild starts from it).
	Reset(ctx context.Context, tx pgx.Tx) error
}
