package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

func catalogEvent(t *testing.T, pos int, stream string, e domain.Event) eventstore.RecordedEvent {
	t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.RecordedEvent{ID: uuid.New(), StreamID: stream, Position: uint64(pos), Type: e.EventType(),
		Data: raw, RecordedAt: time.Date(2026, 1, 1, 0, 0, pos, 0, time.UTC)}
}

// applyCatalog runs the events the Catalog filter selects through Apply in
// batches of batch, in one transaction, after a Reset when asked.
func applyCatalog(t *testing.T, pool *pgxpool.Pool, events []eventstore.RecordedEvent, batch int, reset bool) {
	t.Helper()
	applySelected(t, pool, Catalog{}, events, batch, reset)
}

// catalogRows is the whole read model as text, for comparisons.
func catalogRows(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT 'artist ' || id, concat_ws('|', name, description, avatarurl, country, managerid, created_at, position) FROM artists`,
		`SELECT 'song ' || id, concat_ws('|', title, description, thumbnailurl, duration, releasedate, genre, views, created_at, position) FROM songs`,
		`SELECT 'credit ' || song_id || ' ' || artist_id, ord::text FROM song_artists`,
	} {
		rows, err := pool.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestCatalogProjector(t *testing.T) {
	pool := pgtest.New(t)
	mgr := uuid.NewString()
	a1, a2, gone := uuid.NewString(), uuid.NewString(), uuid.NewString()
	s1, s2 := uuid.NewString(), uuid.NewString()
	country, genre, dur := "Việt Nam", "V-Pop", 245
	art, song := domain.ArtistStream, domain.SongStream

	var log []eventstore.RecordedEvent
	add := func(stream string, e domain.Event) { log = append(log, catalogEvent(t, len(log)+1, stream, e)) }
	add(art(a1), domain.ArtistAdded{ArtistID: a1, Name: "Sơn Tùng M-TP", ManagerID: mgr})
	add(art(a2), domain.ArtistAdded{ArtistID: a2, Name: "Snoop Dogg", AvatarURL: "/s.png", ManagerID: mgr})
	add(art(gone), domain.ArtistAdded{ArtistID: gone, Name: "Gone", ManagerID: mgr})
	add(art(a1), domain.ArtistUpdated{ArtistID: a1, Country: &country})
	add(art(gone), domain.ArtistDeleted{ArtistID: gone})
	add(art(a1), domain.ArtistSongCredited{ArtistID: a1, SongID: s1}) // not selected
	add(song(s1), domain.SongAdded{SongID: s1, Title: "Hãy Trao Cho Anh", ArtistIDs: []string{a2, a1}, ReleaseDate: "2019-07-01"})
	add(song(s2), domain.SongAdded{SongID: s2, Title: "Lạc Trôi", ArtistIDs: []string{a1}})
	add(song(s1), domain.SongUpdated{SongID: s1, Genre: &genre, Duration: &dur})
	add(song(s2), domain.SongDeleted{SongID: s2, ArtistIDs: []string{a1}})
	add(domain.UserStream(mgr), domain.UserDeleted{UserID: mgr}) // not selected

	applyCatalog(t, pool, log, 3, false)
	got := catalogRows(t, pool)
	// Two artists (one deleted), one song (one deleted), its two credits.
	if len(got) != 5 {
		t.Fatalf("rows: %v", got)
	}
	for key, want := range map[string]string{
		"credit " + s1 + " " + a2: "0", // the Primary artist first
		"credit " + s1 + " " + a1: "1",
	} {
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	check := func(key, prefix string) {
		t.Helper()
		if v, ok := got[key]; !ok || len(v) < len(prefix) || v[:len(prefix)] != prefix {
			t.Errorf("%s = %q, want prefix %q", key, v, prefix)
		}
	}
	check("artist "+a1, "Sơn Tùng M-TP|||Việt Nam|"+mgr+"|")
	check("artist "+a2, "Snoop Dogg||/s.png||"+mgr+"|")
	check("song "+s1, fmt.Sprintf("Hãy Trao Cho Anh|||%d|2019-07-01|V-Pop|0|", dur))
	if v := got["song "+s1]; v[len(v)-2:] != "|9" {
		t.Errorf("song position: %q", v)
	}

	// Deterministic: a rebuild from scratch, cut in other batches, gives the
	// same rows, and so does applying the log once more over them.
	applyCatalog(t, pool, log, 1, true)
	if again := catalogRows(t, pool); !maps.Equal(again, got) {
		t.Fatalf("rebuild differs:\n%v\n%v", again, got)
	}
	applyCatalog(t, pool, log, len(log), false)
	if again := catalogRows(t, pool); !maps.Equal(again, got) {
		t.Fatalf("re-applying differs:\n%v\n%v", again, got)
	}
}
