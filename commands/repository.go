// Package commands holds one handler per command: load the aggregate, let the
// domain decide, append the resulting events with the expected revision. It
// also holds the Gin routes of every write.
package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Aggregate is what a Repository loads and saves: a domain aggregate that
// embeds domain.Root.
type Aggregate interface {
	domain.Applier
	AggregateRoot() *domain.Root
}

// Written says what a command appended: the global position of its last
// event (0 when it changed nothing) and the event types, so the HTTP layer
// can wait for the read models that read them.
type Written struct {
	Position uint64
	Types    []string
}

// merge combines what two appends of one command wrote.
func (w Written) merge(o Written) Written {
	if o.Position > w.Position {
		w.Position = o.Position
	}
	w.Types = append(w.Types, o.Types...)
	return w
}

// Repository loads and saves one kind of aggregate through the event store.
// Nobody appends domain events by hand: every change goes through Update.
type Repository[A Aggregate] struct {
	store  eventstore.Store
	stream func(id string) string
	fresh  func(id string) A
}

// NewRepository makes a repository for streams named by stream(id).
func NewRepository[A Aggregate](store eventstore.Store, stream func(string) string, fresh func(string) A) *Repository[A] {
	return &Repository[A]{store: store, stream: stream, fresh: fresh}
}

const readPage = 512

// Load rebuilds the aggregate from its stream; a stream with no events gives
// a fresh aggregate with Version() == -1.
func (r *Repository[A]) Load(ctx context.Context, id string) (A, error) {
	a := r.fresh(id)
	stream := r.stream(id)
	var from uint64
	for {
		events, err := r.store.ReadStream(ctx, stream, from, readPage)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return a, nil
		}
		if err != nil {
			return a, fmt.Errorf("load %s: %w", stream, err)
		}
		for _, rec := range events {
			e, err := domain.DecodeEvent(rec.Type, rec.Data)
			if err != nil {
				return a, fmt.Errorf("load %s at revision %d: %w", stream, rec.Revision, err)
			}
			a.AggregateRoot().Replay(a, e, rec.Revision)
		}
		if len(events) < readPage {
			return a, nil
		}
		from = events[len(events)-1].Revision + 1
	}
}

// maxAttempts bounds retries of an Update that keeps meeting concurrent
// writers. Each round of conflicting writers lets at least one through, so
// this many concurrent changes of one aggregate all land.
const maxAttempts = 100

// Update loads the aggregate, runs decide on it, and appends what decide
// recorded, expecting the revision it loaded. When another writer got there
// first, it reloads and decides again, so concurrent commutative changes are
// never lost; decide must therefore be free of side effects beyond the aggregate.
func (r *Repository[A]) Update(ctx context.Context, id string, decide func(A) error) (Written, error) {
	for attempt := 1; ; attempt++ {
		a, err := r.Load(ctx, id)
		if err != nil {
			return Written{}, err
		}
		if err := decide(a); err != nil {
			return Written{}, err
		}
		w, err := r.save(ctx, id, a)
		if errors.Is(err, eventstore.ErrWrongExpectedRevision) && attempt < maxAttempts {
			select {
			case <-ctx.Done():
				return Written{}, ctx.Err()
			case <-time.After(backoff(attempt)):
			}
			continue
		}
		return w, err
	}
}

// backoff spreads retrying writers apart: jittered, growing, capped at 50ms.
func backoff(attempt int) time.Duration {
	ceiling := min(time.Duration(attempt)*2*time.Millisecond, 50*time.Millisecond)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

// save appends the aggregate's recorded events with its loaded revision as
// the expected one.
func (r *Repository[A]) save(ctx context.Context, id string, a A) (Written, error) {
	root := a.AggregateRoot()
	changes := root.Changes()
	if len(changes) == 0 {
		return Written{}, nil
	}
	expected := eventstore.NoStream()
	if v := root.Version(); v >= 0 {
		expected = eventstore.Exact(uint64(v))
	}
	md := eventstore.MetadataFrom(ctx)
	md.OccurredAt = time.Now().UTC()
	md.SchemaVersion = 1
	data := make([]eventstore.EventData, len(changes))
	types := make([]string, len(changes))
	for i, e := range changes {
		raw, err := json.Marshal(e)
		if err != nil {
			return Written{}, fmt.Errorf("encode %s: %w", e.EventType(), err)
		}
		data[i] = eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: e.EventType(), Data: raw, Metadata: md}
		types[i] = e.EventType()
	}
	res, err := r.store.Append(ctx, r.stream(id), expected, data...)
	if err != nil {
		return Written{}, fmt.Errorf("append to %s: %w", r.stream(id), err)
	}
	root.Committed(res.NextExpectedRevision)
	return Written{Position: res.Position, Types: types}, nil
}
