package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

// collectionLog builds recorded events with consecutive positions, as the
// store would deliver them.
type collectionLog struct {
	t      *testing.T
	events []eventstore.RecordedEvent
}

func (l *collectionLog) add(stream string, e domain.Event) {
	raw, err := json.Marshal(e)
	if err != nil {
		l.t.Fatal(err)
	}
	pos := uint64(len(l.events) + 1)
	l.events = append(l.events, eventstore.RecordedEvent{ID: uuid.New(), StreamID: stream, Position: pos,
		Type: e.EventType(), Data: raw, RecordedAt: time.Date(2026, 1, 1, 0, 0, int(pos), 0, time.UTC)})
}

func applyCollections(t *testing.T, pool *pgxpool.Pool, events []eventstore.RecordedEvent, reset bool) {
	t.Helper()
	applySelected(t, pool, Collections{}, events, 3, reset) // batches of 3, as the runtime might cut them
}

// collectionRows is the whole read model as text, for comparisons.
func collectionRows(t *testing.T, pool *pgxpool.Pool) (cols map[string]string, songs map[string][]string) {
	t.Helper()
	ctx := context.Background()
	cols, songs = map[string]string{}, map[string][]string{}
	rows, err := pool.Query(ctx, `SELECT id::text, title, description, thumbnailurl, type, visibility, owner_id::text FROM collections`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, title, desc, thumb, typ, vis, owner string
		if err := rows.Scan(&id, &title, &desc, &thumb, &typ, &vis, &owner); err != nil {
			t.Fatal(err)
		}
		cols[id] = fmt.Sprintf("%s|%s|%s|%s|%s|%s", title, desc, thumb, typ, vis, owner)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err = pool.Query(ctx, `SELECT collection_id::text, song_id::text FROM collection_songs ORDER BY collection_id, ord`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c, s string
		if err := rows.Scan(&c, &s); err != nil {
			t.Fatal(err)
		}
		songs[c] = append(songs[c], s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, songs
}

func TestCollectionsProjector(t *testing.T) {
	pool := pgtest.New(t)
	owner, other := uuid.NewString(), uuid.NewString()
	c1, c2, c3, gone := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	s1, s2, s3, s4 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	title, private, mix := "Đêm nhạc", domain.Private, domain.CollectionMix

	l := &collectionLog{t: t}
	col := domain.CollectionStream
	l.add(col(c1), domain.CollectionCreated{CollectionID: c1, Title: "Mine", Type: domain.CollectionPlaylist, Visibility: domain.Public, OwnerID: owner})
	l.add(col(c2), domain.CollectionCreated{CollectionID: c2, Title: "Album", Description: "d", ThumbnailURL: "/a.png",
		Type: domain.CollectionAlbum, Visibility: domain.Public, OwnerID: other})
	l.add(col(c3), domain.CollectionCreated{CollectionID: c3, Title: "Other's", Type: domain.CollectionPlaylist, Visibility: domain.Public, OwnerID: other})
	l.add(col(gone), domain.CollectionCreated{CollectionID: gone, Title: "Gone", Type: domain.CollectionPlaylist, Visibility: domain.Public, OwnerID: owner})
	for _, s := range []string{s3, s1, s2, s4} {
		l.add(col(c1), domain.SongAddedToCollection{CollectionID: c1, SongID: s})
	}
	l.add(col(c2), domain.SongAddedToCollection{CollectionID: c2, SongID: s1})
	l.add(col(c2), domain.SongAddedToCollection{CollectionID: c2, SongID: s2})
	l.add(col(c3), domain.SongAddedToCollection{CollectionID: c3, SongID: s2})
	l.add(col(gone), domain.SongAddedToCollection{CollectionID: gone, SongID: s1})
	l.add(col(c1), domain.SongRemovedFromCollection{CollectionID: c1, SongID: s1})
	l.add(col(c1), domain.SongAddedToCollection{CollectionID: c1, SongID: s1}) // back, at the end
	l.add(col(c1), domain.CollectionUpdated{CollectionID: c1, Title: &title, Visibility: &private, Type: &mix})
	l.add(col(gone), domain.CollectionDeleted{CollectionID: gone})
	l.add(domain.SongStream(s2), domain.SongDeleted{SongID: s2})
	// Events of other projectors are not selected.
	l.add(domain.SongStream(s4), domain.SongUpdated{SongID: s4, Title: &title})
	l.add(domain.UserStream(other), domain.UserDeleted{UserID: other})
	// An Admin changes a collection of the deleted user: no row comes back.
	l.add(col(c3), domain.SongAddedToCollection{CollectionID: c3, SongID: s3})
	l.add(col(c3), domain.CollectionUpdated{CollectionID: c3, Title: &title})

	applyCollections(t, pool, l.events, false)
	cols, songs := collectionRows(t, pool)
	wantCols := map[string]string{c1: "Đêm nhạc|||Mix|Private|" + owner}
	wantSongs := map[string][]string{c1: {s3, s4, s1}}
	if !reflect.DeepEqual(cols, wantCols) {
		t.Fatalf("collections %v, want %v", cols, wantCols)
	}
	if !reflect.DeepEqual(songs, wantSongs) {
		t.Fatalf("songs %v, want %v", songs, wantSongs)
	}

	// Replaying the log after a reset rebuilds the same rows; the last
	// events delivered again change nothing.
	applyCollections(t, pool, l.events, true)
	if c, s := collectionRows(t, pool); !reflect.DeepEqual(c, wantCols) || !reflect.DeepEqual(s, wantSongs) {
		t.Fatalf("after rebuild: %v %v", c, s)
	}
	applyCollections(t, pool, l.events[len(l.events)-6:], false)
	if c, s := collectionRows(t, pool); !reflect.DeepEqual(c, wantCols) || !reflect.DeepEqual(s, wantSongs) {
		t.Fatalf("after a redelivery: %v %v", c, s)
	}
}
