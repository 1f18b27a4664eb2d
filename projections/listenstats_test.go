package projections

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

func TestPlayDayIsTheUTCDay(t *testing.T) {
	hanoi := time.FixedZone("ICT", 7*3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), "2026-11-28"},
		{time.Date(2026, 11, 28, 23, 59, 59, 999999999, time.UTC), "2026-11-28"},
		{time.Date(2026, 11, 29, 6, 59, 0, 0, hanoi), "2026-11-28"}, // 23:59 UTC
		{time.Date(2026, 11, 29, 7, 0, 0, 0, hanoi), "2026-11-29"},
	} {
		if got := PlayDay(tc.in).Format("2006-01-02"); got != tc.want {
			t.Errorf("PlayDay(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestListenStatsCountsPlaysPerSongAndUserPerDay applies listens in
// batches of different sizes (so sums within a batch and across batches
// both happen) and compares with a count made here.
func TestListenStatsCountsPlaysPerSongAndUserPerDay(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	songs := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	users := []string{uuid.NewString(), uuid.NewString()}
	start := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	var events []eventstore.RecordedEvent
	wantSong, wantUser := map[string]int64{}, map[string]int64{}
	for i := 0; i < 97; i++ {
		at := start.Add(time.Duration(i) * 37 * time.Minute)
		s, u := songs[i*i%3], users[i%2]
		events = append(events, catalogEvent(t, i+1, domain.ListensStream(u), domain.ListenRecorded{UserID: u, SongID: s, ListenedAt: at}))
		day := at.Format("2006-01-02")
		wantSong[s+" "+day]++
		wantUser[u+" "+day]++
	}
	for _, batch := range []int{1, 10, 97} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := ListenStats{}
		if err := p.Reset(ctx, tx); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(events); i += batch {
			if err := p.Apply(ctx, tx, events[i:min(i+batch, len(events))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]map[string]int64{"song_plays_daily": wantSong, "user_plays_daily": wantUser} {
			col := "song_id"
			if table == "user_plays_daily" {
				col = "user_id"
			}
			got := map[string]int64{}
			rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT %s::text || ' ' || to_char(day, 'YYYY-MM-DD'), plays FROM %s`, col, table))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k string
				var n int64
				if err := rows.Scan(&k, &n); err != nil {
					t.Fatal(err)
				}
				got[k] = n
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("batch %d, %s = %v, want %v", batch, table, got, want)
			}
		}
	}
}
