package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/search"
)

// SearchConfig configures the search projector.
type SearchConfig struct {
	// Index receives the documents. When it can also write in the
	// projector's transaction (ApplyTx and ResetTx, as pgsearch can), it
	// does: its writes commit with the checkpoint.
	Index search.Index
}

func (c *SearchConfig) setDefaults() {}

// Validate reports every problem of the configuration at once.
func (c SearchConfig) Validate() error {
	var errs []error
	if c.Index == nil {
		errs = append(errs, errors.New("search projector: Index is required"))
	}
	return errors.Join(errs...)
}

// txIndex is an index that writes in a caller's PostgreSQL transaction.
type txIndex interface {
	ApplyTx(ctx context.Context, tx pgx.Tx, changes []search.Change) error
	ResetTx(ctx context.Context, tx pgx.Tx) error
}

// Search is the one place that produces every search document: songs (with
// their artists' names and their views), artists, albums and playlists (with
// their owner's username and avatar) and users. Documents mix aggregates, so
// it keeps its own source tables (search_src_*, written in the runtime's
// transaction) instead of reading other projectors' tables, whose progress is
// not ordered with its own.
//
// Each batch updates the source rows, collects the documents the events
// affect (a renamed artist: every song crediting it; a renamed user: every
// collection they own), rebuilds those from the source rows and sends one
// change per document, versioned with the global position of the latest
// event that touched it. A document whose source row is gone is deleted.
// As the collections projector does, deleting a user deletes their
// collections. A playlist made Private stays indexed with its visibility:
// the index shows it to its owner only.
type Search struct {
	index search.Index
	tx    txIndex // nil: an external index (Elasticsearch)
}

// NewSearch returns the search projector writing to cfg.Index.
func NewSearch(cfg SearchConfig) (*Search, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Search{index: cfg.Index}
	if tx, ok := cfg.Index.(txIndex); ok {
		s.tx = tx
	}
	return s, nil
}

// Name is the checkpoint key: renaming it replays the projector.
func (*Search) Name() string { return "search" }

// Filter selects the events that change a searchable document.
func (*Search) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: []string{
		domain.UserRegistered{}.EventType(), domain.UserProfileChanged{}.EventType(), domain.UserDeleted{}.EventType(),
		domain.ArtistAdded{}.EventType(), domain.ArtistUpdated{}.EventType(), domain.ArtistDeleted{}.EventType(),
		domain.SongAdded{}.EventType(), domain.SongUpdated{}.EventType(), domain.SongDeleted{}.EventType(),
		domain.StreamGranted{}.EventType(),
		domain.CollectionCreated{}.EventType(), domain.CollectionUpdated{}.EventType(), domain.CollectionDeleted{}.EventType(),
	}}
}

// Reset empties the source tables and the index. An external index is
// emptied at once, before tx commits: if the commit then fails, the
// checkpoint stays where it was over an empty index, and the rebuild must be
// run again (it says so with its error).
func (s *Search) Reset(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `TRUNCATE search_src_users, search_src_artists, search_src_songs, search_src_collections`); err != nil {
		return fmt.Errorf("search projector: reset source tables: %w", err)
	}
	if s.tx != nil {
		return s.tx.ResetTx(ctx, tx)
	}
	if err := s.index.Reset(ctx); err != nil {
		return fmt.Errorf("search projector: reset the index: %w", err)
	}
	return nil
}

// docKey names one document of the index.
type docKey struct {
	kind search.Kind
	id   string // canonical UUID
}

// touched records, per document, the position of the latest event that
// affected it in the batch.
type touched map[docKey]uint64

func (t touched) add(kind search.Kind, id string, position uint64) {
	k := docKey{kind, id}
	t[k] = max(t[k], position)
}

// addRows touches every id a lookup returns (one text column).
func (t touched) addRows(kind search.Kind, position uint64) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, id := range ids {
			t.add(kind, id, position)
		}
		return err
	}
}

