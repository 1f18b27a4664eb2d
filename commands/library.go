package commands

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// LibraryConfig tunes the library commands (follows and listens).
type LibraryConfig struct {
	// Now is the clock that stamps listens (default time.Now); tests move it.
	Now func() time.Time
	// ListenTail is how many of a listener's last events decide a new
	// listen (default domain.ListeningTail).
	ListenTail int
	// ListenCache is how many listeners' recent plays are kept in memory
	// between their listens (default 20000; a few hundred bytes each).
	ListenCache int
	// AliveCache is how many songs and accounts a listen remembers as
	// alive (default 200000; see aliveCache), while Watch runs.
	AliveCache int
}

func (c *LibraryConfig) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ListenTail == 0 {
		c.ListenTail = domain.ListeningTail
	}
	if c.ListenCache == 0 {
		c.ListenCache = 20000
	}
	if c.AliveCache == 0 {
		c.AliveCache = 200000
	}
}

// Validate reports every problem of the configuration at once.
func (c LibraryConfig) Validate() error {
	var errs []error
	if c.ListenTail < 1 {
		errs = append(errs, errors.New("library: ListenTail must be at least 1"))
	}
	if c.ListenCache < 1 {
		errs = append(errs, errors.New("library: ListenCache must be at least 1"))
	}
	if c.AliveCache < 1 {
		errs = append(errs, errors.New("library: AliveCache must be at least 1"))
	}
	return errors.Join(errs...)
}

// Library handles a listener's own library: followed artists and listens.
type Library struct {
	cfg     LibraryConfig
	users   *Repository[*domain.User]
	artists *Repository[*domain.Artist]
	songs   *Repository[*domain.Song]
	listens *Repository[*domain.Listening]
	store   eventstore.Store
	recent  *recentListens
	alive   *aliveCache
}

// NewLibrary wires the library commands on the event store.
func NewLibrary(cfg LibraryConfig, store eventstore.Store) (*Library, error) {
	cfg.setDefaults()
	var errs []error
	if store == nil {
		errs = append(errs, errors.New("library: an event store is required"))
	}
	errs = append(errs, cfg.Validate())
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Library{cfg: cfg,
		users:   NewRepository(store, domain.UserStream, domain.NewUser),
		artists: NewRepository(store, domain.ArtistStream, domain.NewArtist),
		songs:   NewRepository(store, domain.SongStream, domain.NewSong),
		listens: NewRepository(store, domain.ListensStream, domain.NewListening),
		store:   store,
		recent:  newRecentListens(cfg.ListenCache, cfg.ListenTail),
		alive:   newAliveCache(cfg.AliveCache),
	}, nil
}

// Watch follows the log for deleted songs and accounts until ctx ends, so
// that listens may remember the ones they found alive (see aliveCache).
// Without it every listen reads the song's and the listener's streams.
func (h *Library) Watch(ctx context.Context, logger *slog.Logger) {
	h.alive.watch(ctx, h.store, logger)
}

func signedIn(by domain.Principal) error {
	if by.Anonymous() {
		return domain.Errorf(domain.ErrUnauthorized, "Authentication required")
	}
	return nil
}

// Follow adds an artist to the caller's followed artists. The artist must
// exist (its aggregate says so, not a read model); following it again
// appends nothing.
func (h *Library) Follow(ctx context.Context, by domain.Principal, artistID string) (Written, error) {
	if err := signedIn(by); err != nil {
		return Written{}, err
	}
	artistID, err := domain.ParseID(artistID, "artist")
	if err != nil {
		return Written{}, err
	}
	artist, err := h.artists.Load(ctx, artistID)
	if err != nil {
		return Written{}, err
	}
	if !artist.Exists() {
		return Written{}, domain.NotFound("Artist does not exist")
	}
	return h.users.Update(ctx, by.UserID, func(u *domain.User) error { return u.Follow(artistID) })
}

// Unfollow removes an artist from the caller's followed artists; it is
// idempotent and does not ask whether the artist still exists (a deleted
// artist's follows can always be dropped).
func (h *Library) Unfollow(ctx context.Context, by domain.Principal, artistID string) (Written, error) {
	if err := signedIn(by); err != nil {
		return Written{}, err
	}
	artistID, err := domain.ParseID(artistID, "artist")
	if err != nil {
		return Written{}, err
	}
	return h.users.Update(ctx, by.UserID, func(u *domain.User) error { return u.Unfollow(artistID) })
}

// RecordListen records that the caller played a song now, on the stream
// ListensStream(caller). A repeat of the same song within
// domain.RepeatWindow records nothing (Written{} then). The decision reads
// only the stream's tail (kept in memory between listens, see
// recentListens), and the append expects that tail's revision, so two
// identical listens racing each other yield exactly one event.
func (h *Library) RecordListen(ctx context.Context, by domain.Principal, songID string) (Written, error) {
	if err := signedIn(by); err != nil {
		return Written{}, err
	}
	songID, err := domain.ParseID(songID, "song")
	if err != nil {
		return Written{}, err
	}
	// What a listen must know: the song exists, the account is not deleted,
	// the listener's recent plays. Each is usually remembered from an
	// earlier listen (aliveCache, recentListens); what is not is read, all
	// at once: three round trips in the time of one.
	var (
		songErr, accountErr error
		pre                 loadedListening
		wg                  sync.WaitGroup
	)
	epoch := h.alive.begin()
	if !h.alive.has("user", by.UserID) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// An access token outlives a deleted account by up to its
			// lifetime; a deleted user's listens would bring their
			// history back. UserDeleted is always a user stream's last
			// event, so its tail alone tells.
			if accountErr = h.accountOpen(ctx, by.UserID); accountErr == nil {
				h.alive.put("user", by.UserID, epoch)
			}
		}()
	}
	if !h.alive.has("song", songID) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			song, err := h.songs.Load(ctx, songID)
			switch {
			case err != nil:
				songErr = err
			case !song.Exists():
				songErr = domain.NotFound("Song does not exist")
			default:
				h.alive.put("song", songID, epoch)
			}
		}()
	}
	pre.l, pre.err = h.loadListening(ctx, by.UserID)
	wg.Wait()
	if songErr != nil {
		return Written{}, songErr
	}
	if accountErr != nil {
		return Written{}, accountErr
	}
	// The instant of the request, not of a retry: a retried append still
	// reports when the user pressed play.
	return h.recordListen(ctx, by.UserID, songID, h.cfg.Now(), pre)
}

// accountOpen fails with 401 when the caller's account is gone.
func (h *Library) accountOpen(ctx context.Context, userID string) error {
	tail, err := h.store.ReadStreamTail(ctx, domain.UserStream(userID), 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && tail[0].Type == (domain.UserDeleted{}).EventType() {
		return domain.Errorf(domain.ErrUnauthorized, "User does not exist")
	}
	return err
}
