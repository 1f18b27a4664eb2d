package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/images"
)

// Collections handles the playlist and album commands.
type Collections struct {
	collections *Repository[*domain.Collection]
	songs       *Repository[*domain.Song]
	users       *Repository[*domain.User]
	media       *Media // thumbnails; nil refuses image uploads
}

// NewCollections wires the collection commands.
func NewCollections(store eventstore.Store) (*Collections, error) {
	if store == nil {
		return nil, errors.New("collections: an event store is required")
	}
	return &Collections{
		collections: NewRepository(store, domain.CollectionStream, domain.NewCollection),
		songs:       NewRepository(store, domain.SongStream, domain.NewSong),
		users:       NewRepository(store, domain.UserStream, domain.NewUser),
	}, nil
}

// UseMedia lets the collections store their thumbnails and delete a
// deleted collection's. Call it before serving.
func (h *Collections) UseMedia(m *Media) { h.media = m }

// Create makes a collection owned by the caller and returns its state;
// img (may be nil) becomes its thumbnail.
func (h *Collections) Create(ctx context.Context, by domain.Principal, f domain.CollectionFields, img *Image) (*domain.Collection, Written, error) {
	id := uuid.NewString()
	var state *domain.Collection
	var w Written
	err := h.media.withImage(ctx, img, images.KindCollections, id, func() error {
		probe := f
		probe.ThumbnailURL = pendingImage()
		return domain.NewCollection(id).Create(probe, by)
	}, func(url *string) error {
		if url != nil {
			f.ThumbnailURL = url
		}
		var err error
		state, w, err = h.create(ctx, by, id, f)
		return err
	})
	return state, w, err
}

// create is Create with the new collection's id chosen by the caller.
func (h *Collections) create(ctx context.Context, by domain.Principal, id string, f domain.CollectionFields) (*domain.Collection, Written, error) {
	// Validate and check the role before anything is read.
	if err := domain.NewCollection(uuid.Nil.String()).Create(f, by); err != nil {
		return nil, Written{}, err
	}
	// An access token outlives a deleted account by up to its TTL: a
	// deleted user's new collection would have no owner.
	u, err := h.users.Load(ctx, by.UserID)
	if err != nil {
		return nil, Written{}, err
	}
	if !u.Exists() {
		return nil, Written{}, domain.Errorf(domain.ErrUnauthorized, "User does not exist")
	}
	var state *domain.Collection
	w, err := h.collections.Update(ctx, id, func(c *domain.Collection) error {
		state = c
		return c.Create(f, by)
	})
	return state, w, err
}

// Update changes a collection's fields; its owner or an Admin only. img
// (may be nil) becomes its thumbnail.
func (h *Collections) Update(ctx context.Context, by domain.Principal, id string, f domain.CollectionFields, img *Image) (*domain.Collection, Written, error) {
	var state *domain.Collection
	var w Written
	err := h.media.withImage(ctx, img, images.KindCollections, id, func() error {
		c, err := h.collections.Load(ctx, id)
		if err != nil {
			return err
		}
		probe := f
		probe.ThumbnailURL = pendingImage()
		return c.Update(probe, by)
	}, func(url *string) error {
		if url != nil {
			f.ThumbnailURL = url
		}
		var err error
		w, err = h.collections.Update(ctx, id, func(c *domain.Collection) error {
			state = c
			return c.Update(f, by)
		})
		return err
	})
	return state, w, err
}

// Delete deletes a collection; its owner or an Admin only.
func (h *Collections) Delete(ctx context.Context, by domain.Principal, id string) (Written, error) {
	w, err := h.collections.Update(ctx, id, func(c *domain.Collection) error { return c.Delete(by) })
	if err != nil {
		return Written{}, err
	}
	// Only once CollectionDeleted is in the log (see Catalog.DeleteSong).
	h.media.forgetImage(ctx, images.KindCollections, id)
	return w, nil
}

// AddSong appends a song to a collection. The permission check comes first,
// so a stranger learns nothing about which songs exist; then the Song
// aggregate says whether the song exists (a deleted song stays in the
// Collection aggregate, which is not told, so this comes before the "already
// there" no-op: adding a deleted song is a 404). Concurrent adds all land:
// Repository.Update retries on a revision conflict.
func (h *Collections) AddSong(ctx context.Context, by domain.Principal, id, songID string) (Written, error) {
	c, err := h.collections.Load(ctx, id)
	if err != nil {
		return Written{}, err
	}
	if err := c.CheckChange(by); err != nil {
		return Written{}, err
	}
	s, err := h.songs.Load(ctx, songID)
	if err != nil {
		return Written{}, err
	}
	if !s.Exists() {
		return Written{}, domain.NotFound("Song does not exist")
	}
	return h.collections.Update(ctx, id, func(c *domain.Collection) error { return c.AddSong(songID, by) })
}

// RemoveSong takes a song out of a collection; a song that is not in it (or
// no longer exists) is not an error.
func (h *Collections) RemoveSong(ctx context.Context, by domain.Principal, id, songID string) (Written, error) {
	return h.collections.Update(ctx, id, func(c *domain.Collection) error { return c.RemoveSong(songID, by) })
}