// canonicalID is an event's id in the form the source tables return it, so
// that keys from events and from lookups meet.
func canonicalID(id string, rec eventstore.RecordedEvent) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", fmt.Errorf("search projector: event %d (%s) has id %q: %w", rec.Position, rec.Type, id, err)
	}
	return u.String(), nil
}

// Apply updates the source tables, then writes the affected documents.
func (s *Search) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	t := touched{}
	b := &pgx.Batch{}
	for _, rec := range events {
		if err := s.queue(b, t, rec); err != nil {
			return err
		}
	}
	if b.Len() == 0 {
		return nil
	}
	// Statements run in log order, and each lookup's callback runs when its
	// rows arrive, so a lookup sees exactly the events before it.
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("search projector: source tables: %w", err)
	}
	changes, err := buildChanges(ctx, tx, t)
	if err != nil {
		return err
	}
	if s.tx != nil {
		// Atomic with the checkpoint: after a crash, nothing applied twice.
		return s.tx.ApplyTx(ctx, tx, changes)
	}
	// An external index is written before the checkpoint commits, so a crash
	// in between makes the runtime apply this batch again. That is harmless:
	// the same source rows give the same documents with the same versions,
	// and the index ignores a change not newer than the one it holds.
	if err := s.index.Apply(ctx, changes); err != nil {
		return fmt.Errorf("search projector: write %d changes: %w", len(changes), err)
	}
	return nil
}

