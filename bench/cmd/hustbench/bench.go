package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/pgcluster"
	"github.com/hustmusik/backend/infra/postgres"
	"github.com/hustmusik/backend/infra/search/searchtest"
)

const (
	adminEmail    = "bench-admin@bench.test"
	benchPassword = "bench-password-1"
)

// bench is one run: the service, a pool on its private cluster, the
// fixtures it made and the results so far.
type bench struct {
	cfg     Config
	logger  *slog.Logger
	machine machine
	results []Result

	bin, pgBin, dataDir, logPath string
	svc                          *service
	pool                         *pgxpool.Pool
	dbURL                        string

	// baselines of the read loads, kept for the uncached figures
	readBaselines map[string]loadBaseline

	admin       string // admin's access token
	listeners   []account
	probe       account
	songs       []string
	probeSongs  []string
	collections []string
}

type account struct{ id, token string }

func (b *bench) add(r Result) {
	b.results = append(b.results, r)
	b.logger.Info("figure", "name", r.Name, "value", r.Value, "unit", r.Unit, "baseline", deref(r.Baseline), "ratio", deref(r.Ratio))
}

func deref(v *float64) any {
	if v == nil {
		return "-"
	}
	return *v
}

func (b *bench) close() {
	if b.pool != nil {
		b.pool.Close()
	}
	if b.svc != nil {
		if err := b.svc.stop(); err != nil {
			b.logger.Warn("stopping the service", "error", err)
		}
	}
}

func (b *bench) runAll(ctx context.Context) error {
	var err error
	if b.pgBin, err = findPgBin(b.cfg.PgBin); err != nil {
		return err
	}
	b.logger.Info("building the service", "work", b.cfg.Work)
	if b.bin, err = buildBinary(ctx, b.cfg.Work); err != nil {
		return err
	}
	b.dataDir = filepath.Join(b.cfg.Work, "data")
	b.logPath = filepath.Join(b.cfg.Work, "service.log")

	b.logger.Info("starting the service on a fresh data dir (initdb)")
	if b.svc, _, err = startService(ctx, b.bin, b.dataDir, b.logPath, b.cfg.Profile); err != nil {
		return err
	}
	if err := b.connect(ctx); err != nil {
		return err
	}
	if err := b.fixtures(ctx); err != nil {
		return err
	}
	for _, load := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"reads", b.catalogReads},
		{"search", b.searchFigures},
		{"uncached", b.uncachedReads},
		{"listen", b.listenFigures},
		{"catchup", b.catchUpAndStartup},
	} {
		if !b.cfg.runs(load.name) {
			continue
		}
		if err := load.run(ctx); err != nil {
			return err
		}
	}
	return nil
}

// connect joins the service's private cluster (it keeps running it).
func (b *bench) connect(ctx context.Context) error {
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(b.dataDir, "pg")}, false)
	if err != nil {
		return err
	}
	b.dbURL = c.URL("hustmusik")
	b.pool, err = postgres.Connect(ctx, b.dbURL, 16)
	return err
}

// parallel runs f(0..n-1) on workers goroutines; the first error wins.
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

type session struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Session struct {
		AccessToken string `json:"access_token"`
	} `json:"session"`
}

type created struct {
	Data struct {
		ID string `json:"id"`
	} `json:"data"`
}

func (b *bench) signUp(ctx context.Context, a *api, email string) (account, error) {
	var s session
	if err := a.do(ctx, "POST", "/v1/auth/signup", "", map[string]string{
		"email": email, "password": benchPassword, "username": "Người nghe " + email[:8],
	}, 200, &s); err != nil {
		return account{}, err
	}
	return account{id: s.User.ID, token: s.Session.AccessToken}, nil
}

