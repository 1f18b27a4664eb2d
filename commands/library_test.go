package commands

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// newSong puts a song (and its artist) in the store through the aggregates.
func newSong(t *testing.T, store eventstore.Store) string {
	t.Helper()
	ctx := context.Background()
	artistID, songID := uuid.NewString(), uuid.NewString()
	title := "Nơi này có anh"
	if _, err := NewRepository(store, domain.ArtistStream, domain.NewArtist).Update(ctx, artistID, func(a *domain.Artist) error {
		name := "Sơn Tùng M-TP"
		return a.Add(domain.ArtistFields{Name: &name}, SystemPrincipal)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRepository(store, domain.SongStream, domain.NewSong).Update(ctx, songID, func(s *domain.Song) error {
		return s.Add(domain.SongFields{Title: &title}, []string{artistID})
	}); err != nil {
		t.Fatal(err)
	}
	return songID
}

func listens(t *testing.T, store eventstore.Store, userID string) []eventstore.RecordedEvent {
	t.Helper()
	events, err := store.ReadStream(context.Background(), domain.ListensStream(userID), 0, 1000)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// newListener registers an account: listens of unknown or deleted accounts
// are refused.
func newListener(t *testing.T, store eventstore.Store) domain.Principal {
	t.Helper()
	id := uuid.NewString()
	if _, err := NewRepository(store, domain.UserStream, domain.NewUser).Update(context.Background(), id,
		func(u *domain.User) error { return u.Register("Lan", "", "", domain.RoleUser, "password") }); err != nil {
		t.Fatal(err)
	}
	return domain.Principal{UserID: id, Role: domain.RoleUser}
}

func TestRecordListenRefusesUnknownAccounts(t *testing.T) {
	store := newStore(t)
	lib, err := NewLibrary(LibraryConfig{}, store)
	if err != nil {
		t.Fatal(err)
	}
	song := newSong(t, store)
	_, err = lib.RecordListen(context.Background(), domain.Principal{UserID: uuid.NewString(), Role: domain.RoleUser}, song)
	if !errors.Is(err, domain.ErrUnauthorized) {
		t.Fatalf("listen of an unknown account: %v, want unauthorized", err)
	}
}

func TestRecordListenConcurrentRepeatsYieldOneEvent(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	lib, err := NewLibrary(LibraryConfig{}, store)
	if err != nil {
		t.Fatal(err)
	}
	song := newSong(t, store)
	user := newListener(t, store)
	// Several rounds: each starts identical listens of a new stream state at once.
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		start := make(chan struct{})
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := lib.RecordListen(ctx, user, song)
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := len(listens(t, store, user.UserID)); n != 1 {
			t.Fatalf("round %d: %d events, want 1", round, n)
		}
	}
}

func TestRecordListenWindowAndTail(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	now := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	lib, err := NewLibrary(LibraryConfig{Now: clock, ListenTail: 3}, store)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newSong(t, store), newSong(t, store)
	user := newListener(t, store)
	steps := []struct {
		song    string
		advance time.Duration
		total   int
	}{
		{a, 0, 1},
		{a, 10 * time.Second, 1},
		{b, 0, 2},
		{a, 25 * time.Second, 3}, // 35 s after the first play of a
		{b, 0, 3},                // 25 s after the play of b
		{b, 5 * time.Second, 4},
	}
	for i, s := range steps {
		advance(s.advance)
		w, err := lib.RecordListen(ctx, user, s.song)
		if err != nil {
			t.Fatal(err)
		}
		got := listens(t, store, user.UserID)
		if len(got) != s.total {
			t.Fatalf("step %d: %d events, want %d", i, len(got), s.total)
		}
		if recorded := w.Position > 0; recorded != (i == 0 || s.total > steps[i-1].total) {
			t.Fatalf("step %d: Written %+v does not match what was appended", i, w)
		}
	}
	// The last event is what an analyst reads.
	ev := listens(t, store, user.UserID)
	e, err := domain.DecodeEvent(ev[3].Type, ev[3].Data)
	if err != nil {
		t.Fatal(err)
	}
	if lr := e.(domain.ListenRecorded); lr.UserID != user.UserID || lr.SongID != b || !lr.ListenedAt.Equal(now) {
		t.Fatalf("event %+v", lr)
	}
}

func TestRecordListenAndFollowRefuseUnknownOrMalformed(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	lib, err := NewLibrary(LibraryConfig{}, store)
	if err != nil {
		t.Fatal(err)
	}
	user := newListener(t, store)
	for _, tc := range []struct {
		name string
		call func() error
		kind error
		msg  string
	}{
		{"unknown song", func() error { _, err := lib.RecordListen(ctx, user, uuid.NewString()); return err }, domain.ErrNotFound, "Song does not exist"},
		{"malformed song", func() error { _, err := lib.RecordListen(ctx, user, "x"); return err }, domain.ErrValidation, "Invalid song id: must be a UUID"},
		{"anonymous listen", func() error { _, err := lib.RecordListen(ctx, domain.Principal{}, uuid.NewString()); return err }, domain.ErrUnauthorized, "Authentication required"},
		{"unknown artist", func() error { _, err := lib.Follow(ctx, user, uuid.NewString()); return err }, domain.ErrNotFound, "Artist does not exist"},
		{"malformed artist", func() error { _, err := lib.Follow(ctx, user, "nope"); return err }, domain.ErrValidation, "Invalid artist id: must be a UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.kind) || err.Error() != tc.msg {
				t.Fatalf("err %v, want %v %q", err, tc.kind, tc.msg)
			}
		})
	}
	if _, err := NewLibrary(LibraryConfig{ListenTail: -1}, nil); err == nil {
		t.Fatal("a bad configuration was accepted")
	}
}
