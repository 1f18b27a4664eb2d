package pgstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// In PostgreSQL an event id is unique in the whole log: the same id in
// another stream is a conflict and writes nothing. (KurrentDB deduplicates
// per stream only, so the shared suite leaves this open.)
func TestEventIDInAnotherStreamIsRefused(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, pgstore.Config{}, pgtest.New(t))
	ev := eventstore.EventData{ID: uuid.New(), Type: "OrderPaid", Data: []byte(`{"n":1}`)}
	if _, err := s.Append(ctx, "order-a", eventstore.NoStream(), ev); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, "order-b", eventstore.Any(), ev)
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("same id in another stream: %v, want a conflict", err)
	}
	if _, err := s.ReadStream(ctx, "order-b", 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("the other stream was written: %v", err)
	}
}
