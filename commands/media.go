package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/httpapi"
	"github.com/hustmusik/backend/infra/images"
)

// StreamURLTTL is how long a presigned stream (GET) URL is valid.
const StreamURLTTL = time.Hour

// MediaConfig wires the media commands to their stores.
type MediaConfig struct {
	Blobs  blob.Store   // audio (and, through images.BlobStore, images by default)
	Images images.Store // where uploaded images go: the blob store or Cloudinary
	Logger *slog.Logger // best-effort clean-ups report their failures here
	// Now is the clock of grants (default time.Now); tests move it.
	Now func() time.Time
}

func (c *MediaConfig) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every problem at once.
func (c MediaConfig) Validate() error {
	var errs []error
	if c.Blobs == nil {
		errs = append(errs, errors.New("media: a blob store is required"))
	}
	if c.Images == nil {
		errs = append(errs, errors.New("media: an image store is required"))
	}
	return errors.Join(errs...)
}

// Media hands out presigned audio URLs and keeps the images of users,
// artists, songs and collections. The catalog, identity and collection
// commands use it (UseMedia) to store a request's image and to clean up
// after deletions.
type Media struct {
	cfg     MediaConfig
	store   eventstore.Store
	songs   *Repository[*domain.Song]
	artists *Repository[*domain.Artist]
}

