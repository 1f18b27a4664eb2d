package readapi

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// DayPlays is the number of plays on one UTC day ("2026-11-28").
type DayPlays struct {
	Day   string `json:"day"`
	Plays int64  `json:"plays"`
}

// SongStats is GET /v1/song/:id/stats's data: a song's plays by day.
type SongStats struct {
	SongID string     `json:"song_id"`
	Total  int64      `json:"total"`
	Days   []DayPlays `json:"days"`
}

// TopSong is a line of the top songs: a deleted song keeps its plays and
// has no title any more ("").
type TopSong struct {
	SongID string
	Title  string
	Plays  int64
}

// Stats answers the listen-statistics queries (the "listenstats" read model).
type Stats struct {
	pool *pgxpool.Pool
}

// NewStats makes the statistics queries.
func NewStats(pool *pgxpool.Pool) *Stats { return &Stats{pool: pool} }

const dayLayout = "2006-01-02"

// Song is a song's plays by day, oldest first. A song that was deleted
// still has its statistics; a song that never existed and never had a play
// is not found.
func (q *Stats) Song(ctx context.Context, songID string) (SongStats, error) {
	out := SongStats{SongID: songID, Days: []DayPlays{}}
	rows, err := q.pool.Query(ctx, `SELECT day, plays FROM song_plays_daily WHERE song_id = $1 ORDER BY day`, songID)
	if err != nil {
		return out, fmt.Errorf("song stats: %w", err)
	}
	days, err := pgx.CollectRows(rows, scanDayPlays)
	if err != nil {
		return out, fmt.Errorf("song stats: %w", err)
	}
	if len(days) == 0 {
		var exists bool
		if err := q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM songs WHERE id = $1)`, songID).Scan(&exists); err != nil {
			return out, fmt.Errorf("song stats: %w", err)
		}
		if !exists {
			return out, domain.NotFound("Song does not exist")
		}
	}
	for _, d := range days {
		out.Total += d.Plays
	}
	out.Days = append(out.Days, days...)
	return out, nil
}

func scanDayPlays(r pgx.CollectableRow) (DayPlays, error) {
	var day time.Time
	var d DayPlays
	err := r.Scan(&day, &d.Plays)
	d.Day = day.Format(dayLayout)
	return d, err
}

// GetSong serves GET /v1/song/:id/stats.
func (q *Stats) GetSong(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "song")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	st, err := q.Song(c.Request.Context(), id)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, st)
}

// TopSongs are the n most played songs from the UTC day of since on, most
// played first (ties by id, so the answer is stable).
func (q *Stats) TopSongs(ctx context.Context, since time.Time, n int) ([]TopSong, error) {
	rows, err := q.pool.Query(ctx, `
		SELECT p.song_id::text, coalesce(s.title, ''), p.plays
		FROM (SELECT song_id, sum(plays)::bigint AS plays FROM song_plays_daily
		      WHERE day >= $1 GROUP BY song_id ORDER BY plays DESC, song_id LIMIT $2) p
		LEFT JOIN songs s ON s.id = p.song_id
		ORDER BY p.plays DESC, p.song_id`, since.UTC().Format(dayLayout), n)
	if err != nil {
		return nil, fmt.Errorf("top songs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TopSong, error) {
		var t TopSong
		return t, r.Scan(&t.SongID, &t.Title, &t.Plays)
	})
	if err != nil {
		return nil, fmt.Errorf("top songs: %w", err)
	}
	return out, nil
}

// PlaysPerDay is the total of plays of every song per UTC day from the day
// of since on; days without plays are left out.
func (q *Stats) PlaysPerDay(ctx context.Context, since time.Time) ([]DayPlays, error) {
	rows, err := q.pool.Query(ctx, `SELECT day, sum(plays)::bigint FROM song_plays_daily
		WHERE day >= $1 GROUP BY day ORDER BY day`, since.UTC().Format(dayLayout))
	if err != nil {
		return nil, fmt.Errorf("plays per day: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanDayPlays)
	if err != nil {
		return nil, fmt.Errorf("plays per day: %w", err)
	}
	return out, nil
}
