package readapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// CollectionOwner is the owner in a collection list.
type CollectionOwner struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// CollectionListItem is an entry of the collection lists.
type CollectionListItem struct {
	ID           string          `json:"id"`
	Title        string          `json:"title"`
	Type         string          `json:"type"`
	ThumbnailURL string          `json:"thumbnailurl"`
	Owner        CollectionOwner `json:"owner"`
}

// CollectionDetailOwner is the owner of Get Collection By ID.
type CollectionDetailOwner struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	AvatarURL string `json:"avatarurl"`
}

// CollectionSongArtist is an artist credited on a song of a collection.
type CollectionSongArtist struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CollectionSong is a song as a collection lists it.
type CollectionSong struct {
	ID           string                 `json:"id"`
	Title        string                 `json:"title"`
	ThumbnailURL string                 `json:"thumbnailurl"`
	Duration     int                    `json:"duration"`
	Artists      []CollectionSongArtist `json:"artists"`
}

// CollectionSongItem wraps a song as the frontend reads it: {"song": {...}}.
type CollectionSongItem struct {
	Song CollectionSong `json:"song"`
}

// CollectionDetail is Get Collection By ID (and the answer of its writes).
type CollectionDetail struct {
	ID           string                `json:"id"`
	Title        string                `json:"title"`
	Description  string                `json:"description"`
	Type         string                `json:"type"`
	ThumbnailURL string                `json:"thumbnailurl"`
	Owner        CollectionDetailOwner `json:"owner"`
	Songs        []CollectionSongItem  `json:"songs"`

	visibility string // who may see it (answerCache), not sent
}

// MyCollection is an entry of Get User Playlists.
type MyCollection struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Description  string `json:"description"`
	ThumbnailURL string `json:"thumbnailurl"`
	Type         string `json:"type"`
}

// Collections answers the collection queries.
type Collections struct {
	pool  *pgxpool.Pool
	cache *answerCache // of GetByID; nil: none
}

// NewCollections makes the collection queries on the read-model pool.
func NewCollections(pool *pgxpool.Pool) *Collections { return &Collections{pool: pool} }

// CachedBy makes GetByID keep its answers while versions says the read
// models they are made of (collections, their songs and owners) are
// unchanged (see answerCache), up to max collections. Who may see a kept
// answer is checked on every request.
func (q *Collections) CachedBy(versions Versioner, max int) *Collections {
	q.cache = newAnswerCache(versions, max, "catalog", "collections", "users", "orders")
	return q
}

// viewerArgs are the query arguments of who is looking: the user id (NULL
// when anonymous, so that it matches no owner) and whether they are Admin.
func viewerArgs(by domain.Principal) (*string, bool) {
	id, err := domain.ParseID(by.UserID, "user")
	if err != nil { // anonymous, or an operator principal that owns nothing
		return nil, by.IsAdmin()
	}
	return &id, by.IsAdmin()
}

// visibleSQL is the list rule: public collections, plus the caller's own
// private ones when signed in, and everything for an Admin (who may change
// any collection, so may as well find it). $1 is the viewer id, $2 admin.
const visibleSQL = `(c.visibility = 'Public' OR c.owner_id = $1::uuid OR $2::boolean)`

