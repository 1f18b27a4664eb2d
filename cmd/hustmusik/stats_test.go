package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/readapi"
)

// TestStatsMatchADirectCountOverTheLog records listens through the API and
// straight into the log (other days, other listeners), then compares the
// statistics read model, GET /v1/song/:id/stats and `stats listens` with a
// count made here by reading every ListenRecorded of the log.
func TestStatsMatchADirectCountOverTheLog(t *testing.T) {
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "admin@hust.vn"})
	admin := api.signUp("admin@hust.vn", "Quản trị")
	lan := api.signUp("lan@example.vn", "Lan")
	artist := api.expect(api.do("POST", "/v1/artist", admin.access, map[string]string{"name": "Hòa Minzy"}), 200).json(t)["data"].(map[string]any)["id"].(string)
	song := func(title string) string {
		r := api.expect(api.do("POST", "/v1/song", admin.access, map[string]any{"title": title, "artists": artist}), 200)
		return r.json(t)["data"].(map[string]any)["id"].(string)
	}
	s1, s2, s3, silent := song("Rời Bỏ"), song("Không Thể Cùng Nhau Suốt Kiếp"), song("Xoá"), song("Chưa nghe")
	api.expect(api.do("POST", "/v1/user/me/history/"+s1, lan.access, nil), 204)
	api.expect(api.do("POST", "/v1/user/me/history/"+s2, lan.access, nil), 204)

	ctx := context.Background()
	store := api.app.env.store
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var last uint64
	for u := 0; u < 5; u++ {
		user := uuid.NewString()
		var events []eventstore.EventData
		for i := 0; i < 40; i++ {
			// Spread over 12 days, crossing midnights; s1 is the most played.
			at := day0.Add(time.Duration(u*40+i) * 83 * time.Minute)
			sid := []string{s1, s1, s2, s3, s1, s2}[(u+i)%6]
			data, _ := json.Marshal(domain.ListenRecorded{UserID: user, SongID: sid, ListenedAt: at})
			events = append(events, eventstore.EventData{ID: uuid.New(), Type: "ListenRecorded", Data: data,
				Metadata: eventstore.Metadata{OccurredAt: at, SchemaVersion: 1}})
		}
		res, err := store.Append(ctx, domain.ListensStream(user), eventstore.NoStream(), events...)
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	api.expect(api.do("DELETE", "/v1/song/"+s3, admin.access, nil), 204) // a deleted song keeps its plays
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := api.app.runtime.Wait(wctx, last, []string{"ListenRecorded"}); err != nil {
		t.Fatal(err)
	}

	// The direct count: every ListenRecorded of the log.
	count := map[string]map[string]int64{} // song -> day -> plays
	perDay := map[string]int64{}
	var after uint64
	for {
		b, err := store.ReadAll(ctx, after, 50, eventstore.Filter{EventTypes: []string{"ListenRecorded"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Events {
			var l domain.ListenRecorded
			if err := json.Unmarshal(e.Data, &l); err != nil {
				t.Fatal(err)
			}
			day := l.ListenedAt.UTC().Format("2006-01-02")
			if count[l.SongID] == nil {
				count[l.SongID] = map[string]int64{}
			}
			count[l.SongID][day]++
			perDay[day]++
		}
		if b.Checkpoint <= after {
			break
		}
		after = b.Checkpoint
	}
	if len(count) != 3 {
		t.Fatalf("the log has listens of %d songs, want 3", len(count))
	}
	totals := map[string]int64{}
	for _, sid := range []string{s1, s2, s3} {
		r := api.expect(api.do("GET", "/v1/song/"+sid+"/stats", "", nil), 200)
		var st struct {
			Data readapi.SongStats `json:"data"`
		}
		if err := json.Unmarshal(r.body, &st); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		var sum int64
		prev := ""
		for _, d := range st.Data.Days {
			if d.Day <= prev {
				t.Errorf("days not in order: %s after %s", d.Day, prev)
			}
			prev = d.Day
			got[d.Day] = d.Plays
			sum += d.Plays
		}
		if fmt.Sprint(got) != fmt.Sprint(count[sid]) || st.Data.Total != sum || st.Data.SongID != sid {
			t.Errorf("stats of %s = %+v, the log says %v", sid, st.Data, count[sid])
		}
		totals[sid] = sum
	}
	if totals[s1] <= totals[s2] || totals[s2] <= totals[s3] {
		t.Fatalf("the test wants s1 > s2 > s3 in plays: %v", totals)
	}
	// Per listener per day: every play of the log, counted once.
	var userPlays, songPlays int64
	if err := api.app.env.pool.QueryRow(ctx, `SELECT (SELECT sum(plays) FROM user_plays_daily), (SELECT sum(plays) FROM song_plays_daily)`).
		Scan(&userPlays, &songPlays); err != nil {
		t.Fatal(err)
	}
	if userPlays != 202 || songPlays != 202 {
		t.Errorf("read model counts %d plays per user and %d per song, the log 202", userPlays, songPlays)
	}

	body := api.expect(api.do("GET", "/v1/song/"+silent+"/stats", "", nil), 200).body
	if !bytes.Contains(body, []byte(`"days":[]`)) || !bytes.Contains(body, []byte(`"total":0`)) {
		t.Errorf("a song without plays: %s", body)
	}
	api.expect(api.do("GET", "/v1/song/"+uuid.NewString()+"/stats", "", nil), 404)
	api.expect(api.do("GET", "/v1/song/not-an-id/stats", "", nil), 400)

	// stats listens: the top songs, and a chart.
	out := filepath.Join(t.TempDir(), "chart.png")
	var stdout bytes.Buffer
	if err := listenStats(ctx, readapi.NewStats(api.app.env.pool), day0, 2, out, &stdout); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(stdout.String(), "\n")
	if len(lines) < 4 || !strings.Contains(lines[2], "Rời Bỏ") || !strings.Contains(lines[2], fmt.Sprint(totals[s1])) ||
		!strings.Contains(lines[3], "Không Thể Cùng Nhau Suốt Kiếp") || strings.Contains(stdout.String(), "Xoá") ||
		!strings.Contains(stdout.String(), out) {
		t.Errorf("stats listens printed:\n%s", stdout.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	// One bar per day from day0 to today: the busiest day's bar is the
	// tallest, and bars are drawn in the bar colour.
	bars := 0
	b := img.Bounds()
	for x := b.Min.X; x < b.Max.X; x++ {
		r, g, bl, _ := img.At(x, b.Max.Y-45).RGBA()
		if r>>8 == 29 && g>>8 == 185 && bl>>8 == 84 {
			bars++
		}
	}
	if bars == 0 {
		t.Error("the chart has no bars")
	}
	series, err := dailySeries(day0, time.Now().UTC(), mapDays(perDay))
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, d := range series {
		sum += d.Plays
	}
	if sum != 202 || series[0].Day != "2026-11-01" {
		t.Errorf("chart series sums %d plays from %s, want 202 from 2026-11-01", sum, series[0].Day)
	}
}

func mapDays(m map[string]int64) []readapi.DayPlays {
	var out []readapi.DayPlays
	for d, n := range m {
		out = append(out, readapi.DayPlays{Day: d, Plays: n})
	}
	return out
}
