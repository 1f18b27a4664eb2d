package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

func appendDomainEvents(t *testing.T, store eventstore.Store, stream string, events ...domain.Event) {
	t.Helper()
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		data[i] = eventstore.EventData{ID: uuid.New(), Type: e.EventType(), Data: raw,
			Metadata: eventstore.Metadata{OccurredAt: time.Now().UTC(), SchemaVersion: 1}}
	}
	if _, err := store.Append(context.Background(), stream, eventstore.Any(), data...); err != nil {
		t.Fatal(err)
	}
}

func libraryStore(t *testing.T) (*pgxpool.Pool, *pgstore.Store) {
	t.Helper()
	pool := pgtest.New(t)
	store, err := pgstore.New(pgstore.Config{}, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return pool, store
}

func rowsOf(t *testing.T, pool *pgxpool.Pool, query string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHistoryProjectorSumsListensAndForgetsDeletedSongsAndUsers(t *testing.T) {
	ctx := context.Background()
	pool, store := libraryStore(t)
	lan, minh := uuid.NewString(), uuid.NewString()
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	t0 := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	listen := func(user, song string, s int) domain.Event {
		return domain.ListenRecorded{UserID: user, SongID: song, ListenedAt: t0.Add(time.Duration(s) * time.Second)}
	}
	appendDomainEvents(t, store, domain.ListensStream(lan), listen(lan, a, 0), listen(lan, b, 40), listen(lan, a, 80))
	appendDomainEvents(t, store, domain.ListensStream(minh), listen(minh, a, 1), listen(minh, c, 2))
	appendDomainEvents(t, store, domain.SongStream(c), domain.SongDeleted{SongID: c})
	// A listen after the deletion (a race with the delete) comes back; the
	// query's join with songs hides it.
	appendDomainEvents(t, store, domain.ListensStream(minh), listen(minh, c, 3))
	appendDomainEvents(t, store, domain.ListensStream(lan), listen(lan, b, 120))
	at := func(s int) int64 { return t0.Add(time.Duration(s) * time.Second).Unix() }
	want := []string{
		fmt.Sprint(lan, " ", a, " ", at(80), " ", 2),
		fmt.Sprint(lan, " ", b, " ", at(120), " ", 2),
		fmt.Sprint(minh, " ", a, " ", at(1), " ", 1),
		fmt.Sprint(minh, " ", c, " ", at(3), " ", 1),
	}
	// Every batch size must give the same rows: the in-memory summing
	// respects the order of deletions.
	for _, size := range []int{1, 2, 3, 1000} {
		if _, err := Replay(ctx, pool, store, History{}, size); err != nil {
			t.Fatal(err)
		}
		got := rowsOf(t, pool, `SELECT user_id::text || ' ' || song_id::text || ' ' ||
			extract(epoch FROM last_listened)::bigint || ' ' || plays FROM listen_history`)
		if len(got) != len(want) {
			t.Fatalf("batch %d: rows %v, want %v", size, got, want)
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Fatalf("batch %d: row %q missing from %v", size, w, got)
			}
		}
	}
	appendDomainEvents(t, store, domain.UserStream(lan), domain.UserDeleted{UserID: lan})
	if _, err := Replay(ctx, pool, store, History{}, 2); err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, pool, `SELECT user_id::text FROM listen_history WHERE user_id = '`+lan+`'`); len(got) != 0 {
		t.Fatalf("a deleted user's history stayed: %v", got)
	}
	if got := rowsOf(t, pool, `SELECT count(*) FROM listen_history`); got[0] != "2" {
		t.Fatalf("rows left: %v", got)
	}
}

func TestFollowsProjector(t *testing.T) {
	ctx := context.Background()
	pool, store := libraryStore(t)
	lan, minh := uuid.NewString(), uuid.NewString()
	x, y, z := uuid.NewString(), uuid.NewString(), uuid.NewString()
	appendDomainEvents(t, store, domain.UserStream(lan),
		domain.ArtistFollowed{UserID: lan, ArtistID: x}, domain.ArtistFollowed{UserID: lan, ArtistID: y},
		domain.ArtistUnfollowed{UserID: lan, ArtistID: x}, domain.ArtistFollowed{UserID: lan, ArtistID: z})
	appendDomainEvents(t, store, domain.UserStream(minh),
		domain.ArtistFollowed{UserID: minh, ArtistID: y}, domain.ArtistFollowed{UserID: minh, ArtistID: x})
	check := func(want ...string) {
		t.Helper()
		if _, err := Replay(ctx, pool, store, Follows{}, 2); err != nil {
			t.Fatal(err)
		}
		got := rowsOf(t, pool, `SELECT user_id::text || '>' || artist_id::text FROM follows ORDER BY 1`)
		wantSet := map[string]bool{}
		for _, w := range want {
			wantSet[w] = true
		}
		if len(got) != len(want) {
			t.Fatalf("follows %v, want %v", got, want)
		}
		for _, g := range got {
			if !wantSet[g] {
				t.Fatalf("follows %v, want %v", got, want)
			}
		}
	}
	check(lan+">"+y, lan+">"+z, minh+">"+y, minh+">"+x)
	appendDomainEvents(t, store, domain.ArtistStream(y), domain.ArtistDeleted{ArtistID: y})
	check(lan+">"+z, minh+">"+x)
	appendDomainEvents(t, store, domain.UserStream(minh), domain.UserDeleted{UserID: minh})
	check(lan + ">" + z)
}
