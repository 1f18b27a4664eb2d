package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/images"
)

// Catalog handles the artist and song commands. A song names its artists on
// their own streams too (ArtistSongCredited), so that an artist refuses to be
// deleted while songs still credit it, and a concurrent artist delete and
// song add conflict on the artist's stream instead of both landing.
type Catalog struct {
	artists *Repository[*domain.Artist]
	songs   *Repository[*domain.Song]
	media   *Media // images and audio; nil refuses image uploads
}

// NewCatalog wires the catalog commands on the event store.
func NewCatalog(store eventstore.Store) (*Catalog, error) {
	if store == nil {
		return nil, errors.New("catalog: an event store is required")
	}
	return &Catalog{
		artists: NewRepository(store, domain.ArtistStream, domain.NewArtist),
		songs:   NewRepository(store, domain.SongStream, domain.NewSong),
	}, nil
}

// UseMedia lets the catalog store the images of its writes and delete a
// deleted song's audio and images. Call it before serving.
func (h *Catalog) UseMedia(m *Media) { h.media = m }

// ArtistView is the artist object of the wire contract, as writes answer it.
type ArtistView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	AvatarURL   string `json:"avatarurl"`
	Country     string `json:"country"`
	ManagerID   string `json:"managerid"`
}

func artistOf(a *domain.Artist) ArtistView {
	return ArtistView{ID: a.ID, Name: a.Name, Description: a.Description, AvatarURL: a.AvatarURL,
		Country: a.Country, ManagerID: a.ManagerID}
}

// SongArtistView is a credited artist in a song write's answer (the flat
// form of Get Song By ID).
type SongArtistView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatarurl"`
}

// SongView is a song as its writes answer it, built from the aggregates.
type SongView struct {
	ID           string           `json:"id"`
	Title        string           `json:"title"`
	Description  string           `json:"description"`
	ThumbnailURL string           `json:"thumbnailurl"`
	Duration     int              `json:"duration"`
	ReleaseDate  string           `json:"releasedate"`
	Genre        string           `json:"genre"`
	Artists      []SongArtistView `json:"artists"`
}

func songOf(s *domain.Song, artists []*domain.Artist) SongView {
	v := SongView{ID: s.ID, Title: s.Title, Description: s.Description, ThumbnailURL: s.ThumbnailURL,
		Duration: s.Duration, ReleaseDate: s.ReleaseDate, Genre: s.Genre, Artists: []SongArtistView{}}
	for _, a := range artists {
		v.Artists = append(v.Artists, SongArtistView{ID: a.ID, Name: a.Name, AvatarURL: a.AvatarURL})
	}
	return v
}

// AddArtist puts a new artist in the catalog, managed by the caller; img
// (may be nil) becomes its avatar.
func (h *Catalog) AddArtist(ctx context.Context, by domain.Principal, f domain.ArtistFields, img *Image) (ArtistView, Written, error) {
	id := uuid.NewString()
	var view ArtistView
	var w Written
	err := h.media.withImage(ctx, img, images.KindArtists, id, func() error {
		probe := f
		probe.AvatarURL = pendingImage()
		return domain.NewArtist(id).Add(probe, by)
	}, func(url *string) error {
		if url != nil {
			f.AvatarURL = url
		}
		var err error
		view, w, err = h.addArtist(ctx, by, id, f)
		return err
	})
	return view, w, err
}

// addArtist is AddArtist with the new artist's id chosen by the caller (the
// seed derives ids from names so that a second run adds nothing).
func (h *Catalog) addArtist(ctx context.Context, by domain.Principal, id string, f domain.ArtistFields) (ArtistView, Written, error) {
	if !domain.CanManageCatalog(by) {
		return ArtistView{}, Written{}, domain.Forbidden("Only an Artist Manager or an Admin can add artists")
	}
	var view ArtistView
	w, err := h.artists.Update(ctx, id, func(a *domain.Artist) error {
		if err := a.Add(f, by); err != nil {
			return err
		}
		view = artistOf(a)
		return nil
	})
	return view, w, err
}

// UpdateArtist changes some of an artist's fields: its manager or an Admin.
// img (may be nil) becomes its avatar.
func (h *Catalog) UpdateArtist(ctx context.Context, by domain.Principal, id string, f domain.ArtistFields, img *Image) (ArtistView, Written, error) {
	if !domain.CanManageCatalog(by) {
		return ArtistView{}, Written{}, domain.Forbidden("Only the artist's manager or an Admin can change it")
	}
	var view ArtistView
	var w Written
	err := h.media.withImage(ctx, img, images.KindArtists, id, func() error {
		a, err := h.artists.Load(ctx, id)
		if err != nil {
			return err
		}
		probe := f
		probe.AvatarURL = pendingImage()
		return a.Update(probe, by)
	}, func(url *string) error {
		if url != nil {
			f.AvatarURL = url
		}
		var err error
		w, err = h.artists.Update(ctx, id, func(a *domain.Artist) error {
			if err := a.Update(f, by); err != nil {
				return err
			}
			view = artistOf(a)
			return nil
		})
		return err
	})
	return view, w, err
}