// fixtures makes, through the API, what the loads use: an admin, artists,
// songs, public playlists and the listeners.
func (b *bench) fixtures(ctx context.Context) error {
	began := time.Now()
	a := newAPI(b.svc.base, 16)
	if _, err := b.signUp(ctx, a, adminEmail); err != nil {
		return err
	}
	// Signed in again: the admin role is granted at sign-up, and a fresh
	// token carries it.
	var s session
	if err := a.do(ctx, "POST", "/v1/auth/signin", "", map[string]string{"email": adminEmail, "password": benchPassword}, 200, &s); err != nil {
		return err
	}
	b.admin = s.Session.AccessToken

	artists := make([]string, 20)
	if err := parallel(ctx, len(artists), 4, func(ctx context.Context, i int) error {
		var c created
		err := a.do(ctx, "POST", "/v1/artist", b.admin, map[string]string{"name": fmt.Sprintf("Nghệ sĩ %d", i), "country": "Việt Nam"}, 200, &c)
		artists[i] = c.Data.ID
		return err
	}); err != nil {
		return fmt.Errorf("artists: %w", err)
	}
	b.logger.Info("fixtures: songs", "songs", b.cfg.Songs+b.cfg.ProbeSongs)
	r := rand.New(rand.NewPCG(7, 7))
	titles := make([]string, b.cfg.Songs+b.cfg.ProbeSongs)
	for i := range titles {
		titles[i] = searchtest.GeneratedTitle(r)
	}
	all := make([]string, len(titles))
	if err := parallel(ctx, len(all), 8, func(ctx context.Context, i int) error {
		var c created
		err := a.do(ctx, "POST", "/v1/song", b.admin, map[string]any{
			"title": titles[i], "artists": artists[i%len(artists)], "duration": 180 + i%120, "genre": "V-Pop",
		}, 200, &c)
		all[i] = c.Data.ID
		return err
	}); err != nil {
		return fmt.Errorf("songs: %w", err)
	}
	b.songs, b.probeSongs = all[:b.cfg.Songs], all[b.cfg.Songs:]

	b.logger.Info("fixtures: playlists", "playlists", b.cfg.Collections)
	b.collections = make([]string, b.cfg.Collections)
	if err := parallel(ctx, len(b.collections), 4, func(ctx context.Context, i int) error {
		var c created
		if err := a.do(ctx, "POST", "/v1/collection", b.admin, map[string]string{
			"title": fmt.Sprintf("Nhạc chill %d", i), "description": "Tuyển tập", "type": "Playlist", "visibility": "Public",
		}, 200, &c); err != nil {
			return err
		}
		b.collections[i] = c.Data.ID
		for j := range 20 {
			song := b.songs[(i*20+j)%len(b.songs)]
			if err := a.do(ctx, "POST", "/v1/collection/"+c.Data.ID+"/songs/"+song, b.admin, nil, 204, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("playlists: %w", err)
	}

	// Password hashing (Argon2id) dominates sign-ups: two at a time, as
	// many as there are cores.
	b.logger.Info("fixtures: listeners", "listeners", b.cfg.Listeners+1)
	accounts := make([]account, b.cfg.Listeners+1)
	if err := parallel(ctx, len(accounts), 2, func(ctx context.Context, i int) error {
		acc, err := b.signUp(ctx, a, fmt.Sprintf("listener-%05d@bench.test", i))
		accounts[i] = acc
		return err
	}); err != nil {
		return fmt.Errorf("listeners: %w", err)
	}
	b.listeners, b.probe = accounts[:b.cfg.Listeners], accounts[b.cfg.Listeners]
	b.logger.Info("fixtures ready", "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// measureRSS runs a load phase between a reset of the service's peak RSS
// and a read of it.
func (b *bench) measureRSS(name string, phase func() error) error {
	pid := b.svc.pid()
	idle, err := currentRSS(pid)
	if err != nil {
		return err
	}
	if err := resetPeakRSS(pid); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	if err := phase(); err != nil {
		return err
	}
	peak, err := peakRSS(pid)
	if err != nil {
		return err
	}
	b.add(newResult("rss_peak_"+name, peak, "MB", "lower", num(300), num(idle), "RSS of the idle service before the load"))
	return nil
}

// profileDuring is a loadSpec.during that takes a CPU profile of the
// measured window (less a second, so it ends inside it).
func (b *bench) profileDuring(name string, window time.Duration) func(ctx context.Context) {
	if !b.cfg.Profile {
		return nil
	}
	return func(ctx context.Context) {
		secs := max(int(window.Seconds())-1, 1)
		if err := b.svc.cpuProfile(ctx, b.cfg.Out, name, secs); err != nil {
			b.logger.Warn("cpu profile", "name", name, "error", err)
		}
	}
}

func pathEscape(s string) string { return url.PathEscape(s) }
