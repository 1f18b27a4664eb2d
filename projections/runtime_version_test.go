package projections

import (
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/pgtest"
)

// DataVersion moves with every commit that may change a projector's rows,
// in this process or another one, and never for a move of its checkpoint
// past events it does not read.
func TestDataVersionCountsRowChangesOnly(t *testing.T) {
	pool := pgtest.New(t)
	store := newStore(t, pool)
	songs := newCounter(t, pool, "songs", "songs_v", "SongAdded")
	cfg := fast(100)
	cfg.IdleCheckpointInterval = 50 * time.Millisecond
	rt := newRuntime(t, cfg, pool, store, songs)
	started(t, rt)
	// A second runtime, as another process, that runs no projector of its
	// own but learns of the first one's commits.
	// Its polls, which count a move they see first as a change, are kept
	// out of the way: what is checked is the notifications.
	otherCfg := fast(100)
	otherCfg.PollInterval = time.Minute
	other := newRuntime(t, otherCfg, pool, newStore(t, pool), newCounter(t, pool, "idle", "idle_v", "Nothing"))
	started(t, other)

	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("not within 10s: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	here, there := rt.DataVersion("songs"), other.DataVersion("songs")
	pos := appendEvents(t, store, 5, "SongAdded")
	waitFor(t, rt, pos, "SongAdded")
	if v := rt.DataVersion("songs"); v == here {
		t.Fatal("a commit of events left the version unchanged")
	}
	eventually("the other process learns of the commit", func() bool { return other.DataVersion("songs") != there })

	// Both checkpoint listeners are connected by now (connecting counts
	// every projector's rows as changed once: notifications may have been
	// missed; not what this test looks at): each runtime has learned a
	// position of the other's projector through its listener.
	eventually("each runtime learns the other's positions", func() bool {
		return other.positions.get("songs") >= pos && rt.positions.get("idle") > 0
	})

	// Events the projector does not read: its checkpoint moves (and is
	// stored, after 50ms), its rows do not.
	here, there = rt.DataVersion("songs"), other.DataVersion("songs")
	head := appendEvents(t, store, 5, "ListenRecorded")
	eventually("the checkpoint is stored past the listens", func() bool { return checkpoint(t, pool, "songs") == head })
	eventually("the other process learns the checkpoint", func() bool { return other.positions.get("songs") >= head })
	if v := rt.DataVersion("songs"); v != here {
		t.Errorf("version moved from %d to %d for a checkpoint-only commit", here, v)
	}
	if v := other.DataVersion("songs"); v != there {
		t.Errorf("the other process's version moved from %d to %d for a checkpoint-only commit", there, v)
	}
	// Versions of other projectors are their own.
	if rt.DataVersion("songs", "idle") == rt.DataVersion("songs") && rt.DataVersion("idle") != 0 {
		t.Error("a sum of versions ignores a projector")
	}
}
