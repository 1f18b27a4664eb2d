package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Collections builds the `collections` and `collection_songs` read models.
//
// Besides the collection events it reads two events of other aggregates:
//   - SongDeleted: the song leaves every collection (the Collection
//     aggregates are not told; a deleted song can never be added again, and
//     the queries join `songs`, so nothing else depends on it).
//   - UserDeleted: the user's collections leave the read model, songs and all.
//     Their streams stay in the log (it keeps only ids), so nobody can reach
//     them through the API any more, which is what deleting an account means.
type Collections struct{}

// Name is the checkpoint key: renaming it replays the projector.
func (Collections) Name() string { return "collections" }

// Filter selects the collection events, SongDeleted and UserDeleted.
func (Collections) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: []string{
		domain.CollectionCreated{}.EventType(), domain.CollectionUpdated{}.EventType(),
		domain.CollectionDeleted{}.EventType(), domain.SongAddedToCollection{}.EventType(),
		domain.SongRemovedFromCollection{}.EventType(),
		domain.SongDeleted{}.EventType(), domain.UserDeleted{}.EventType(),
	}}
}

// Reset empties the read model.
func (Collections) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE collection_songs, collections`)
	return err
}

// Apply writes a batch of events, pipelined in one round trip. Statements
// run in order, so a collection created earlier in the batch is there for
// the songs added after it.
func (Collections) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	b := &pgx.Batch{}
	for _, rec := range events {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case domain.CollectionCreated:
			// ON CONFLICT keeps a replay of the same event harmless.
			b.Queue(`INSERT INTO collections (id, title, description, thumbnailurl, type, visibility, owner_id, created_at, position)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
				e.CollectionID, e.Title, e.Description, e.ThumbnailURL, string(e.Type), string(e.Visibility),
				e.OwnerID, rec.RecordedAt, rec.Position)
		case domain.CollectionUpdated:
			b.Queue(`UPDATE collections SET title = coalesce($2, title), description = coalesce($3, description),
				thumbnailurl = coalesce($4, thumbnailurl), type = coalesce($5, type), visibility = coalesce($6, visibility),
				position = $7 WHERE id = $1`,
				e.CollectionID, e.Title, e.Description, e.ThumbnailURL, (*string)(e.Type), (*string)(e.Visibility), rec.Position)
		case domain.CollectionDeleted:
			b.Queue(`DELETE FROM collections WHERE id = $1`, e.CollectionID) // its songs go by cascade
		case domain.SongAddedToCollection:
			// A collection that left the read model (its owner was deleted)
			// may still be changed by an Admin through its stream: no row.
			b.Queue(`INSERT INTO collection_songs (collection_id, song_id, ord)
				SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM collections WHERE id = $1)
				ON CONFLICT (collection_id, song_id) DO NOTHING`,
				e.CollectionID, e.SongID, rec.Position)
		case domain.SongRemovedFromCollection:
			b.Queue(`DELETE FROM collection_songs WHERE collection_id = $1 AND song_id = $2`, e.CollectionID, e.SongID)
		case domain.SongDeleted:
			b.Queue(`DELETE FROM collection_songs WHERE song_id = $1`, e.SongID)
		case domain.UserDeleted:
			b.Queue(`DELETE FROM collections WHERE owner_id = $1`, e.UserID)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("collections projector: %w", err)
	}
	return nil
}