// queue adds one event's source-table statements to b and records the
// documents it affects in t.
func (s *Search) queue(b *pgx.Batch, t touched, rec eventstore.RecordedEvent) error {
	e, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		return err
	}
	pos := rec.Position
	var id string
	switch e := e.(type) {
	case domain.UserRegistered:
		if id, err = canonicalID(e.UserID, rec); err == nil {
			b.Queue(`INSERT INTO search_src_users (id, username, avatarurl) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
				id, e.Username, e.AvatarURL)
			t.add(search.KindUser, id, pos)
		}
	case domain.UserProfileChanged:
		if id, err = canonicalID(e.UserID, rec); err == nil {
			b.Queue(`UPDATE search_src_users SET username = coalesce($2, username), avatarurl = coalesce($3, avatarurl) WHERE id = $1`,
				id, e.Username, e.AvatarURL)
			t.add(search.KindUser, id, pos)
			if e.Username != nil || e.AvatarURL != nil { // shown as the owner of their collections
				b.Queue(`SELECT id::text FROM search_src_collections WHERE owner_id = $1`, id).
					Query(t.addRows(search.KindCollection, pos))
			}
		}
	case domain.UserDeleted:
		if id, err = canonicalID(e.UserID, rec); err == nil {
			b.Queue(`DELETE FROM search_src_users WHERE id = $1`, id)
			t.add(search.KindUser, id, pos)
			b.Queue(`DELETE FROM search_src_collections WHERE owner_id = $1 RETURNING id::text`, id).
				Query(t.addRows(search.KindCollection, pos))
		}
	case domain.ArtistAdded:
		if id, err = canonicalID(e.ArtistID, rec); err == nil {
			b.Queue(`INSERT INTO search_src_artists (id, name, avatarurl) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
				id, e.Name, e.AvatarURL)
			t.add(search.KindArtist, id, pos)
		}
	case domain.ArtistUpdated:
		if id, err = canonicalID(e.ArtistID, rec); err == nil {
			b.Queue(`UPDATE search_src_artists SET name = coalesce($2, name), avatarurl = coalesce($3, avatarurl) WHERE id = $1`,
				id, e.Name, e.AvatarURL)
			t.add(search.KindArtist, id, pos)
			if e.Name != nil { // songs show their artists' names
				b.Queue(`SELECT id::text FROM search_src_songs WHERE artist_ids @> ARRAY[$1::uuid]`, id).
					Query(t.addRows(search.KindSong, pos))
			}
		}
	case domain.ArtistDeleted:
		if id, err = canonicalID(e.ArtistID, rec); err == nil {
			b.Queue(`DELETE FROM search_src_artists WHERE id = $1`, id)
			t.add(search.KindArtist, id, pos)
			// The domain refuses to delete a credited artist; should one
			// still be credited, its songs drop the name.
			b.Queue(`SELECT id::text FROM search_src_songs WHERE artist_ids @> ARRAY[$1::uuid]`, id).
				Query(t.addRows(search.KindSong, pos))
		}
	case domain.SongAdded:
		if id, err = canonicalID(e.SongID, rec); err == nil {
			artists := make([]string, 0, len(e.ArtistIDs))
			for _, a := range e.ArtistIDs {
				ca, err := canonicalID(a, rec)
				if err != nil {
					return err
				}
				artists = append(artists, ca)
			}
			b.Queue(`INSERT INTO search_src_songs (id, title, thumbnailurl, duration, releasedate, genre, artist_ids)
				VALUES ($1, $2, $3, $4, $5, $6, $7::uuid[]) ON CONFLICT (id) DO NOTHING`,
				id, e.Title, e.ThumbnailURL, e.Duration, e.ReleaseDate, e.Genre, artists)
			t.add(search.KindSong, id, pos)
		}
	case domain.SongUpdated:
		if id, err = canonicalID(e.SongID, rec); err == nil {
			b.Queue(`UPDATE search_src_songs SET title = coalesce($2, title), thumbnailurl = coalesce($3, thumbnailurl),
				duration = coalesce($4, duration), releasedate = coalesce($5, releasedate), genre = coalesce($6, genre) WHERE id = $1`,
				id, e.Title, e.ThumbnailURL, e.Duration, e.ReleaseDate, e.Genre)
			t.add(search.KindSong, id, pos)
		}
	case domain.SongDeleted:
		if id, err = canonicalID(e.SongID, rec); err == nil {
			b.Queue(`DELETE FROM search_src_songs WHERE id = $1`, id)
			t.add(search.KindSong, id, pos)
		}
	case domain.StreamGranted:
		if id, err = canonicalID(e.SongID, rec); err == nil {
			// Each grant is a view. Not idempotent on its own: the checkpoint,
			// committed in the same transaction, applies it once.
			b.Queue(`UPDATE search_src_songs SET views = views + 1 WHERE id = $1`, id)
			t.add(search.KindSong, id, pos)
		}
	case domain.CollectionCreated:
		var owner string
		if id, err = canonicalID(e.CollectionID, rec); err == nil {
			if owner, err = canonicalID(e.OwnerID, rec); err == nil {
				b.Queue(`INSERT INTO search_src_collections (id, title, description, thumbnailurl, type, visibility, owner_id)
					VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
					id, e.Title, e.Description, e.ThumbnailURL, string(e.Type), string(e.Visibility), owner)
				t.add(search.KindCollection, id, pos)
			}
		}
	case domain.CollectionUpdated:
		// A collection whose owner was deleted has no row any more: the
		// update changes nothing, and the document stays deleted.
		if id, err = canonicalID(e.CollectionID, rec); err == nil {
			b.Queue(`UPDATE search_src_collections SET title = coalesce($2, title), description = coalesce($3, description),
				thumbnailurl = coalesce($4, thumbnailurl), type = coalesce($5, type), visibility = coalesce($6, visibility) WHERE id = $1`,
				id, e.Title, e.Description, e.ThumbnailURL, (*string)(e.Type), (*string)(e.Visibility))
			t.add(search.KindCollection, id, pos)
		}
	case domain.CollectionDeleted:
		if id, err = canonicalID(e.CollectionID, rec); err == nil {
			b.Queue(`DELETE FROM search_src_collections WHERE id = $1`, id)
			t.add(search.KindCollection, id, pos)
		}
	}
	return err
}

// buildChanges reads the touched documents from the source tables: one
// upsert for each that exists, one delete for each that does not, in a
// deterministic order (by version, then kind and id).
func buildChanges(ctx context.Context, tx pgx.Tx, t touched) ([]search.Change, error) {
	ids := map[search.Kind][]string{}
	for k := range t {
		ids[k.kind] = append(ids[k.kind], k.id)
	}
	found := map[docKey]search.Change{}
	keep := func(c search.Change) { found[docKey{c.Kind, c.ID}] = c }
	b := &pgx.Batch{}
	if len(ids[search.KindUser]) > 0 {
		b.Queue(`SELECT id::text, username, avatarurl FROM search_src_users WHERE id = ANY($1::uuid[])`, ids[search.KindUser]).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var d search.UserDoc
					if err := rows.Scan(&d.ID, &d.Username, &d.AvatarURL); err != nil {
						return err
					}
					keep(search.UpsertUser(d, t[docKey{search.KindUser, d.ID}]))
				}
				return rows.Err()
			})
	}
	if len(ids[search.KindArtist]) > 0 {
		b.Queue(`SELECT id::text, name, avatarurl FROM search_src_artists WHERE id = ANY($1::uuid[])`, ids[search.KindArtist]).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var d search.ArtistDoc
					if err := rows.Scan(&d.ID, &d.Name, &d.AvatarURL); err != nil {
						return err
					}
					keep(search.UpsertArtist(d, t[docKey{search.KindArtist, d.ID}]))
				}
				return rows.Err()
			})
	}
	if len(ids[search.KindSong]) > 0 {
		// Artists in credit order; one deleted since is left out.
		b.Queue(`SELECT s.id::text, s.title, s.thumbnailurl, s.duration, s.views, s.releasedate, s.genre,
			coalesce((SELECT json_agg(json_build_object('id', a.id::text, 'name', a.name) ORDER BY u.ord)
				FROM unnest(s.artist_ids) WITH ORDINALITY AS u(artist_id, ord)
				JOIN search_src_artists a ON a.id = u.artist_id), '[]')::text
			FROM search_src_songs s WHERE s.id = ANY($1::uuid[])`, ids[search.KindSong]).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var d search.SongDoc
					var artists string
					if err := rows.Scan(&d.ID, &d.Title, &d.ThumbnailURL, &d.Duration, &d.Views, &d.ReleaseDate, &d.Genre, &artists); err != nil {
						return err
					}
					if err := json.Unmarshal([]byte(artists), &d.Artists); err != nil {
						return fmt.Errorf("artists of song %s: %w", d.ID, err)
					}
					keep(search.UpsertSong(d, t[docKey{search.KindSong, d.ID}]))
				}
				return rows.Err()
			})
	}
	if len(ids[search.KindCollection]) > 0 {
		// An owner without a row (never seen) leaves the owner's name empty.
		b.Queue(`SELECT c.id::text, c.title, c.description, c.thumbnailurl, c.type, c.visibility,
			c.owner_id::text, coalesce(u.username, ''), coalesce(u.avatarurl, '')
			FROM search_src_collections c LEFT JOIN search_src_users u ON u.id = c.owner_id
			WHERE c.id = ANY($1::uuid[])`, ids[search.KindCollection]).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var d search.CollectionDoc
					if err := rows.Scan(&d.ID, &d.Title, &d.Description, &d.ThumbnailURL, &d.Type, &d.Visibility,
						&d.Owner.ID, &d.Owner.Username, &d.Owner.AvatarURL); err != nil {
						return err
					}
					keep(search.UpsertCollection(d, t[docKey{search.KindCollection, d.ID}]))
				}
				return rows.Err()
			})
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("search projector: read source rows: %w", err)
		}
	}
	changes := make([]search.Change, 0, len(t))
	for k, version := range t {
		if c, ok := found[k]; ok {
			changes = append(changes, c)
			continue
		}
		changes = append(changes, search.Delete(k.kind, k.id, version))
	}
	slices.SortFunc(changes, func(a, b search.Change) int {
		return cmp.Or(cmp.Compare(a.Version, b.Version), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	return changes, nil
}
