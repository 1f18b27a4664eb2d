package pgstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// rawEvent has data whose bytes jsonb does not keep (key order, spaces):
// read back from the database it comes out as {"a": 2, "b": 1}.
func rawEvent(typ string) eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: typ, Data: json.RawMessage(`{ "b":1,  "a":2 }`)}
}

// next waits for the subscription's next batch with events.
func next(t *testing.T, sub eventstore.Subscription) eventstore.Batch {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case b, ok := <-sub.Batches():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			if len(b.Events) > 0 {
				return b
			}
		case <-timeout:
			t.Fatal("no batch within 10s")
		}
	}
}

func TestSubscriptionsTakeThisStoresAppendsFromMemory(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	s := newStore(t, pgstore.Config{}, pool)
	// Another store (another process) appends first: this store does not
	// hold that event, and reads it from the database.
	other := newStore(t, pgstore.Config{}, pool)
	if _, err := other.Append(ctx, "a-1", eventstore.Any(), rawEvent("Seen")); err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subscribe(ctx, 0, eventstore.Filter{EventTypes: []string{"Seen"}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	first := next(t, sub)
	if got := string(first.Events[0].Data); got != `{"a": 2, "b": 1}` {
		t.Fatalf("first event (read from the database) has data %s", got)
	}

	// Caught up: the next appends (one not matching) come from memory.
	// (The first wake-up after the store's listener connects reads the
	// database once, as notifications may have been missed: a few rounds.)
	fromMemory := false
	for round := 0; round < 20 && !fromMemory; round++ {
		res, err := s.Append(ctx, "a-1", eventstore.Any(), rawEvent("Unseen"), rawEvent("Seen"))
		if err != nil {
			t.Fatal(err)
		}
		b := next(t, sub)
		e := b.Events[0]
		if len(b.Events) != 1 || e.Position != res.Position || e.Revision != res.NextExpectedRevision || e.Type != "Seen" {
			t.Fatalf("batch %+v, want the event at position %d alone", b, res.Position)
		}
		if b.Checkpoint != res.Position {
			t.Fatalf("checkpoint %d, want %d", b.Checkpoint, res.Position)
		}
		fromMemory = string(e.Data) == `{ "b":1,  "a":2 }`
	}
	if !fromMemory {
		t.Fatal("every event appended by this store was read back from the database")
	}

	// The other store appends again: the run of positions this store
	// holds is broken, and what follows is read from the database, in
	// order, nothing skipped.
	theirs, err := other.Append(ctx, "a-2", eventstore.Any(), rawEvent("Seen"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := s.Append(ctx, "a-1", eventstore.Any(), rawEvent("Seen"))
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for len(got) < 2 {
		for _, e := range next(t, sub).Events {
			got = append(got, e.Position)
		}
	}
	if len(got) != 2 || got[0] != theirs.Position || got[1] != ours.Position {
		t.Fatalf("positions %v, want [%d %d]", got, theirs.Position, ours.Position)
	}
}
