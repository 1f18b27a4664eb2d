package readapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// ArtistListItem is an entry of Get All Artists.
type ArtistListItem struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatarurl"`
}

// Artist is the artist object of the wire contract.
type Artist struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	AvatarURL   string `json:"avatarurl"`
	Country     string `json:"country"`
	ManagerID   string `json:"managerid"`
}

// ArtistSong is an entry of an artist's songs: {"song": {...}}.
type ArtistSong struct {
	Song ArtistSongRef `json:"song"`
}

// ArtistSongRef is the short song object of an artist's songs.
type ArtistSongRef struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	ThumbnailURL string `json:"thumbnailurl"`
}

// ArtistAlbum is an entry of an artist's albums.
type ArtistAlbum struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	ThumbnailURL string    `json:"thumbnailurl"`
	CreatedAt    time.Time `json:"created_at"`
	Type         string    `json:"type"`
}

// catalogAlbum is the SQL condition of a collection that is a public album
// of the catalog (Album, EP or Single), on a collections row aliased c.
const catalogAlbum = `c.visibility = 'Public' AND c.type IN ('Album', 'EP', 'Single')`

// Artists answers the artist queries.
type Artists struct {
	pool *pgxpool.Pool
}

// NewArtists makes the artist queries on the read-model pool.
func NewArtists(pool *pgxpool.Pool) *Artists { return &Artists{pool: pool} }

// List is one page of artists, oldest first, and the total count; a
// non-empty managerID keeps only that manager's artists.
func (q *Artists) List(ctx context.Context, page, limit int, managerID string) (int, []ArtistListItem, error) {
	var count int
	if err := q.pool.QueryRow(ctx, `SELECT count(*) FROM artists WHERE $1 = '' OR managerid = $1`, managerID).
		Scan(&count); err != nil {
		return 0, nil, fmt.Errorf("count artists: %w", err)
	}
	rows, err := q.pool.Query(ctx, `SELECT id::text, name, avatarurl FROM artists
		WHERE $1 = '' OR managerid = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3`,
		managerID, limit, httpapi.Offset(page, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("list artists: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ArtistListItem, error) {
		var a ArtistListItem
		return a, r.Scan(&a.ID, &a.Name, &a.AvatarURL)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("list artists: %w", err)
	}
	return count, items, nil
}

// ByID is one artist; 404 when unknown or deleted.
func (q *Artists) ByID(ctx context.Context, id string) (Artist, error) {
	var a Artist
	err := q.pool.QueryRow(ctx, `SELECT id::text, name, description, avatarurl, country, managerid
		FROM artists WHERE id = $1`, id).
		Scan(&a.ID, &a.Name, &a.Description, &a.AvatarURL, &a.Country, &a.ManagerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, domain.NotFound("Artist does not exist")
	}
	if err != nil {
		return a, fmt.Errorf("get artist: %w", err)
	}
	return a, nil
}

func (q *Artists) mustExist(ctx context.Context, id string) error {
	var ok bool
	if err := q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM artists WHERE id = $1)`, id).Scan(&ok); err != nil {
		return fmt.Errorf("find artist: %w", err)
	}
	if !ok {
		return domain.NotFound("Artist does not exist")
	}
	return nil
}

// Songs is one page of the songs crediting an artist (Primary or Featured),
// newest first, and their count.
func (q *Artists) Songs(ctx context.Context, artistID string, page, limit int) (int, []ArtistSong, error) {
	if err := q.mustExist(ctx, artistID); err != nil {
		return 0, nil, err
	}
	var count int
	if err := q.pool.QueryRow(ctx, `SELECT count(*) FROM song_artists WHERE artist_id = $1`, artistID).
		Scan(&count); err != nil {
		return 0, nil, fmt.Errorf("count artist songs: %w", err)
	}
	rows, err := q.pool.Query(ctx, `SELECT s.id::text, s.title, s.thumbnailurl
		FROM song_artists sa JOIN songs s ON s.id = sa.song_id
		WHERE sa.artist_id = $1 ORDER BY s.created_at DESC, s.id LIMIT $2 OFFSET $3`,
		artistID, limit, httpapi.Offset(page, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("list artist songs: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ArtistSong, error) {
		var s ArtistSong
		return s, r.Scan(&s.Song.ID, &s.Song.Title, &s.Song.ThumbnailURL)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("list artist songs: %w", err)
	}
	return count, items, nil
}

// Albums is one page of the public Albums, EPs and Singles holding at least
// one song that credits the artist, newest first, and their count.
func (q *Artists) Albums(ctx context.Context, artistID string, page, limit int) (int, []ArtistAlbum, error) {
	if err := q.mustExist(ctx, artistID); err != nil {
		return 0, nil, err
	}
	const where = ` FROM collections c WHERE ` + catalogAlbum + ` AND EXISTS (
		SELECT 1 FROM collection_songs cs JOIN song_artists sa ON sa.song_id = cs.song_id
		WHERE cs.collection_id = c.id AND sa.artist_id = $1)`
	var count int
	if err := q.pool.QueryRow(ctx, `SELECT count(*)`+where, artistID).Scan(&count); err != nil {
		return 0, nil, fmt.Errorf("count artist albums: %w", err)
	}
	rows, err := q.pool.Query(ctx, `SELECT c.id::text, c.title, c.thumbnailurl, c.created_at, c.type`+where+`
		ORDER BY c.created_at DESC, c.id LIMIT $2 OFFSET $3`, artistID, limit, httpapi.Offset(page, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("list artist albums: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ArtistAlbum, error) {
		var a ArtistAlbum
		return a, r.Scan(&a.ID, &a.Title, &a.ThumbnailURL, &a.CreatedAt, &a.Type)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("list artist albums: %w", err)
	}
	return count, items, nil
}

// GetAll serves GET /v1/artist; managed=true from a signed-in Artist
// Manager lists only the artists they manage.
func (q *Artists) GetAll(c *gin.Context) {
	var managerID string
	if p := httpapi.Principal(c); c.Query("managed") == "true" && p.Role == domain.RoleArtistManager {
		managerID = p.UserID
	}
	listPage(c, httpapi.DefaultLimit, func(ctx context.Context, page, limit int) (int, []ArtistListItem, error) {
		return q.List(ctx, page, limit, managerID)
	})
}

// GetByID serves GET /v1/artist/:id: {"data": [artist]}, an array of one,
// as the frontend reads it.
func (q *Artists) GetByID(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "artist")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	a, err := q.ByID(c.Request.Context(), id)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, []Artist{a})
}

// GetSongs serves GET /v1/artist/:id/songs.
func (q *Artists) GetSongs(c *gin.Context) { listOf(c, "artist", httpapi.MaxLimit, q.Songs) }

// GetAlbums serves GET /v1/artist/:id/albums.
func (q *Artists) GetAlbums(c *gin.Context) { listOf(c, "artist", httpapi.MaxLimit, q.Albums) }
