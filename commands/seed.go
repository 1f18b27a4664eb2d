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

// EnsureArtist is Catalog.AddArtist with a chosen id.
func (s *Seeder) EnsureArtist(ctx context.Context, by domain.Principal, id string, f domain.ArtistFields) (bool, Written, error) {
	if !domain.CanManageCatalog(by) {
		return false, Written{}, domain.Forbidden("Only an Artist Manager or an Admin can add artists")
	}
	a, err := s.catalog.artists.Load(ctx, id)
	if err != nil || a.Version() >= 0 {
		return false, Written{}, err
	}
	w, err := s.catalog.artists.Update(ctx, id, func(a *domain.Artist) error { return a.Add(f, by) })
	return err == nil, w, err
}

// EnsureSong is Catalog.AddSong with a chosen id: the same checks, the same
// credits on the artists' streams first, the same compensation on failure.
// A run that stopped between the credits and the song finishes the song.
func (s *Seeder) EnsureSong(ctx context.Context, by domain.Principal, id string, f domain.SongFields, rawArtists string) (bool, Written, error) {
	if !domain.CanManageCatalog(by) {
		return false, Written{}, domain.Forbidden("Only an Artist Manager or an Admin can add songs")
	}
	song, err := s.catalog.songs.Load(ctx, id)
	if err != nil || song.Version() >= 0 {
		return false, Written{}, err
	}
	ids, err := domain.CheckNewSong(f, &rawArtists)
	if err != nil {
		return false, Written{}, err
	}
	artists, err := s.catalog.loadArtists(ctx, ids)
	if err != nil {
		return false, Written{}, err
	}
	if err := domain.AuthorizeSongChange(artists[0], by); err != nil {
		return false, Written{}, err
	}
	var w Written
	credited := make([]string, 0, len(ids))
	for _, aid := range ids {
		cw, err := s.catalog.artists.Update(ctx, aid, func(a *domain.Artist) error { return a.Credit(id) })
		if err != nil {
			return false, Written{}, s.catalog.compensate(ctx, id, credited, err)
		}
		w = w.merge(cw)
		credited = append(credited, aid)
	}
	sw, err := s.catalog.songs.Update(ctx, id, func(s *domain.Song) error { return s.Add(f, ids) })
	if err != nil {
		return false, Written{}, s.catalog.compensate(ctx, id, credited, err)
	}
	return true, w.merge(sw), nil
}

// EnsureCollection is Collections.Create with a chosen id. Songs go in
// with Collections.AddSong itself, which appends nothing for a song
// already there.
func (s *Seeder) EnsureCollection(ctx context.Context, by domain.Principal, id string, f domain.CollectionFields) (bool, Written, error) {
	c, err := s.collections.collections.Load(ctx, id)
	if err != nil || c.Version() >= 0 {
		return false, Written{}, err
	}
	u, err := s.collections.users.Load(ctx, by.UserID)
	if err != nil {
		return false, Written{}, err
	}
	if !u.Exists() {
		return false, Written{}, domain.Errorf(domain.ErrUnauthorized, "User does not exist")
	}
	w, err := s.collections.collections.Update(ctx, id, func(c *domain.Collection) error { return c.Create(f, by) })
	return err == nil, w, err
}
