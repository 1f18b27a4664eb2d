package commands

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

var (
	catalogAdmin = domain.Principal{UserID: "0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", Role: domain.RoleAdmin}
	catalogMgr   = domain.Principal{UserID: "1c9f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", Role: domain.RoleArtistManager}
)

func sp(s string) *string { return &s }

func newCatalog(t *testing.T, store eventstore.Store) *Catalog {
	t.Helper()
	c, err := NewCatalog(store)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addTestArtist(t *testing.T, c *Catalog, name string) string {
	t.Helper()
	v, _, err := c.AddArtist(context.Background(), catalogMgr, domain.ArtistFields{Name: sp(name)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// songAppendsFail is the real store, except that every append to a song
// stream fails, as a lost connection would make it.
type songAppendsFail struct{ eventstore.Store }

func (s songAppendsFail) Append(ctx context.Context, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if strings.HasPrefix(stream, "song-") {
		return eventstore.AppendResult{}, errors.New("connection lost")
	}
	return s.Store.Append(ctx, stream, exp, evs...)
}

func TestCatalogAddSongCompensatesWhenSongAddedFails(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	c := newCatalog(t, store)
	a, b := addTestArtist(t, c, "Primary"), addTestArtist(t, c, "Featured")

	broken := newCatalog(t, songAppendsFail{store})
	_, _, err := broken.AddSong(ctx, catalogMgr, domain.SongFields{Title: sp("Lạc Trôi")}, sp(a+","+b), nil)
	if err == nil || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("AddSong: %v", err)
	}
	for _, id := range []string{a, b} {
		art, err := c.artists.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(art.Songs) != 0 {
			t.Fatalf("artist %s still credits %v", id, art.SongIDs())
		}
		if _, err := c.DeleteArtist(ctx, catalogMgr, id); err != nil {
			t.Fatalf("delete after a failed add: %v", err)
		}
	}
}

func TestCatalogAddSongCreditsBeforeAnyUnknownArtistIsWritten(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t, newStore(t))
	a := addTestArtist(t, c, "Primary")
	gone := addTestArtist(t, c, "Gone")
	if _, err := c.DeleteArtist(ctx, catalogMgr, gone); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.AddSong(ctx, catalogMgr, domain.SongFields{Title: sp("x")}, sp(a+","+gone), nil)
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("AddSong with a deleted artist: %v", err)
	}
	art, _ := c.artists.Load(ctx, a)
	if len(art.Songs) != 0 {
		t.Fatalf("primary credited by a song that was refused: %v", art.SongIDs())
	}
}

// A song add and an artist delete racing: never a song whose artist is
// deleted, never an artist blocked by a song that does not exist.
func TestCatalogConcurrentAddSongAndDeleteArtist(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t, newStore(t))
	var added, deleted int
	for round := range 12 {
		a := addTestArtist(t, c, "Racer")
		var wg sync.WaitGroup
		var song SongView
		var addErr, delErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			song, _, addErr = c.AddSong(ctx, catalogMgr, domain.SongFields{Title: sp("Race")}, sp(a), nil)
		}()
		go func() {
			defer wg.Done()
			_, delErr = c.DeleteArtist(ctx, catalogMgr, a)
		}()
		wg.Wait()
		art, err := c.artists.Load(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case addErr == nil && errors.Is(delErr, domain.ErrConflict):
			added++
			s, _ := c.songs.Load(ctx, song.ID)
			if !s.Exists() || !art.Exists() || !art.Songs[song.ID] {
				t.Fatalf("round %d: song added but artist state %+v", round, art)
			}
		case delErr == nil && errors.Is(addErr, domain.ErrNotFound):
			deleted++
			if art.Exists() || len(art.Songs) != 0 {
				t.Fatalf("round %d: artist deleted but %+v", round, art)
			}
		default:
			t.Fatalf("round %d: add %v, delete %v", round, addErr, delErr)
		}
	}
	t.Logf("%d rounds the song won, %d the delete", added, deleted)
}

func TestCatalogDeleteArtistDropsCreditsOfDeletedSongsOnly(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t, newStore(t))
	a := addTestArtist(t, c, "Artist")
	s, _, err := c.AddSong(ctx, catalogMgr, domain.SongFields{Title: sp("x")}, sp(a), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The song is deleted but its uncredit step never ran (a crash).
	if _, err := c.songs.Update(ctx, s.ID, func(s *domain.Song) error { return s.Delete() }); err != nil {
		t.Fatal(err)
	}
	// A song being added right now: credited, SongAdded not yet appended.
	inFlight := "2d0f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	if _, err := c.artists.Update(ctx, a, func(x *domain.Artist) error { return x.Credit(inFlight) }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteArtist(ctx, catalogMgr, a); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("an in-flight song must block the delete: %v", err)
	}
	// A refused delete appends nothing, not even the dropped credit.
	if art, _ := c.artists.Load(ctx, a); !art.Songs[s.ID] || !art.Exists() {
		t.Fatalf("a refused delete changed the artist: %+v", art)
	}
	if _, err := c.artists.Update(ctx, a, func(x *domain.Artist) error { x.Uncredit(inFlight); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteArtist(ctx, catalogMgr, a); err != nil {
		t.Fatalf("only a deleted song's credit is left: %v", err)
	}
}

func TestCatalogPermissions(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t, newStore(t))
	a := addTestArtist(t, c, "Artist")
	other := domain.Principal{UserID: "3e1f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", Role: domain.RoleArtistManager}
	user := domain.Principal{UserID: "4f2f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", Role: domain.RoleUser}
	s, _, err := c.AddSong(ctx, catalogAdmin, domain.SongFields{Title: sp("x")}, sp(a), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		kind error
	}{
		{"user adds artist", func() error { _, _, err := c.AddArtist(ctx, user, domain.ArtistFields{Name: sp("x")}, nil); return err }, domain.ErrForbidden},
		{"other updates artist", func() error {
			_, _, err := c.UpdateArtist(ctx, other, a, domain.ArtistFields{Name: sp("y")}, nil)
			return err
		}, domain.ErrForbidden},
		{"other deletes artist", func() error { _, err := c.DeleteArtist(ctx, other, a); return err }, domain.ErrForbidden},
		{"other adds song", func() error {
			_, _, err := c.AddSong(ctx, other, domain.SongFields{Title: sp("x")}, sp(a), nil)
			return err
		}, domain.ErrForbidden},
		{"user updates song", func() error {
			_, _, err := c.UpdateSong(ctx, user, s.ID, domain.SongFields{Genre: sp("x")}, nil)
			return err
		}, domain.ErrForbidden},
		{"other deletes song", func() error { _, err := c.DeleteSong(ctx, other, s.ID); return err }, domain.ErrForbidden},
		{"manager updates song", func() error {
			_, _, err := c.UpdateSong(ctx, catalogMgr, s.ID, domain.SongFields{Genre: sp("x")}, nil)
			return err
		}, nil},
	} {
		if err := tc.run(); tc.kind == nil && err != nil || tc.kind != nil && !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
