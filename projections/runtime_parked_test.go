package projections

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// TestRetryParkedKeepsWhatStillFailsAndAppliesWhatWorks parks a poison
// event, retries it while it still fails (it stays, with one more attempt),
// then once the cause is fixed (it is applied once and unparked).
func TestRetryParkedKeepsWhatStillFailsAndAppliesWhatWorks(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	ctx := context.Background()
	appendEvents(t, store, 30, "SongAdded")
	batch, err := store.ReadAll(ctx, 0, 100, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	poison := batch.Events[11]
	head := batch.Events[len(batch.Events)-1].Position

	c := newCounter(t, pool, "retried", "retried_counts")
	var poisoned atomic.Bool
	poisoned.Store(true)
	c.hook = func(_ context.Context, events []eventstore.RecordedEvent) error {
		for _, e := range events {
			if e.ID == poison.ID && poisoned.Load() {
				return fmt.Errorf("cannot apply event %d: poison", e.Position)
			}
		}
		return nil
	}
	rt := newRuntime(t, fast(500), pool, store, c)
	started(t, rt)
	waitFor(t, rt, head)

	parked, err := ListParked(ctx, pool, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 || parked[0].Position != poison.Position || parked[0].Projector != "retried" ||
		parked[0].Type != "SongAdded" || parked[0].Stream != poison.StreamID || !strings.Contains(parked[0].Error, "poison") {
		t.Fatalf("parked = %+v, want the poison event", parked)
	}
	attempts := parked[0].Attempts

	res, err := RetryParked(ctx, pool, store, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 || len(res.Failed) != 1 || res.Failed[0].Attempts != attempts+1 {
		t.Fatalf("retry while still poisoned = %+v", res)
	}
	if again, _ := ListParked(ctx, pool, "retried"); len(again) != 1 || again[0].Attempts != attempts+1 {
		t.Fatalf("after a failed retry parked = %+v, want it kept with one more attempt", again)
	}
	if got := total(rows(t, pool, "retried_counts")); got != 29 {
		t.Fatalf("a failed retry changed the read model: %d events", got)
	}

	poisoned.Store(false)
	res, err = RetryParked(ctx, pool, store, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 || res.Applied[0] != poison.Position || len(res.Failed) != 0 {
		t.Fatalf("retry once fixed = %+v", res)
	}
	if left, _ := ListParked(ctx, pool, ""); len(left) != 0 {
		t.Fatalf("still parked: %+v", left)
	}
	if got := rows(t, pool, "retried_counts"); total(got) != 30 {
		t.Fatalf("after the retry the read model counts %d events, want 30", total(got))
	}
	// A second retry has nothing to do and counts nothing twice.
	if res, err := RetryParked(ctx, pool, store, c); err != nil || len(res.Applied)+len(res.Failed) != 0 {
		t.Fatalf("second retry = %+v, %v", res, err)
	}
	if got := total(rows(t, pool, "retried_counts")); got != 30 {
		t.Fatalf("second retry changed the count to %d", got)
	}
}