// List is one page of the collections by viewer may see, newest first,
// restricted to types (nil: every type), and the total count.
func (q *Collections) List(ctx context.Context, by domain.Principal, types []domain.CollectionType, page, limit int) (int, []CollectionListItem, error) {
	viewer, admin := viewerArgs(by)
	var typeNames []string // nil: NULL, every type
	for _, t := range types {
		typeNames = append(typeNames, string(t))
	}
	where := visibleSQL + ` AND ($3::text[] IS NULL OR c.type = ANY($3::text[]))`
	var count int
	if err := q.pool.QueryRow(ctx, `SELECT count(*) FROM collections c WHERE `+where, viewer, admin, typeNames).Scan(&count); err != nil {
		return 0, nil, fmt.Errorf("count collections: %w", err)
	}
	rows, err := q.pool.Query(ctx, `SELECT c.id::text, c.title, c.type, c.thumbnailurl, c.owner_id::text, coalesce(u.username, '')
		FROM collections c LEFT JOIN users u ON u.id = c.owner_id
		WHERE `+where+` ORDER BY c.created_at DESC, c.id DESC LIMIT $4 OFFSET $5`,
		viewer, admin, typeNames, limit, httpapi.Offset(page, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("list collections: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CollectionListItem, error) {
		var c CollectionListItem
		return c, r.Scan(&c.ID, &c.Title, &c.Type, &c.ThumbnailURL, &c.Owner.ID, &c.Owner.Username)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("list collections: %w", err)
	}
	return count, items, nil
}

// ByID is one collection with its songs in the collection's order. A private
// collection is 404 to anyone but its owner and Admins, like an unknown one.
// A song missing from `songs` (deleted, or not projected yet) is left out.
func (q *Collections) ByID(ctx context.Context, id string, by domain.Principal) (CollectionDetail, error) {
	viewer, admin := viewerArgs(by)
	var d CollectionDetail
	err := q.pool.QueryRow(ctx, `SELECT c.id::text, c.title, c.description, c.type, c.thumbnailurl,
			c.owner_id::text, coalesce(u.username, ''), coalesce(u.avatarurl, ''), c.visibility
		FROM collections c LEFT JOIN users u ON u.id = c.owner_id
		WHERE c.id = $3 AND `+visibleSQL, viewer, admin, id).
		Scan(&d.ID, &d.Title, &d.Description, &d.Type, &d.ThumbnailURL, &d.Owner.ID, &d.Owner.Username, &d.Owner.AvatarURL, &d.visibility)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, domain.NotFound("Collection does not exist")
	}
	if err != nil {
		return d, fmt.Errorf("get collection: %w", err)
	}
	rows, err := q.pool.Query(ctx, `SELECT s.id::text, s.title, s.thumbnailurl, s.duration,
			coalesce((SELECT json_agg(json_build_object('id', a.id::text, 'name', a.name) ORDER BY sa.ord)
				FROM song_artists sa JOIN artists a ON a.id = sa.artist_id WHERE sa.song_id = s.id), '[]'::json)
		FROM collection_songs cs JOIN songs s ON s.id = cs.song_id
		WHERE cs.collection_id = $1 ORDER BY cs.ord`, id)
	if err != nil {
		return d, fmt.Errorf("collection songs: %w", err)
	}
	d.Songs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CollectionSongItem, error) {
		var s CollectionSongItem
		err := r.Scan(&s.Song.ID, &s.Song.Title, &s.Song.ThumbnailURL, &s.Song.Duration, &s.Song.Artists)
		if s.Song.Artists == nil {
			s.Song.Artists = []CollectionSongArtist{}
		}
		return s, err
	})
	if err != nil {
		return d, fmt.Errorf("collection songs: %w", err)
	}
	if d.Songs == nil {
		d.Songs = []CollectionSongItem{}
	}
	return d, nil
}

// CollectionView is ByID for the command side's answers (the
// commands.CollectionReader port).
func (q *Collections) CollectionView(ctx context.Context, id string, by domain.Principal) (any, error) {
	return q.ByID(ctx, id, by)
}

// OwnedBy is every collection the user owns, any type or visibility,
// newest first.
func (q *Collections) OwnedBy(ctx context.Context, userID string) ([]MyCollection, error) {
	rows, err := q.pool.Query(ctx, `SELECT id::text, title, description, thumbnailurl, type FROM collections
		WHERE owner_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list own collections: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MyCollection, error) {
		var c MyCollection
		return c, r.Scan(&c.ID, &c.Title, &c.Description, &c.ThumbnailURL, &c.Type)
	})
	if err != nil {
		return nil, fmt.Errorf("list own collections: %w", err)
	}
	return items, nil
}

func (q *Collections) list(c *gin.Context, types []domain.CollectionType) {
	page, limit, err := httpapi.Page(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	count, items, err := q.List(c.Request.Context(), httpapi.Principal(c), types, page, limit)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.List(c, count, items)
}

// GetAll serves GET /v1/collection.
func (q *Collections) GetAll(c *gin.Context) { q.list(c, nil) }

// GetPlaylists serves GET /v1/collection/playlists.
func (q *Collections) GetPlaylists(c *gin.Context) {
	q.list(c, []domain.CollectionType{domain.CollectionPlaylist})
}

// GetAlbums serves GET /v1/collection/albums (albums, EPs and singles).
func (q *Collections) GetAlbums(c *gin.Context) { q.list(c, domain.AlbumTypes) }

// GetByID serves GET /v1/collection/:id.
func (q *Collections) GetByID(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "collection")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	by := httpapi.Principal(c)
	v := q.cache.version()
	if a, ok := q.cache.get(id, v); ok {
		if !a.public && !by.IsAdmin() && (by.UserID == "" || by.UserID != a.owner) {
			httpapi.Error(c, domain.NotFound("Collection does not exist"))
			return
		}
		writeJSON(c, a.body)
		return
	}
	d, err := q.ByID(c.Request.Context(), id, by)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	body, err := render(gin.H{"data": d})
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	q.cache.put(id, cachedAnswer{version: v, body: body, owner: d.Owner.ID, public: d.visibility == string(domain.Public)})
	writeJSON(c, body)
}

// GetMine serves GET /v1/user/me/playlists.
func (q *Collections) GetMine(c *gin.Context) {
	items, err := q.OwnedBy(c.Request.Context(), httpapi.Principal(c).UserID)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, items)
}
