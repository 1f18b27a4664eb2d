package commands

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(pgstore.Config{}, pgtest.New(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestUpdateNeverLosesConcurrentChanges(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	repo := NewRepository(store, domain.UserStream, domain.NewUser)
	id := uuid.NewString()
	if _, err := repo.Update(ctx, id, func(u *domain.User) error {
		return u.Register("Lan", "", "", domain.RoleUser, "password")
	}); err != nil {
		t.Fatal(err)
	}
	const writers = 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := repo.Update(ctx, id, func(u *domain.User) error { return u.CredentialsChanged(false, true) })
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
	events, err := store.ReadStream(ctx, domain.UserStream(id), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != writers+1 {
		t.Fatalf("stream has %d events, want %d", len(events), writers+1)
	}
}

func TestUpdateAppendsNothingWhenDecideFails(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	repo := NewRepository(store, domain.UserStream, domain.NewUser)
	id := uuid.NewString()
	_, err := repo.Update(ctx, id, func(u *domain.User) error { return u.ChangeProfile(domain.Profile{}) })
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("err = %v, want not found", err)
	}
	if _, err := store.ReadStream(ctx, domain.UserStream(id), 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("a failed decision wrote events: %v", err)
	}
}

func TestLoadReplaysManyPages(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	repo := NewRepository(store, domain.UserStream, domain.NewUser)
	id := uuid.NewString()
	repo.Update(ctx, id, func(u *domain.User) error { return u.Register("A", "", "", domain.RoleUser, "password") })
	for i := 0; i < readPage+10; i++ {
		name := "name-" + uuid.NewString()[:6]
		if _, err := repo.Update(ctx, id, func(u *domain.User) error {
			return u.ChangeProfile(domain.Profile{Username: &name})
		}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := repo.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Version() != int64(readPage+10) {
		t.Fatalf("version %d, want %d", u.Version(), readPage+10)
	}
}
