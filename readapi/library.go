package readapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// FollowedArtist is an entry of Get Followed Artists.
type FollowedArtist struct {
	Artist FollowedArtistRef `json:"artist"`
}

// FollowedArtistRef is the short form of an artist in a user's library.
type FollowedArtistRef struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatarurl"`
}

// HistoryEntry is an entry of Get User Listen History: a song and its latest
// listen. The key "songs" (plural, one object) is the old backend's.
type HistoryEntry struct {
	LastListened time.Time   `json:"last_listened"`
	Song         HistorySong `json:"songs"`
}

// HistorySong is a song of the history.
type HistorySong struct {
	ID           string          `json:"id"`
	Title        string          `json:"title"`
	Duration     int             `json:"duration"`
	ThumbnailURL string          `json:"thumbnailurl"`
	Artists      []HistoryArtist `json:"artists"`
}

// HistoryArtist carries both forms the frontend reads: flat and nested.
type HistoryArtist struct {
	ID     string           `json:"id"`
	Name   string           `json:"name"`
	Artist HistoryArtistRef `json:"artist"`
}

// HistoryArtistRef is the nested {"id", "name"} form of a credited artist.
type HistoryArtistRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// History page sizes of the wire contract.
const (
	historyDefaultLimit = 20
	historyMaxLimit     = httpapi.MaxLimit
)

// Library answers a listener's library queries: followed artists and
// listen history.
type Library struct {
	pool *pgxpool.Pool
}

// NewLibrary makes the library queries on the read-model pool.
func NewLibrary(pool *pgxpool.Pool) *Library { return &Library{pool: pool} }

// Following lists the artists a user follows, newest follow first. Artists
// no longer in the catalog are left out.
func (q *Library) Following(ctx context.Context, userID string) ([]FollowedArtist, error) {
	rows, err := q.pool.Query(ctx, `SELECT a.id::text, a.name, a.avatarurl
		FROM follows f JOIN artists a ON a.id = f.artist_id
		WHERE f.user_id = $1 ORDER BY f.position DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list followed artists: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FollowedArtist, error) {
		var f FollowedArtist
		return f, r.Scan(&f.Artist.ID, &f.Artist.Name, &f.Artist.AvatarURL)
	})
	if err != nil {
		return nil, fmt.Errorf("list followed artists: %w", err)
	}
	return items, nil
}

// History is a page of a user's listen history, newest first: at most
// limit entries listened strictly before `before` (zero: from the newest),
// skipping offset of them. A user's listens never share an instant (the
// Listening aggregate keeps them strictly increasing), so the previous
// page's last last_listened is an exact cursor; song id breaks ties
// anyway, to keep the order total.
func (q *Library) History(ctx context.Context, userID string, before time.Time, limit, offset int) ([]HistoryEntry, error) {
	var cursor *time.Time
	if !before.IsZero() {
		cursor = &before
	}
	rows, err := q.pool.Query(ctx, `SELECT h.last_listened, s.id::text, s.title, s.duration, s.thumbnailurl,
			coalesce((SELECT json_agg(json_build_object('id', a.id, 'name', a.name) ORDER BY sa.ord)
				FROM song_artists sa JOIN artists a ON a.id = sa.artist_id WHERE sa.song_id = s.id), '[]')
		FROM listen_history h JOIN songs s ON s.id = h.song_id
		WHERE h.user_id = $1 AND ($2::timestamptz IS NULL OR h.last_listened < $2)
		ORDER BY h.last_listened DESC, h.song_id DESC
		LIMIT $3 OFFSET $4`, userID, cursor, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list listen history: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		var artists []byte
		if err := r.Scan(&h.LastListened, &h.Song.ID, &h.Song.Title, &h.Song.Duration, &h.Song.ThumbnailURL, &artists); err != nil {
			return h, err
		}
		h.LastListened = h.LastListened.UTC()
		var refs []HistoryArtistRef
		if err := json.Unmarshal(artists, &refs); err != nil {
			return h, fmt.Errorf("decode artists of song %s: %w", h.Song.ID, err)
		}
		h.Song.Artists = make([]HistoryArtist, len(refs))
		for i, a := range refs {
			h.Song.Artists[i] = HistoryArtist{ID: a.ID, Name: a.Name, Artist: a}
		}
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list listen history: %w", err)
	}
	return items, nil
}

// GetFollowing serves GET /v1/user/me/following.
func (q *Library) GetFollowing(c *gin.Context) {
	items, err := q.Following(c.Request.Context(), httpapi.Principal(c).UserID)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, items)
}

// GetHistory serves GET /v1/user/me/history?limit&before (and page, for
// clients that page by number).
func (q *Library) GetHistory(c *gin.Context) {
	page, limit, err := httpapi.PageWithLimit(c, historyDefaultLimit)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	limit = min(limit, historyMaxLimit)
	before, err := parseHistoryCursor(c.Query("before"))
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	items, err := q.History(c.Request.Context(), httpapi.Principal(c).UserID, before, limit, httpapi.Offset(page, limit))
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, items)
}

// parseHistoryCursor reads `before`: an RFC 3339 instant, as last_listened is
// written (with or without fractional seconds). A "+" offset that arrived
// unescaped in a query string reads as a space; it is put back.
func parseHistoryCursor(raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, nil
	}
	if i := strings.LastIndexByte(raw, ' '); i > 0 && strings.IndexByte(raw, 'T') < i {
		raw = raw[:i] + "+" + raw[i+1:]
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, domain.Invalid("before must be an RFC 3339 time, such as the last_listened of the previous page")
	}
	return t, nil
}
