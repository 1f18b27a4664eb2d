package projections

import (
	"context"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/pgtest"
)

// A projector that reads none of what is appended is past it at once for
// Wait, while its stored checkpoint follows at most IdleCheckpointInterval
// later, in one transaction rather than one per append.
func TestIdleProjectorIsPastEventsItDoesNotRead(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	c := newCounter(t, pool, "songs", "songs_count", "SongAdded")
	cfg := fast(100)
	cfg.IdleCheckpointInterval = 3 * time.Second
	rt := newRuntime(t, cfg, pool, store, c)
	started(t, rt)

	songs := appendEvents(t, store, 10, "SongAdded")
	waitFor(t, rt, songs, "SongAdded")
	if got := checkpoint(t, pool, "songs"); got != songs {
		t.Fatalf("stored checkpoint %d after a batch with events, want %d", got, songs)
	}

	// Listens: nothing for the projector. An X-Min-Position read (every
	// projector, no event types) need not wait for a transaction.
	var head uint64
	for range 5 {
		head = appendEvents(t, store, 3, "ListenRecorded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := rt.Wait(ctx, head, nil); err != nil {
		t.Fatalf("Wait for the head %d past events the projector does not read: %v", head, err)
	}
	if got := checkpoint(t, pool, "songs"); got != songs {
		t.Errorf("stored checkpoint moved to %d at once; want it held back at %d", got, songs)
	}

	// It is stored within the interval.
	deadline := time.Now().Add(10 * time.Second)
	for checkpoint(t, pool, "songs") != head {
		if time.Now().After(deadline) {
			t.Fatalf("stored checkpoint %d never reached the head %d", checkpoint(t, pool, "songs"), head)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// And the projector still applies what it reads, from there on.
	more := appendEvents(t, store, 5, "SongAdded")
	waitFor(t, rt, more, "SongAdded")
	if n := total(rows(t, pool, "songs_count")); n != 15 {
		t.Errorf("%d songs counted, want 15", n)
	}
	if got := checkpoint(t, pool, "songs"); got != more {
		t.Errorf("stored checkpoint %d, want %d", got, more)
	}
}
