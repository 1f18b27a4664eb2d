//go:build soak

package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/pgtest"
)

// soakSample is one reading of the serving process.
type soakSample struct {
	at         time.Duration
	rssKB      int64
	goroutines int64
	requests   int64
}

// rssKB reads VmRSS of a process from /proc.
func rssKB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// goroutines reads go_goroutines from the service's /metrics.
func goroutines(base string) (int64, error) {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("no go_goroutines in /metrics (status %d)", res.StatusCode)
}

func mean(xs []int64) float64 {
	var s float64
	for _, x := range xs {
		s += float64(x)
	}
	return s / float64(max(len(xs), 1))
}

// TestSoak drives the real binary with mixed traffic at a steady rate for
// SOAK_DURATION (default 10m), sampling its RSS and goroutine count every
// 10 s. It fails on any error answer and on growth: after a warm-up, the
// last third of the samples must not sit clearly above the first third.
// Run it with `make soak`.
func TestSoak(t *testing.T) {
	duration := 10 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_DURATION: %v", err)
		}
		duration = d
	}
	const perSecond, workers = 40, 8
	bin := buildBinary(t)
	env, base := serviceEnv(t, pgtest.URL(t))
	svc := startService(t, bin, env, base)
	l := seedLedger(t, base)
	for i := range 20 {
		r := call(base, "POST", "/v1/song", l.admin.access, map[string]any{"title": fmt.Sprintf("Bài %d", i), "artists": l.artist, "duration": 180})
		if r.position() == 0 {
			t.Fatalf("seed song: %d %v", r.status, r.body)
		}
		l.songs = append(l.songs, fmt.Sprint(r.body["data"].(map[string]any)["id"]))
	}

	var requests, failures atomic.Int64
	var failMu sync.Mutex
	var firstFailures []string
	fail := func(what string, r reply) {
		failures.Add(1)
		failMu.Lock()
		defer failMu.Unlock()
		if len(firstFailures) < 10 {
			firstFailures = append(firstFailures, fmt.Sprintf("%s: %d %v %v", what, r.status, r.body, r.err))
		}
	}
	expect := func(what string, r reply, statuses ...int) reply {
		requests.Add(1)
		for _, s := range statuses {
			if r.err == nil && r.status == s {
				return r
			}
		}
		fail(what, r)
		return r
	}
	// op is one request of the mix, chosen by weight.
	op := func(rng *rand.Rand, seq int) {
		switch n := rng.IntN(100); {
		case n < 5:
			r := expect("sign-up", call(base, "POST", "/v1/auth/signup", "", map[string]string{"email": fmt.Sprintf("soak%d@soak.vn", seq), "password": "mat-khau-1"}), 200)
			if r.status == 200 {
				user, _ := r.body["user"].(map[string]any)
				session, _ := r.body["session"].(map[string]any)
				l.mu.Lock()
				l.users = append(l.users, account{id: fmt.Sprint(user["id"]), access: fmt.Sprint(session["access_token"])})
				l.mu.Unlock()
			}
		case n < 10:
			expect("sign-in", call(base, "POST", "/v1/auth/signin", "", map[string]string{"email": "admin@crash.vn", "password": "mat-khau-1"}), 200)
		case n < 30:
			if u, song, ok := l.pick(rng); ok {
				expect("listen", call(base, "POST", "/v1/user/me/history/"+song, u.access, nil), 204)
			}
		case n < 33:
			expect("add song", call(base, "POST", "/v1/song", l.admin.access, map[string]any{"title": fmt.Sprintf("Soak %d", seq), "artists": l.artist}), 200)
		case n < 38:
			if u, song, ok := l.pick(rng); ok {
				r := expect("playlist", call(base, "POST", "/v1/collection", u.access, map[string]string{"title": "Soak", "type": "Playlist"}), 200)
				if r.status == 200 {
					id := fmt.Sprint(r.body["data"].(map[string]any)["id"])
					expect("playlist song", call(base, "POST", "/v1/collection/"+id+"/songs/"+song, u.access, nil), 204)
				}
			}
		case n < 45:
			if u, _, ok := l.pick(rng); ok {
				expect("history", call(base, "GET", "/v1/user/me/history", u.access, nil), 200)
			}
		case n < 55:
			expect("search", call(base, "GET", "/v1/search/bai", "", nil), 200)
		case n < 65:
			_, song, ok := l.pick(rng)
			if ok {
				expect("stream grant", call(base, "GET", "/v1/song/"+song+"/presigned/stream", "", nil), 200)
			}
		case n < 80:
			expect("songs", call(base, "GET", fmt.Sprintf("/v1/song?page=%d", 1+rng.IntN(5)), "", nil), 200)
		default:
			_, song, ok := l.pick(rng)
			if ok {
				expect("song", call(base, "GET", "/v1/song/"+song, "", nil), 200)
			}
		}
	}
	// A listener exists before the mix starts.
	r := call(base, "POST", "/v1/auth/signup", "", map[string]string{"email": "first@soak.vn", "password": "mat-khau-1"})
	if r.status != 200 {
		t.Fatalf("sign-up: %d %v", r.status, r.body)
	}
	l.users = append(l.users, account{id: fmt.Sprint(r.body["user"].(map[string]any)["id"]), access: fmt.Sprint(r.body["session"].(map[string]any)["access_token"])})

	jobs := make(chan int, perSecond)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w+1), 42))
			for seq := range jobs {
				op(rng, seq)
			}
		}()
	}
	start := time.Now()
	var samples []soakSample
	sample := func() {
		rss, err := rssKB(svc.cmd.Process.Pid)
		if err != nil {
			t.Fatalf("RSS: %v", err)
		}
		g, err := goroutines(base)
		if err != nil {
			t.Fatalf("goroutines: %v", err)
		}
		s := soakSample{at: time.Since(start).Round(time.Second), rssKB: rss, goroutines: g, requests: requests.Load()}
		samples = append(samples, s)
		t.Logf("%6s  rss %7d kB  goroutines %4d  requests %7d  failures %d", s.at, s.rssKB, s.goroutines, s.requests, failures.Load())
	}
	sample()
	tick := time.NewTicker(time.Second / perSecond)
	every := time.NewTicker(10 * time.Second)
	seq := 0
	// Requests go out at a steady rate; when the workers fall behind, the
	// tick is dropped (and counted) rather than queued without bound.
	var dropped int
