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

// ArtistIDName is the short artist object {"id", "name"}.
type ArtistIDName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SongListArtist is a credited artist in Get All Songs: both the flat and
// the nested form, since the frontend reads either.
type SongListArtist struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Artist ArtistIDName `json:"artist"`
}

// SongListItem is an entry of Get All Songs.
type SongListItem struct {
	ID           string           `json:"id"`
	Title        string           `json:"title"`
	ThumbnailURL string           `json:"thumbnailurl"`
	Duration     int              `json:"duration"`
	ReleaseDate  string           `json:"releasedate"`
	Genre        string           `json:"genre"`
	Views        int64            `json:"views"`
	Artists      []SongListArtist `json:"artists"`
}

// SongArtist is a credited artist in Get Song By ID.
type SongArtist struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatarurl"`
}

// SongAlbum is an entry of a song's albums: {"album": {...}}.
type SongAlbum struct {
	Album SongAlbumRef `json:"album"`
}

// SongAlbumRef is the short album object of a song's albums.
type SongAlbumRef struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Type         string `json:"type"`
	ThumbnailURL string `json:"thumbnailurl"`
}

// Song is Get Song By ID's answer (sent unwrapped).
type Song struct {
	ID           string       `json:"id"`
	Title        string       `json:"title"`
	ThumbnailURL string       `json:"thumbnailurl"`
	Duration     int          `json:"duration"`
	ReleaseDate  string       `json:"releasedate"`
	Genre        string       `json:"genre"`
	Views        int64        `json:"views"`
	Artists      []SongArtist `json:"artists"`
	Albums       []SongAlbum  `json:"albums"`
}

// Songs answers the song queries.
type Songs struct {
	pool  *pgxpool.Pool
	cache *answerCache // of GetByID; nil: none
}

// NewSongs makes the song queries on the read-model pool.
func NewSongs(pool *pgxpool.Pool) *Songs { return &Songs{pool: pool} }

// CachedBy makes GetByID keep its answers while versions says the catalog
// and collections read models are unchanged (see answerCache), up to max
// songs.
func (q *Songs) CachedBy(versions Versioner, max int) *Songs {
	q.cache = newAnswerCache(versions, max, "catalog", "collections")
	return q
}

// List is one page of songs, oldest first, each with its artists in credit
// order, and the total count.
func (q *Songs) List(ctx context.Context, page, limit int) (int, []SongListItem, error) {
	var count int
	if err := q.pool.QueryRow(ctx, `SELECT count(*) FROM songs`).Scan(&count); err != nil {
		return 0, nil, fmt.Errorf("count songs: %w", err)
	}
	rows, err := q.pool.Query(ctx, `SELECT s.id::text, s.title, s.thumbnailurl, s.duration, s.releasedate,
			s.genre, s.views, coalesce((
				SELECT json_agg(json_build_object('id', a.id::text, 'name', a.name) ORDER BY sa.ord)
				FROM song_artists sa JOIN artists a ON a.id = sa.artist_id WHERE sa.song_id = s.id), '[]')
		FROM songs s ORDER BY s.created_at, s.id LIMIT $1 OFFSET $2`, limit, httpapi.Offset(page, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("list songs: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SongListItem, error) {
		var s SongListItem
		var refs []ArtistIDName
		if err := r.Scan(&s.ID, &s.Title, &s.ThumbnailURL, &s.Duration, &s.ReleaseDate, &s.Genre, &s.Views, &refs); err != nil {
			return s, err
		}
		s.Artists = make([]SongListArtist, len(refs))
		for i, a := range refs {
			s.Artists[i] = SongListArtist{ID: a.ID, Name: a.Name, Artist: a}
		}
		return s, nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("list songs: %w", err)
	}
	return count, items, nil
}

// ByID is one song with its artists in credit order and the public albums
// (Album, EP, Single) holding it; 404 when unknown or deleted.
func (q *Songs) ByID(ctx context.Context, id string) (Song, error) {
	var s Song
	err := q.pool.QueryRow(ctx, `SELECT s.id::text, s.title, s.thumbnailurl, s.duration, s.releasedate, s.genre, s.views,
			coalesce((
				SELECT json_agg(json_build_object('id', a.id::text, 'name', a.name, 'avatarurl', a.avatarurl) ORDER BY sa.ord)
				FROM song_artists sa JOIN artists a ON a.id = sa.artist_id WHERE sa.song_id = s.id), '[]'),
			coalesce((
				SELECT json_agg(json_build_object('album', json_build_object('id', c.id::text, 'title', c.title,
						'type', c.type, 'thumbnailurl', c.thumbnailurl)) ORDER BY c.created_at, c.id)
				FROM collections c WHERE `+catalogAlbum+` AND EXISTS (
					SELECT 1 FROM collection_songs cs WHERE cs.collection_id = c.id AND cs.song_id = s.id)), '[]')
		FROM songs s WHERE s.id = $1`, id).
		Scan(&s.ID, &s.Title, &s.ThumbnailURL, &s.Duration, &s.ReleaseDate, &s.Genre, &s.Views, &s.Artists, &s.Albums)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, domain.NotFound("Song does not exist")
	}
	if err != nil {
		return s, fmt.Errorf("get song: %w", err)
	}
	return s, nil
}

// GetAll serves GET /v1/song.
func (q *Songs) GetAll(c *gin.Context) { listPage(c, httpapi.DefaultLimit, q.List) }

// GetByID serves GET /v1/song/:id. The song is sent unwrapped (no "data"):
// the frontend's server-rendered page reads its fields at top level.
func (q *Songs) GetByID(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "song")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	q.cache.serve(c, id, func() (any, error) { return q.ByID(c.Request.Context(), id) })
}
