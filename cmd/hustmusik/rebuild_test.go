package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// TestRebuildAllWhileServingNeverServesPartialTables runs `hustmusik
// projections rebuild all` against the database of a running service while
// clients keep reading: every answer during the rebuild is the full one,
// and after it the service answers byte for byte as before.
func TestRebuildAllWhileServingNeverServesPartialTables(t *testing.T) {
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "admin@hust.vn"})
	admin := api.signUp("admin@hust.vn", "Quản trị")
	lan := api.signUp("lan@example.vn", "Lan")
	for i := 0; i < 6; i++ {
		api.signUp(fmt.Sprintf("nghe%d@example.vn", i), fmt.Sprintf("Người nghe %d", i))
	}
	artist := api.expect(api.do("POST", "/v1/artist", admin.access, map[string]string{"name": "Mỹ Tâm"}), 200).json(t)["data"].(map[string]any)["id"].(string)
	var songs []string
	for i := 0; i < 12; i++ {
		r := api.expect(api.do("POST", "/v1/song", admin.access, map[string]any{"title": fmt.Sprintf("Bài %d", i), "artists": artist}), 200)
		songs = append(songs, r.json(t)["data"].(map[string]any)["id"].(string))
	}
	api.expect(api.do("POST", "/v1/user/me/history/"+songs[0], lan.access, nil), 204)
	// Enough listens that rebuilding history and listenstats takes a while.
	ctx := context.Background()
	var last uint64
	for u := 0; u < 20; u++ {
		user := uuid.NewString()
		events := make([]eventstore.EventData, 500)
		for i := range events {
			at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Minute)
			data, _ := json.Marshal(domain.ListenRecorded{UserID: user, SongID: songs[(u+i)%len(songs)], ListenedAt: at})
			events[i] = eventstore.EventData{ID: uuid.New(), Type: "ListenRecorded", Data: data, Metadata: eventstore.Metadata{OccurredAt: at, SchemaVersion: 1}}
		}
		res, err := api.app.env.store.Append(ctx, domain.ListensStream(user), eventstore.NoStream(), events...)
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := api.app.runtime.Wait(wctx, last, nil); err != nil {
		t.Fatal(err)
	}

	gets := []string{"/v1/user?limit=50", "/v1/song?limit=50", "/v1/song/" + songs[3], "/v1/artist/" + artist + "/songs", "/v1/song/" + songs[5] + "/stats", "/v1/search/B%C3%A0i/songs?limit=50"}
	capture := func() []string {
		out := make([]string, len(gets))
		for i, g := range gets {
			r := api.do("GET", g, "", nil)
			out[i] = fmt.Sprintf("%d %s", r.status, r.body)
		}
		return out
	}
	before := capture()
	for i, b := range before {
		if !strings.HasPrefix(b, "200 ") {
			t.Fatalf("GET %s before the rebuild: %s", gets[i], b)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	problems := make(chan string, 100)
	for i := range gets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := api.do("GET", gets[i], "", nil)
				if got := fmt.Sprintf("%d %s", r.status, r.body); got != before[i] {
					select {
					case problems <- fmt.Sprintf("GET %s during the rebuild: %.300s", gets[i], got):
					default:
					}
					return
				}
				reads.Add(1)
			}
		}()
	}

	t.Setenv("DATABASE_URL", api.cfg.DatabaseURL)
	t.Setenv("HUSTMUSIK_DATA_DIR", t.TempDir())
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"projections", "rebuild", "all"}, &stdout, &stderr)
	close(stop)
	wg.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
	if err != nil {
		t.Fatalf("rebuild all: %v\n%s", err, stderr.String())
	}
	if reads.Load() < 10 {
		t.Errorf("only %d reads ran during the rebuild", reads.Load())
	}
	for _, p := range everyProjector(api.app.search.projector) {
		if !strings.Contains(stdout.String(), p.Name()+" rebuilt up to position") {
			t.Errorf("no rebuild of %s reported:\n%s", p.Name(), stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "listenstats: copy position") || !strings.Contains(stderr.String(), "/s), ETA") {
		t.Errorf("no progress with rate and ETA on stderr:\n%s", stderr.String())
	}
	after := capture()
	for i := range gets {
		if after[i] != before[i] {
			t.Errorf("GET %s differs after the rebuild:\nbefore %.300s\nafter  %.300s", gets[i], before[i], after[i])
		}
	}
	// The service goes on writing into the swapped tables.
	api.expect(api.do("POST", "/v1/user/me/history/"+songs[1], lan.access, nil), 204)
	r := api.expect(api.do("GET", "/v1/user/me/history", lan.access, nil), 200)
	if !bytes.Contains(r.body, []byte(songs[1])) {
		t.Errorf("a listen after the rebuild is missing from the history: %s", r.body)
	}
}
