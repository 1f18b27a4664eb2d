package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Follows builds the `follows` read model: who follows which artist, since when.
type Follows struct{}

// Name is the checkpoint key: renaming it replays the projector.
func (Follows) Name() string { return "follows" }

// Filter selects follows and the deletions that end them.
func (Follows) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: []string{
		domain.ArtistFollowed{}.EventType(), domain.ArtistUnfollowed{}.EventType(),
		domain.ArtistDeleted{}.EventType(), domain.UserDeleted{}.EventType(),
	}}
}

// Reset empties the read model.
func (Follows) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE follows`)
	return err
}

// Apply writes a batch of follow events, pipelined in one round trip.
func (Follows) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	b := &pgx.Batch{}
	for _, rec := range events {
		e, err := decodeEvent(rec)
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case domain.ArtistFollowed:
			// The aggregate never records a second follow; DO NOTHING keeps
			// the first instant should a log ever hold one.
			b.Queue(`INSERT INTO follows (user_id, artist_id, followed_at, position) VALUES ($1, $2, $3, $4)
				ON CONFLICT (user_id, artist_id) DO NOTHING`, e.UserID, e.ArtistID, rec.RecordedAt, rec.Position)
		case domain.ArtistUnfollowed:
			b.Queue(`DELETE FROM follows WHERE user_id = $1 AND artist_id = $2`, e.UserID, e.ArtistID)
		case domain.ArtistDeleted:
			b.Queue(`DELETE FROM follows WHERE artist_id = $1`, e.ArtistID)
		case domain.UserDeleted:
			b.Queue(`DELETE FROM follows WHERE user_id = $1`, e.UserID)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("follows projector: %w", err)
	}
	return nil
}

// History builds the `listen_history` read model: per user and song, the
// latest listen and the number of listens.
type History struct{}

// Name is the checkpoint key: renaming it replays the projector.
func (History) Name() string { return "history" }

// Filter selects listens and the deletions that erase them.
func (History) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: []string{
		domain.ListenRecorded{}.EventType(), domain.SongDeleted{}.EventType(), domain.UserDeleted{}.EventType(),
	}}
}

// Reset empties the read model.
func (History) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE listen_history`)
	return err
}

type listenKey struct{ user, song string }

type listenSum struct {
	last  time.Time
	plays int
}

// Apply writes a batch of listens. Catching up on millions of listens is
// the common case, so consecutive listens are first summed per (user,
// song) in memory and written as one statement for the whole run (arrays
// through unnest: one statement costs the server far less than one per
// pair); a deletion flushes what came before it, keeping the log's order.
func (h History) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	b := &pgx.Batch{}
	if err := h.Queue(events, b); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("history projector: %w", err)
	}
	return nil
}

// Queue adds Apply's statements to b (the runtime sends them with the
// checkpoint: see Queuer).
func (History) Queue(events []eventstore.RecordedEvent, b *pgx.Batch) error {
	pending := map[listenKey]*listenSum{}
	var order []listenKey // first-seen order, so the statements are deterministic
	flush := func() {
		if len(order) == 0 {
			return
		}
		users, songs := make([]string, len(order)), make([]string, len(order))
		lasts, plays := make([]time.Time, len(order)), make([]int32, len(order))
		for i, k := range order {
			s := pending[k]
			users[i], songs[i], lasts[i], plays[i] = k.user, k.song, s.last, int32(s.plays)
		}
		// The pairs are unique (summed above), as ON CONFLICT DO UPDATE
		// requires within one statement.
		b.Queue(`INSERT INTO listen_history (user_id, song_id, last_listened, plays)
			SELECT u::uuid, s::uuid, l, p FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[]) AS x(u, s, l, p)
			ON CONFLICT (user_id, song_id) DO UPDATE
			SET last_listened = greatest(listen_history.last_listened, excluded.last_listened),
			    plays = listen_history.plays + excluded.plays`, users, songs, lasts, plays)
		clear(pending)
		order = order[:0]
	}
	for _, rec := range events {
		e, err := decodeEvent(rec)
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case domain.ListenRecorded:
			k := listenKey{e.UserID, e.SongID}
			s, ok := pending[k]
			if !ok {
				s = &listenSum{}
				pending[k] = s
				order = append(order, k)
			}
			s.plays++
			if e.ListenedAt.After(s.last) {
				s.last = e.ListenedAt
			}
		case domain.SongDeleted:
			flush()
			b.Queue(`DELETE FROM listen_history WHERE song_id = $1`, e.SongID)
		case domain.UserDeleted:
			flush()
			b.Queue(`DELETE FROM listen_history WHERE user_id = $1`, e.UserID)
		}
	}
	flush()
	return nil
}
