package commands

import (
	"context"
	"errors"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Seeder writes a demo catalog (`hustmusik seed`) through the same
// aggregates, checks and steps as the API's commands, with one difference:
// the caller chooses each new aggregate's id. Seed ids are derived from
// stable names, so a second run finds every aggregate already there and
// appends nothing. Each Ensure* reports whether it created something.
type Seeder struct {
	catalog     *Catalog
	collections *Collections
	users       *Repository[*domain.User]
}

// NewSeeder wires the seeder on the catalog and collection commands.
func NewSeeder(store eventstore.Store, catalog *Catalog, collections *Collections) (*Seeder, error) {
	if store == nil || catalog == nil || collections == nil {
		return nil, errors.New("seeder: store, catalog and collections are required")
	}
	return &Seeder{catalog: catalog, collections: collections,
		users: NewRepository(store, domain.UserStream, domain.NewUser)}, nil
}

// EnsureUser registers an account without credentials (nobody signs in as
// it): the principal the demo catalog is written by, and the owner of its
// playlists.
func (s *Seeder) EnsureUser(ctx context.Context, id, username, country string, role domain.Role) (bool, Written, error) {
	u, err := s.users.Load(ctx, id)
	if err != nil || u.Version() >= 0 {
		return false, Written{}, err
	}
	w, err := s.users.Update(ctx, id, func(u *domain.User) error {
		return u.Register(username, country, "", role, "seed")
	})
	return err == nil, w, err
}

// EnsureArtist adds the artist with a chosen id unless it exists.
func (s *Seeder) EnsureArtist(ctx context.Context, by domain.Principal, id string, f domain.ArtistFields) (bool, Written, error) {
	a, err := s.catalog.artists.Load(ctx, id)
	if err != nil || a.Version() >= 0 {
		return false, Written{}, err
	}
	_, w, err := s.catalog.addArtist(ctx, by, id, f)
	return err == nil, w, err
}

// EnsureSong adds the song with a chosen id unless it exists. A run that
// stopped between the credits and the song finishes the song.
func (s *Seeder) EnsureSong(ctx context.Context, by domain.Principal, id string, f domain.SongFields, rawArtists string) (bool, Written, error) {
	song, err := s.catalog.songs.Load(ctx, id)
	if err != nil || song.Version() >= 0 {
		return false, Written{}, err
	}
	_, w, err := s.catalog.addSong(ctx, by, id, f, &rawArtists)
	return err == nil, w, err
}

// EnsureCollection creates the collection with a chosen id unless it
// exists. Songs go in with Collections.AddSong itself, which appends
// nothing for a song already there.
func (s *Seeder) EnsureCollection(ctx context.Context, by domain.Principal, id string, f domain.CollectionFields) (bool, Written, error) {
	c, err := s.collections.collections.Load(ctx, id)
	if err != nil || c.Version() >= 0 {
		return false, Written{}, err
	}
	_, w, err := s.collections.create(ctx, by, id, f)
	return err == nil, w, err
}
