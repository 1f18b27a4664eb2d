package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Catalog builds the `artists`, `songs` and `song_artists` read models.
// Credits on the artists' streams (ArtistSongCredited/Uncredited) are not
// read: SongAdded carries the artist ids in credit order.
type Catalog struct{}

// Name is the checkpoint key: renaming it replays the projector.
func (Catalog) Name() string { return "catalog" }

// Filter selects the artist and song events.
func (Catalog) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: []string{
		domain.ArtistAdded{}.EventType(), domain.ArtistUpdated{}.EventType(), domain.ArtistDeleted{}.EventType(),
		domain.SongAdded{}.EventType(), domain.SongUpdated{}.EventType(), domain.SongDeleted{}.EventType(),
		domain.StreamGranted{}.EventType(),
	}}
}

// Reset empties the read models.
func (Catalog) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE song_artists, songs, artists`)
	return err
}

// Apply writes a batch of catalog events, pipelined in one round trip. Rows
// take their times from the log (RecordedAt), so a replay builds the same rows.
func (Catalog) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	b := &pgx.Batch{}
	for _, rec := range events {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case domain.ArtistAdded:
			b.Queue(`INSERT INTO artists (id, name, description, avatarurl, country, managerid, created_at, position)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
				e.ArtistID, e.Name, e.Description, e.AvatarURL, e.Country, e.ManagerID, rec.RecordedAt, rec.Position)
		case domain.ArtistUpdated:
			b.Queue(`UPDATE artists SET name = coalesce($2, name), description = coalesce($3, description),
				avatarurl = coalesce($4, avatarurl), country = coalesce($5, country), position = $6 WHERE id = $1`,
				e.ArtistID, e.Name, e.Description, e.AvatarURL, e.Country, rec.Position)
		case domain.ArtistDeleted:
			b.Queue(`DELETE FROM artists WHERE id = $1`, e.ArtistID)
		case domain.SongAdded:
			b.Queue(`INSERT INTO songs (id, title, description, thumbnailurl, duration, releasedate, genre, created_at, position)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
				e.SongID, e.Title, e.Description, e.ThumbnailURL, e.Duration, e.ReleaseDate, e.Genre, rec.RecordedAt, rec.Position)
			for i, aid := range e.ArtistIDs {
				b.Queue(`INSERT INTO song_artists (song_id, artist_id, ord) VALUES ($1, $2, $3)
					ON CONFLICT (song_id, artist_id) DO NOTHING`, e.SongID, aid, i)
			}
		case domain.SongUpdated:
			b.Queue(`UPDATE songs SET title = coalesce($2, title), description = coalesce($3, description),
				thumbnailurl = coalesce($4, thumbnailurl), duration = coalesce($5, duration),
				releasedate = coalesce($6, releasedate), genre = coalesce($7, genre), position = $8 WHERE id = $1`,
				e.SongID, e.Title, e.Description, e.ThumbnailURL, e.Duration, e.ReleaseDate, e.Genre, rec.Position)
		case domain.SongDeleted:
			b.Queue(`DELETE FROM song_artists WHERE song_id = $1`, e.SongID)
			b.Queue(`DELETE FROM songs WHERE id = $1`, e.SongID)
		case domain.StreamGranted:
			// Each stream grant is a view. Not idempotent on its own: the
			// checkpoint, written in the same transaction, applies it once.
			// position is left alone: being played does not reorder a song.
			b.Queue(`UPDATE songs SET views = views + 1 WHERE id = $1`, e.SongID)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("catalog projector: %w", err)
	}
	return nil
}
