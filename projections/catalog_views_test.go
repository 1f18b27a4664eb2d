package projections

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// Stream grants live on their own streams and count as views; a rebuild
// counts them again from the log.
func TestCatalogProjectorCountsStreamGrantsAsViews(t *testing.T) {
	pool := pgtest.New(t)
	a, s1, s2, gone := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	var log []eventstore.RecordedEvent
	add := func(stream string, e domain.Event) { log = append(log, catalogEvent(t, len(log)+1, stream, e)) }
	add(domain.ArtistStream(a), domain.ArtistAdded{ArtistID: a, Name: "Mỹ Tâm"})
	add(domain.SongStream(s1), domain.SongAdded{SongID: s1, Title: "Đừng Hỏi Em", ArtistIDs: []string{a}})
	add(domain.SongStream(s2), domain.SongAdded{SongID: s2, Title: "Ước Gì", ArtistIDs: []string{a}})
	add(domain.SongStream(gone), domain.SongAdded{SongID: gone, Title: "Gone", ArtistIDs: []string{a}})
	add(domain.SongStream(gone), domain.SongDeleted{SongID: gone, ArtistIDs: []string{a}})
	for range 3 {
		add(domain.SongPlaysStream(s1), domain.StreamGranted{SongID: s1})
	}
	add(domain.SongPlaysStream(s2), domain.StreamGranted{SongID: s2})
	add(domain.SongPlaysStream(gone), domain.StreamGranted{SongID: gone}) // no row: nothing to count
	add(domain.SongStream(s1), domain.AudioUploadGranted{SongID: s1})     // not a view

	views := func() map[string]int64 {
		t.Helper()
		out := map[string]int64{}
		rows, err := pool.Query(context.Background(), `SELECT id::text, views, position FROM songs`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var v, pos int64
			if err := rows.Scan(&id, &v, &pos); err != nil {
				t.Fatal(err)
			}
			out[id] = v
			if id == s1 && pos != 2 {
				t.Errorf("song position %d: a play must not move it", pos)
			}
		}
		return out
	}
	applyCatalog(t, pool, log, 4, false)
	want := map[string]int64{s1: 3, s2: 1}
	check := func(got map[string]int64) {
		t.Helper()
		if len(got) != len(want) || got[s1] != want[s1] || got[s2] != want[s2] {
			t.Fatalf("views %v, want %v", got, want)
		}
	}
	check(views())
	applyCatalog(t, pool, log, 1, true) // rebuild from the log
	check(views())
}
