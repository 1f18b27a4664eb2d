package commands

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// Listens remember the songs and accounts they found alive, yet a song or an
// account deleted through another process is refused within moments: the
// library watches the log for deletions.
func TestRecordListenForgetsWhatAnotherProcessDeleted(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() *pgstore.Store {
		s, err := pgstore.New(pgstore.Config{PollInterval: 50 * time.Millisecond}, pool, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	here, there := open(), open()
	now := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	lib, err := NewLibrary(LibraryConfig{Now: func() time.Time { now = now.Add(time.Minute); return now }}, here)
	if err != nil {
		t.Fatal(err)
	}
	watchCtx, stopWatching := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); lib.Watch(watchCtx, quiet) }()
	t.Cleanup(func() { stopWatching(); <-watched })
	waitWatching(t, lib)

	song := newSong(t, there)
	listener := newListener(t, there)
	if _, err := lib.RecordListen(ctx, listener, song); err != nil {
		t.Fatal(err)
	}
	if !lib.alive.has("song", song) || !lib.alive.has("user", listener.UserID) {
		t.Fatal("a listen did not remember its song and account as alive")
	}

	// The song is deleted through the other store.
	if _, err := NewRepository(there, domain.SongStream, domain.NewSong).Update(ctx, song, func(s *domain.Song) error { return s.Delete() }); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		_, err := lib.RecordListen(ctx, listener, song)
		return errors.Is(err, domain.ErrNotFound)
	}, "a listen of a song deleted elsewhere is refused")

	// Another song, still alive; then the account is deleted elsewhere.
	other := newSong(t, there)
	if _, err := lib.RecordListen(ctx, listener, other); err != nil {
		t.Fatal(err)
	}
	admin := domain.Principal{UserID: uuid.NewString(), Role: domain.RoleAdmin}
	if _, err := NewRepository(there, domain.UserStream, domain.NewUser).Update(ctx, listener.UserID, func(u *domain.User) error { return u.Delete(admin) }); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		_, err := lib.RecordListen(ctx, listener, other)
		return errors.Is(err, domain.ErrUnauthorized)
	}, "a listen by an account deleted elsewhere is refused")
}

// Without the watch nothing is remembered: every listen reads.
func TestRecordListenRemembersNothingWithoutTheWatch(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	lib, err := NewLibrary(LibraryConfig{}, store)
	if err != nil {
		t.Fatal(err)
	}
	song, listener := newSong(t, store), newListener(t, store)
	if _, err := lib.RecordListen(ctx, listener, song); err != nil {
		t.Fatal(err)
	}
	if lib.alive.has("song", song) || lib.alive.has("user", listener.UserID) {
		t.Error("remembered a song or an account while nothing watches for deletions")
	}
	if _, err := NewRepository(store, domain.SongStream, domain.NewSong).Update(ctx, song, func(s *domain.Song) error { return s.Delete() }); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.RecordListen(ctx, listener, song); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("listen of a deleted song: %v, want not found at once", err)
	}
}

// A read that began before a deletion is not remembered after it.
func TestAliveCachePutAfterForgetIsDropped(t *testing.T) {
	c := newAliveCache(10)
	c.setWatching(true)
	epoch := c.begin()
	c.forget("song", "s1") // a deletion lands while the read is in flight
	c.put("song", "s1", epoch)
	if c.has("song", "s1") {
		t.Error("remembered a song read before its deletion was seen")
	}
	epoch = c.begin()
	c.put("song", "s1", epoch)
	if !c.has("song", "s1") {
		t.Error("did not remember a song read after the last deletion")
	}
	c.setWatching(false)
	if c.has("song", "s1") {
		t.Error("remembered a song after the watch stopped")
	}
}

func waitWatching(t *testing.T, lib *Library) {
	t.Helper()
	eventually(t, func() bool {
		lib.alive.mu.Lock()
		defer lib.alive.mu.Unlock()
		return lib.alive.watching
	}, "the library watches the log")
}

func eventually(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
