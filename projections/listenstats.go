package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// ListenStats builds the listen statistics: `song_plays_daily` (plays per
// song per UTC day) and `user_plays_daily` (plays per listener per UTC day).
// It reads ListenRecorded and nothing else, so a statistic is exactly a
// count over the log: a deleted song or account keeps the plays it had.
type ListenStats struct{}

// Name is the checkpoint key: renaming it replays the projector.
func (ListenStats) Name() string { return "listenstats" }

// Filter selects the listens.
func (ListenStats) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: []string{domain.ListenRecorded{}.EventType()}}
}

// Tables are the read model's tables (blue/green rebuilds copy them).
func (ListenStats) Tables() []string { return []string{"song_plays_daily", "user_plays_daily"} }

// Reset empties the read models.
func (ListenStats) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE song_plays_daily, user_plays_daily`)
	return err
}

// PlayDay is the UTC day a listen counts for.
func PlayDay(listenedAt time.Time) time.Time {
	y, m, d := listenedAt.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

type dayKey struct {
	id  string
	day time.Time
}

// Apply counts a batch of listens. Listens arrive by the million when
// catching up, so a batch is summed in memory first: one upsert per (song,
// day) and per (user, day) instead of one per listen. Adding is not
// idempotent on its own; the checkpoint, committed in the same
// transaction, applies each listen once.
func (l ListenStats) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	b := &pgx.Batch{}
	if err := l.Queue(events, b); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("listenstats projector: %w", err)
	}
	return nil
}

// Queue adds Apply's statements to b (the runtime sends them with the
// checkpoint: see Queuer).
func (ListenStats) Queue(events []eventstore.RecordedEvent, b *pgx.Batch) error {
	songs, users := map[dayKey]int64{}, map[dayKey]int64{}
	var songOrder, userOrder []dayKey // first-seen order: deterministic statements
	for _, rec := range events {
		e, err := decodeEvent(rec)
		if err != nil {
			return err
		}
		l, ok := e.(domain.ListenRecorded)
		if !ok {
			continue
		}
		day := PlayDay(l.ListenedAt)
		sk, uk := dayKey{l.SongID, day}, dayKey{l.UserID, day}
		if _, seen := songs[sk]; !seen {
			songOrder = append(songOrder, sk)
		}
		if _, seen := users[uk]; !seen {
			userOrder = append(userOrder, uk)
		}
		songs[sk]++
		users[uk]++
	}
	// One statement per table for the whole batch (arrays through unnest),
	// not one per (song, day): the keys are unique, as summed above.
	if len(songOrder) > 0 {
		ids, days, plays := dayColumns(songOrder, songs)
		b.Queue(`INSERT INTO song_plays_daily (song_id, day, plays)
			SELECT i::uuid, d, p FROM unnest($1::text[], $2::date[], $3::bigint[]) AS x(i, d, p)
			ON CONFLICT (song_id, day) DO UPDATE SET plays = song_plays_daily.plays + excluded.plays`, ids, days, plays)
	}
	if len(userOrder) > 0 {
		ids, days, plays := dayColumns(userOrder, users)
		b.Queue(`INSERT INTO user_plays_daily (user_id, day, plays)
			SELECT i::uuid, d, p FROM unnest($1::text[], $2::date[], $3::bigint[]) AS x(i, d, p)
			ON CONFLICT (user_id, day) DO UPDATE SET plays = user_plays_daily.plays + excluded.plays`, ids, days, plays)
	}
	return nil
}

// dayColumns are the keys in order and their counts, as arrays for unnest.
func dayColumns(order []dayKey, counts map[dayKey]int64) ([]string, []time.Time, []int64) {
	ids, days, plays := make([]string, len(order)), make([]time.Time, len(order)), make([]int64, len(order))
	for i, k := range order {
		ids[i], days[i], plays[i] = k.id, k.day, counts[k]
	}
	return ids, days, plays
}
