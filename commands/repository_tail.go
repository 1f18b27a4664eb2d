package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// LoadTail builds the aggregate from the last tail events of its stream
// only: the load path of aggregates whose decisions need their recent past
// alone (a listener's last plays), where Load would read years of history.
// Version() is the stream's real last revision, so appending after it is
// as safe as after a full Load.
func (r *Repository[A]) LoadTail(ctx context.Context, id string, tail int) (A, error) {
	a := r.fresh(id)
	stream := r.stream(id)
	events, err := r.store.ReadStreamTail(ctx, stream, tail)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return a, nil
	}
	if err != nil {
		return a, fmt.Errorf("load tail of %s: %w", stream, err)
	}
	for _, rec := range events {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return a, fmt.Errorf("load tail of %s at revision %d: %w", stream, rec.Revision, err)
		}
		a.AggregateRoot().Replay(a, e, rec.Revision)
	}
	return a, nil
}

// UpdateTail is Update over LoadTail: decide sees the recent past, the
// append expects the revision loaded, and a concurrent writer makes it
// reload and decide again (so two identical requests racing each other are
// decided one after the other).
func (r *Repository[A]) UpdateTail(ctx context.Context, id string, tail int, decide func(A) error) (Written, error) {
	return r.update(ctx, id, func() (A, error) { return r.LoadTail(ctx, id, tail) }, decide)
}