// NewMedia wires the media commands on the event store.
func NewMedia(cfg MediaConfig, store eventstore.Store) (*Media, error) {
	cfg.setDefaults()
	errs := []error{cfg.Validate()}
	if store == nil {
		errs = append(errs, errors.New("media: an event store is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Media{cfg: cfg, store: store,
		songs:   NewRepository(store, domain.SongStream, domain.NewSong),
		artists: NewRepository(store, domain.ArtistStream, domain.NewArtist),
	}, nil
}

// withActor puts the caller in the metadata of the events appended with
// ctx (an anonymous caller leaves it empty).
func withActor(ctx context.Context, by domain.Principal) context.Context {
	md := eventstore.MetadataFrom(ctx)
	if md.ActorID == "" && !by.Anonymous() {
		md.ActorID = by.UserID
	}
	if md.RequestID == "" {
		md.RequestID = httpapi.RequestIDFromContext(ctx)
	}
	return eventstore.WithMetadata(ctx, md)
}

// GrantUpload returns a URL the caller PUTs the song's mp3 to (with
// Content-Type audio/mpeg), valid domain.UploadGrantWindow: for the
// manager of the song's Primary artist or an Admin. Each grant is an
// AudioUploadGranted on the song's stream, and the Song refuses more than
// domain.UploadGrantLimit live grants (429).
func (m *Media) GrantUpload(ctx context.Context, by domain.Principal, songID string) (string, Written, error) {
	if by.Anonymous() {
		return "", Written{}, domain.Errorf(domain.ErrUnauthorized, "Authentication required")
	}
	if !domain.CanManageCatalog(by) {
		return "", Written{}, domain.Forbidden("Only the manager of the song's primary artist or an Admin can upload its audio")
	}
	s, err := m.songs.Load(ctx, songID)
	if err != nil {
		return "", Written{}, err
	}
	if !s.Exists() {
		return "", Written{}, domain.NotFound("Song does not exist")
	}
	primary, err := m.artists.Load(ctx, s.PrimaryArtist())
	if err != nil {
		return "", Written{}, err
	}
	if err := domain.AuthorizeSongChange(primary, by); err != nil {
		return "", Written{}, err
	}
	now := m.cfg.Now()
	var expires time.Time
	w, err := m.songs.Update(withActor(ctx, by), songID, func(s *domain.Song) error {
		var err error
		expires, err = s.GrantUpload(now)
		return err
	})
	if err != nil {
		return "", Written{}, err
	}
	url, err := m.cfg.Blobs.PresignPut(ctx, blob.AudioKey(songID), blob.AudioContentType, expires.Sub(now))
	if err != nil {
		return "", Written{}, fmt.Errorf("presign upload of song %s: %w", songID, err)
	}
	return url, w, nil
}

// GrantStream returns a URL that serves the song's audio as audio/mpeg,
// inline, for StreamURLTTL; anyone may ask. Each grant is a StreamGranted,
// appended to the song's plays stream with no expected revision (nothing
// is decided from that stream, and concurrent listeners must never
// conflict); the catalog projector counts them as views.
func (m *Media) GrantStream(ctx context.Context, by domain.Principal, songID string) (string, Written, error) {
	s, err := m.songs.Load(ctx, songID)
	if err != nil {
		return "", Written{}, err
	}
	if !s.Exists() {
		return "", Written{}, domain.NotFound("Song does not exist")
	}
	url, err := m.cfg.Blobs.PresignGet(ctx, blob.AudioKey(songID), blob.AudioContentType, StreamURLTTL, "inline")
	if err != nil {
		return "", Written{}, fmt.Errorf("presign stream of song %s: %w", songID, err)
	}
	w, err := appendAny(withActor(ctx, by), m.store, domain.SongPlaysStream(songID),
		domain.StreamGranted{SongID: songID, GrantedAt: m.cfg.Now().UTC()})
	if err != nil {
		return "", Written{}, err
	}
	return url, w, nil
}

// appendAny appends one event whatever the stream's revision: for streams
// of facts that no decision reads (a song's plays), where Repository's
// optimistic concurrency would only make concurrent writers retry.
func appendAny(ctx context.Context, store eventstore.Store, stream string, e domain.Event) (Written, error) {
	md := eventstore.MetadataFrom(ctx)
	md.OccurredAt = time.Now().UTC()
	md.SchemaVersion = 1
	raw, err := json.Marshal(e)
	if err != nil {
		return Written{}, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	res, err := store.Append(ctx, stream, eventstore.Any(),
		eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: e.EventType(), Data: raw, Metadata: md})
	if err != nil {
		return Written{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return Written{Position: res.Position, Types: []string{e.EventType()}}, nil
}

// Image is an uploaded image that images.Validate accepted; nothing is
// stored until a command has checked the request it came with.
type Image struct {
	format images.Image
	data   []byte
}

// ImageFromForm reads and validates the request's `file` part; nil when
// the request has none (or sent the text file=null). It runs before the
// command, so a bad file is a 400 before anything is written.
func ImageFromForm(f *httpapi.Form) (*Image, error) {
	fh, err := f.File()
	if err != nil || fh == nil {
		return nil, err
	}
	r, err := fh.Open()
	if err != nil {
		return nil, domain.Invalid("Could not read the uploaded file")
	}
	defer r.Close()
	format, data, err := images.Validate(r)
	if err != nil {
		return nil, err
	}
	return &Image{format: format, data: data}, nil
}

// pendingImageURL stands for the URL of an image not saved yet in the dry
// runs that check a change before its image is stored; it is never written.
const pendingImageURL = "https://images.invalid/pending"

func pendingImage() *string {
	u := pendingImageURL
	return &u
}

// withImage stores img as the image of (kind, id) around a write: check
// (permissions and a dry run of the change) runs first, so a refused
// request stores nothing; the image is saved and write receives its URL;
// a failed write deletes the image again. Without an image, write runs
// alone with a nil URL.
func (m *Media) withImage(ctx context.Context, img *Image, kind, id string, check func() error, write func(url *string) error) error {
	if img == nil {
		return write(nil)
	}
	if m == nil {
		return domain.Errorf(domain.ErrUnavailable, "Image uploads are not available")
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	url, err := m.cfg.Images.SaveImage(ctx, kind, id, img.format, img.data)
	if err != nil {
		return fmt.Errorf("save image of %s %s: %w", kind, id, err)
	}
	if err := write(&url); err != nil {
		m.forgetImage(ctx, kind, id)
		return err
	}
	return nil
}

// forgetImage deletes an owner's image, best effort: the owner is already
// gone (or never came to be), so a failure only leaves an orphan object,
// which is logged rather than failing a request that did its job.
func (m *Media) forgetImage(ctx context.Context, kind, id string) {
	if m == nil {
		return
	}
	if err := m.cfg.Images.DeleteImage(context.WithoutCancel(ctx), kind, id); err != nil {
		m.cfg.Logger.Warn("image not deleted; it is left orphaned", "kind", kind, "id", id, "err", err)
	}
}

// forgetAudio deletes a song's audio object, best effort (see forgetImage).
func (m *Media) forgetAudio(ctx context.Context, songID string) {
	if m == nil {
		return
	}
	if err := m.cfg.Blobs.Delete(context.WithoutCancel(ctx), blob.AudioKey(songID)); err != nil {
		m.cfg.Logger.Warn("audio not deleted; it is left orphaned", "song_id", songID, "err", err)
	}
}