// DeleteArtist removes an artist that no song credits any more.
func (h *Catalog) DeleteArtist(ctx context.Context, by domain.Principal, id string) (Written, error) {
	if !domain.CanManageCatalog(by) {
		return Written{}, domain.Forbidden("Only the artist's manager or an Admin can delete it")
	}
	a, err := h.artists.Load(ctx, id)
	if err != nil {
		return Written{}, err
	}
	if !a.Exists() {
		return Written{}, domain.NotFound("Artist does not exist")
	}
	if !a.ManagedBy(by) {
		return Written{}, domain.Forbidden("Only the artist's manager or an Admin can delete it")
	}
	// A song delete whose uncredit step failed leaves a credit of a deleted
	// song behind; such credits must not block the artist forever. Only songs
	// whose stream says Deleted count: a song that is not added yet may be in
	// the middle of being added, and its credit must keep blocking.
	var gone []string
	for _, sid := range a.SongIDs() {
		s, err := h.songs.Load(ctx, sid)
		if err != nil {
			return Written{}, err
		}
		if s.Deleted {
			gone = append(gone, sid)
		}
	}
	w, err := h.artists.Update(ctx, id, func(a *domain.Artist) error {
		for _, sid := range gone {
			a.Uncredit(sid)
		}
		return a.Delete(by)
	})
	if err != nil {
		return Written{}, err
	}
	// Only once ArtistDeleted is in the log: deleting the image first would
	// leave a live artist without it if the append failed.
	h.media.forgetImage(ctx, images.KindArtists, id)
	return w, nil
}

// AddSong puts a new song in the catalog. rawArtists is the comma-separated
// `artists` field (nil when absent): the first is the Primary artist, whose
// manager (or an Admin) may add it. img (may be nil) becomes its thumbnail.
func (h *Catalog) AddSong(ctx context.Context, by domain.Principal, f domain.SongFields, rawArtists *string, img *Image) (SongView, Written, error) {
	id := uuid.NewString()
	var view SongView
	var w Written
	err := h.media.withImage(ctx, img, images.KindSongs, id, func() error {
		probe := f
		probe.ThumbnailURL = pendingImage()
		ids, _, err := h.checkAddSong(ctx, by, probe, rawArtists)
		if err != nil {
			return err
		}
		return domain.NewSong(id).Add(probe, ids)
	}, func(url *string) error {
		if url != nil {
			f.ThumbnailURL = url
		}
		var err error
		view, w, err = h.addSong(ctx, by, id, f, rawArtists)
		return err
	})
	return view, w, err
}

