package commands

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
)

// Two processes serving one listener: each keeps its own recent plays, yet
// each decides on what the other appended since.
func TestRecordListenCacheSeesOtherProcessesAppends(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	now := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	one, err := NewLibrary(LibraryConfig{Now: clock}, store)
	if err != nil {
		t.Fatal(err)
	}
	two, err := NewLibrary(LibraryConfig{Now: clock}, store)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newSong(t, store), newSong(t, store)
	user := newListener(t, store)
	steps := []struct {
		lib     *Library
		song    string
		advance time.Duration
		total   int
	}{
		{one, a, 0, 1},                // one caches [a]
		{two, b, time.Second, 2},      // two reads the tail: [a, b]
		{one, b, time.Second, 2},      // one's cache is behind: it must read b before deciding
		{one, a, time.Second, 2},      // still within a's window, from the cache
		{two, a, 40 * time.Second, 3}, // a's window is over
		{one, a, time.Second, 3},      // one learns of two's a from the stream
		{one, b, 0, 4},
	}
	for i, s := range steps {
		advance(s.advance)
		if _, err := s.lib.RecordListen(ctx, user, s.song); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n := len(listens(t, store, user.UserID)); n != s.total {
			t.Fatalf("step %d: %d events, want %d", i, n, s.total)
		}
	}
	// Plays stay strictly ordered in the stream whichever process wrote them.
	ev := listens(t, store, user.UserID)
	var prev time.Time
	for _, rec := range ev {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		at := e.(domain.ListenRecorded).ListenedAt
		if !at.After(prev) {
			t.Fatalf("listened_at %s not after %s", at, prev)
		}
		prev = at
	}
}

// Identical listens racing from two processes still yield one event.
func TestRecordListenRacingProcessesYieldOneEvent(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	libs := make([]*Library, 2)
	for i := range libs {
		l, err := NewLibrary(LibraryConfig{}, store)
		if err != nil {
			t.Fatal(err)
		}
		libs[i] = l
	}
	user := newListener(t, store)
	for round := range 3 {
		song := newSong(t, store)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := libs[i%2].RecordListen(ctx, user, song)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := len(listens(t, store, user.UserID)); n != round+1 {
			t.Fatalf("round %d: %d events, want %d", round, n, round+1)
		}
	}
}

func TestRecentListensKeepsOnlyWhatDecides(t *testing.T) {
	at := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	play := func(song string, s int) domain.ListenRecorded {
		return domain.ListenRecorded{SongID: song, ListenedAt: at.Add(time.Duration(s) * time.Second)}
	}
	tests := []struct {
		name  string
		plays []domain.ListenRecorded
		tail  int
		want  []string
	}{
		{"all within the window", []domain.ListenRecorded{play("a", 0), play("b", 10), play("c", 20)}, 10, []string{"a", "b", "c"}},
		{"older than the window before the last", []domain.ListenRecorded{play("a", 0), play("b", 15), play("c", 40)}, 10, []string{"b", "c"}},
		{"the last always stays", []domain.ListenRecorded{play("a", 0), play("b", 100)}, 10, []string{"b"}},
		{"at most tail", []domain.ListenRecorded{play("a", 0), play("b", 1), play("c", 2)}, 2, []string{"b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newRecentListens(10, tt.tail)
			c.put("u", tt.plays, 7)
			got, ok := c.get("u")
			if !ok || got.revision != 7 {
				t.Fatalf("get: %+v %v", got, ok)
			}
			var songs []string
			for _, p := range got.plays {
				songs = append(songs, p.SongID)
			}
			if len(songs) != len(tt.want) {
				t.Fatalf("kept %v, want %v", songs, tt.want)
			}
			for i := range songs {
				if songs[i] != tt.want[i] {
					t.Fatalf("kept %v, want %v", songs, tt.want)
				}
			}
		})
	}
	// Bounded: a full cache drops someone to take a newcomer.
	c := newRecentListens(2, 10)
	for range 5 {
		c.put(uuid.NewString(), []domain.ListenRecorded{play("a", 0)}, 0)
	}
	if len(c.streams) != 2 {
		t.Fatalf("%d listeners kept, want 2", len(c.streams))
	}
}
