package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/infra/search"
	"github.com/hustmusik/backend/infra/search/pgsearch"
	"github.com/hustmusik/backend/infra/search/searchtest"
)

// searchTerms are what people type: folded, with diacritics, half-typed,
// with a typo.
var searchTerms = []string{"son tung", "anh", "em yeu", "yêu", "nguoi tinh", "chun", "lac troi", "bạc phận",
	"thuongg", "mua xuan", "noi nay co", "d", "hãy trao cho", "giac mo", "tinh yeu", "xa"}

// loadSearchIndex writes SearchSongs generated songs through the search
// index's own write path (pgsearch.Index.Apply, as the search projector
// does), in big batches.
func (b *bench) loadSearchIndex(ctx context.Context) (*pgsearch.Index, error) {
	x, err := pgsearch.New(pgsearch.Config{Pool: b.pool}, nil)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	r := rand.New(rand.NewPCG(1, 2))
	const batch = 2000
	changes := make([]search.Change, 0, batch)
	for i := range b.cfg.SearchSongs {
		id := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "hustbench-song-%d", i)).String()
		changes = append(changes, search.UpsertSong(search.SongDoc{
			ID: id, Title: searchtest.GeneratedTitle(r), Views: r.Int64N(1_000_000), Duration: 200, Genre: "V-Pop",
			Artists: []search.ArtistRef{},
		}, uint64(1<<40+i)))
		if len(changes) == batch || i == b.cfg.SearchSongs-1 {
			if err := x.Apply(ctx, changes); err != nil {
				return nil, fmt.Errorf("search index: %w", err)
			}
			changes = changes[:0]
		}
	}
	if _, err := b.pool.Exec(ctx, "VACUUM ANALYZE search_songs"); err != nil {
		return nil, err
	}
	b.logger.Info("search index loaded", "songs", b.cfg.SearchSongs, "took", time.Since(began).Round(time.Millisecond))
	return x, nil
}

// searchFigures: GET /v1/search/:term/songs at SearchConc clients, next to
// the same searches through pgsearch in this process (no HTTP, no JSON).
func (b *bench) searchFigures(ctx context.Context) error {
	x, err := b.loadSearchIndex(ctx)
	if err != nil {
		return err
	}
	queries := make([]search.Query, len(searchTerms))
	for i, t := range searchTerms {
		if queries[i], err = search.ParseQuery(t); err != nil {
			return err
		}
	}
	a := newAPI(b.svc.base, b.cfg.SearchConc)
	return b.measureRSS("search", func() error {
		b.logger.Info("search", "clients", b.cfg.SearchConc, "window", b.cfg.ReadWindow)
		res, err := runLoad(ctx, loadSpec{
			name: "GET /v1/search/:term/songs", clients: b.cfg.SearchConc, warmup: b.cfg.Warmup, duration: b.cfg.ReadWindow,
			do: func(ctx context.Context, c, i int) error {
				t := searchTerms[(c+i*b.cfg.SearchConc)%len(searchTerms)]
				return a.do(ctx, "GET", "/v1/search/"+pathEscape(t)+"/songs", "", nil, 200, nil)
			},
			during: b.profileDuring("search", b.cfg.ReadWindow),
		})
		if err != nil {
			return err
		}
		if err := res.check("search"); err != nil {
			return err
		}
		base, err := runLoad(ctx, loadSpec{
			name: "pgsearch.Songs in-process", clients: b.cfg.SearchConc, warmup: b.cfg.Warmup, duration: b.cfg.ReadWindow,
			do: func(ctx context.Context, c, i int) error {
				_, err := x.Songs(ctx, queries[(c+i*b.cfg.SearchConc)%len(queries)], 1, 20)
				return err
			},
		})
		if err != nil {
			return err
		}
		if err := base.check("search baseline"); err != nil {
			return err
		}
		what := fmt.Sprintf("pgsearch.Index.Songs called in-process, %d goroutines", b.cfg.SearchConc)
		b.add(newResult("search_rps", res.rps(), "req/s", "higher", nil, num(base.rps()), what))
		b.add(newResult("search_p50_ms", res.latencies.quantile(0.5), "ms", "lower", nil, num(base.latencies.quantile(0.5)), what))
		b.add(newResult("search_p99_ms", res.latencies.quantile(0.99), "ms", "lower", num(30), num(base.latencies.quantile(0.99)), what))
		b.keepBaseline("search", base.rps(), base.latencies.quantile(0.99), what)
		return nil
	})
}