// checkAddSong validates a new song and checks that by may add it: every
// artist exists and by manages the Primary one (or is an Admin).
func (h *Catalog) checkAddSong(ctx context.Context, by domain.Principal, f domain.SongFields, rawArtists *string) ([]string, []*domain.Artist, error) {
	if !domain.CanManageCatalog(by) {
		return nil, nil, domain.Forbidden("Only an Artist Manager or an Admin can add songs")
	}
	ids, err := domain.CheckNewSong(f, rawArtists)
	if err != nil {
		return nil, nil, err
	}
	artists, err := h.loadArtists(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	if err := domain.AuthorizeSongChange(artists[0], by); err != nil {
		return nil, nil, err
	}
	return ids, artists, nil
}

// addSong is AddSong with the new song's id chosen by the caller. Crediting
// is idempotent, so a second call for a song whose credits were written but
// whose SongAdded was not finishes the song.
func (h *Catalog) addSong(ctx context.Context, by domain.Principal, songID string, f domain.SongFields, rawArtists *string) (SongView, Written, error) {
	ids, artists, err := h.checkAddSong(ctx, by, f, rawArtists)
	if err != nil {
		return SongView{}, Written{}, err
	}
	// Credit first: an artist deleted meanwhile refuses the credit (404), and
	// an artist delete racing with us meets our credit on its stream.
	var w Written
	credited := make([]string, 0, len(ids))
	for _, aid := range ids {
		cw, err := h.artists.Update(ctx, aid, func(a *domain.Artist) error { return a.Credit(songID) })
		if err != nil {
			return SongView{}, Written{}, h.compensate(ctx, songID, credited, err)
		}
		w = w.merge(cw)
		credited = append(credited, aid)
	}
	var song *domain.Song
	sw, err := h.songs.Update(ctx, songID, func(s *domain.Song) error {
		song = s
		return s.Add(f, ids)
	})
	if err != nil {
		return SongView{}, Written{}, h.compensate(ctx, songID, credited, err)
	}
	return songOf(song, artists), w.merge(sw), nil
}

// compensate takes back the credits of a song that was not added, so that
// no artist stays blocked by a song that does not exist.
func (h *Catalog) compensate(ctx context.Context, songID string, credited []string, cause error) error {
	errs := []error{cause}
	for _, aid := range credited {
		if _, err := h.artists.Update(context.WithoutCancel(ctx), aid, func(a *domain.Artist) error {
			a.Uncredit(songID)
			return nil
		}); err != nil {
			errs = append(errs, fmt.Errorf("uncredit song %s on artist %s: %w", songID, aid, err))
		}
	}
	return errors.Join(errs...)
}

// UpdateSong changes some of a song's fields; img (may be nil) becomes its
// thumbnail.
func (h *Catalog) UpdateSong(ctx context.Context, by domain.Principal, id string, f domain.SongFields, img *Image) (SongView, Written, error) {
	s, artists, err := h.authorizedSong(ctx, by, id)
	if err != nil {
		return SongView{}, Written{}, err
	}
	var w Written
	err = h.media.withImage(ctx, img, images.KindSongs, id, func() error {
		probe := f
		probe.ThumbnailURL = pendingImage()
		return s.Update(probe) // s is a loaded copy: the dry run appends nothing
	}, func(url *string) error {
		if url != nil {
			f.ThumbnailURL = url
		}
		var err error
		w, err = h.songs.Update(ctx, id, func(fresh *domain.Song) error {
			s = fresh
			return fresh.Update(f)
		})
		return err
	})
	if err != nil {
		return SongView{}, Written{}, err
	}
	return songOf(s, artists), w, nil
}

// DeleteSong removes a song: SongDeleted first (the song is gone for every
// read model), then its credits on the artists' streams.
func (h *Catalog) DeleteSong(ctx context.Context, by domain.Principal, id string) (Written, error) {
	s, _, err := h.authorizedSong(ctx, by, id)
	if err != nil {
		return Written{}, err
	}
	w, err := h.songs.Update(ctx, id, func(fresh *domain.Song) error {
		s = fresh
		return fresh.Delete()
	})
	if err != nil {
		return Written{}, err
	}
	// Its audio and image go only now that SongDeleted is in the log:
	// deleting them first would leave a live song without its audio if the
	// append failed, while an object left behind by a failed delete here is
	// only an orphan (logged), never a broken song.
	h.media.forgetAudio(ctx, id)
	h.media.forgetImage(ctx, images.KindSongs, id)
	// The song is deleted whatever happens now; a credit left behind by a
	// failure here is dropped by DeleteArtist, which sees the song Deleted.
	var errs []error
	for _, aid := range s.ArtistIDs {
		uw, err := h.artists.Update(context.WithoutCancel(ctx), aid, func(a *domain.Artist) error {
			a.Uncredit(id)
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("uncredit deleted song %s on artist %s: %w", id, aid, err))
			continue
		}
		w = w.merge(uw)
	}
	return w, errors.Join(errs...)
}

// authorizedSong loads a song and its artists and checks that by may change
// it (judged on its Primary artist).
func (h *Catalog) authorizedSong(ctx context.Context, by domain.Principal, id string) (*domain.Song, []*domain.Artist, error) {
	if !domain.CanManageCatalog(by) {
		return nil, nil, domain.Forbidden("Only an Artist Manager or an Admin can change songs")
	}
	s, err := h.songs.Load(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !s.Exists() {
		return nil, nil, domain.NotFound("Song does not exist")
	}
	artists := make([]*domain.Artist, 0, len(s.ArtistIDs))
	for _, aid := range s.ArtistIDs {
		a, err := h.artists.Load(ctx, aid)
		if err != nil {
			return nil, nil, err
		}
		artists = append(artists, a)
	}
	var primary *domain.Artist
	if len(artists) > 0 {
		primary = artists[0]
	}
	if err := domain.AuthorizeSongChange(primary, by); err != nil {
		return nil, nil, err
	}
	return s, artists, nil
}

// loadArtists loads the credited artists of a new song; each must exist.
func (h *Catalog) loadArtists(ctx context.Context, ids []string) ([]*domain.Artist, error) {
	out := make([]*domain.Artist, 0, len(ids))
	for _, id := range ids {
		a, err := h.artists.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		if !a.Exists() {
			return nil, domain.Errorf(domain.ErrNotFound, "Artist %s does not exist", id)
		}
		out = append(out, a)
	}
	return out, nil
}