loop:
	for {
		select {
		case <-tick.C:
			if time.Since(start) >= duration {
				break loop
			}
			seq++
			select {
			case jobs <- seq:
			default:
				dropped++
			}
		case <-every.C:
			sample()
		}
	}
	tick.Stop()
	every.Stop()
	close(jobs)
	wg.Wait()
	sample()
	svc.stop()

	total := requests.Load()
	t.Logf("soak: %s, %d requests (%.1f/s), %d failures, %d ticks dropped (workers busy)", duration, total,
		float64(total)/duration.Seconds(), failures.Load(), dropped)
	if failures.Load() > 0 {
		t.Errorf("%d failed requests, first: %q", failures.Load(), firstFailures)
	}
	// Growth: skip the first minute (caches, pools and the runtime warm
	// up), then compare the last third with the first third.
	var rss, gr []int64
	for _, s := range samples {
		if s.at >= time.Minute || duration < 3*time.Minute {
			rss, gr = append(rss, s.rssKB), append(gr, s.goroutines)
		}
	}
	if len(rss) < 6 {
		t.Fatalf("only %d samples after the warm-up: run longer", len(rss))
	}
	third := len(rss) / 3
	rssFirst, rssLast := mean(rss[:third]), mean(rss[len(rss)-third:])
	grFirst, grLast := mean(gr[:third]), mean(gr[len(gr)-third:])
	t.Logf("soak: RSS first third %.0f kB, last third %.0f kB (%+.1f%%); goroutines %.1f -> %.1f",
		rssFirst, rssLast, 100*(rssLast-rssFirst)/rssFirst, grFirst, grLast)
	if rssLast > rssFirst*1.25+16*1024 {
		t.Errorf("RSS grows: %.0f kB -> %.0f kB", rssFirst, rssLast)
	}
	if grLast > grFirst*1.2+10 {
		t.Errorf("goroutines grow: %.1f -> %.1f", grFirst, grLast)
	}
	if total < int64(duration.Seconds())*perSecond/2 {
		t.Errorf("only %d requests in %s: the rate was not kept", total, duration)
	}
}
