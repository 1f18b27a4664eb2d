package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// loadBaseline is a baseline's throughput and p99, kept for a later figure.
type loadBaseline struct {
	rps, p99 float64
	what     string
}

// uncachedReads measures what an answer-cache miss costs: the service is
// restarted with HUSTMUSIK_ANSWER_CACHE=off and the catalog and search
// loads run again (shorter windows), every request now a query. Info
// figures, next to the baselines of the cached loads when they ran.
func (b *bench) uncachedReads(ctx context.Context) error {
	if err := b.restartService(ctx, "HUSTMUSIK_ANSWER_CACHE=off"); err != nil {
		return err
	}
	window := max(b.cfg.ReadWindow/2, time.Second)
	a := newAPI(b.svc.base, b.cfg.Clients)
	kinds := []struct {
		name, path string
		ids        []string
		clients    int
	}{
		{"song", "/v1/song/", b.songs, b.cfg.Clients},
		{"collection", "/v1/collection/", b.collections, b.cfg.Clients},
		{"search", "/v1/search/", searchTerms, b.cfg.SearchConc},
	}
	for _, k := range kinds {
		if k.name == "search" && !b.cfg.runs("search") {
			continue // no search index loaded
		}
		b.logger.Info("uncached reads", "kind", k.name, "clients", k.clients, "window", window)
		res, err := runLoad(ctx, loadSpec{
			name: "uncached " + k.name, clients: k.clients, warmup: b.cfg.Warmup, duration: window,
			do: func(ctx context.Context, c, i int) error {
				if k.name == "search" {
					t := searchTerms[(c+i*k.clients)%len(searchTerms)]
					return a.do(ctx, "GET", "/v1/search/"+pathEscape(t)+"/songs", "", nil, 200, nil)
				}
				return a.do(ctx, "GET", k.path+k.ids[rand.IntN(len(k.ids))], "", nil, 200, nil)
			},
		})
		if err != nil {
			return err
		}
		if err := res.check("uncached " + k.name); err != nil {
			return err
		}
		base, ok := b.readBaselines[k.name]
		var rpsBase, p99Base *float64
		what := "HUSTMUSIK_ANSWER_CACHE=off: every request queries; baseline as for the cached figure"
		if ok {
			rpsBase, p99Base = num(base.rps), num(base.p99)
			what = fmt.Sprintf("HUSTMUSIK_ANSWER_CACHE=off: every request queries; baseline: %s", base.what)
		}
		prefix := k.name + "_get_uncached"
		if k.name == "search" {
			prefix = "search_uncached"
		}
		b.add(newResult(prefix+"_rps", res.rps(), "req/s", "higher", nil, rpsBase, what))
		b.add(newResult(prefix+"_p99_ms", res.latencies.quantile(0.99), "ms", "lower", nil, p99Base, what))
	}
	// The loads after this one measure the service as it runs by default.
	return b.restartService(ctx)
}

func (b *bench) keepBaseline(name string, rps, p99 float64, what string) {
	if b.readBaselines == nil {
		b.readBaselines = map[string]loadBaseline{}
	}
	b.readBaselines[name] = loadBaseline{rps: rps, p99: p99, what: what}
}

// restartService stops the service and starts it again on the same data
// dir, with extraEnv added to its environment.
func (b *bench) restartService(ctx context.Context, extraEnv ...string) error {
	if err := b.svc.stop(); err != nil {
		return fmt.Errorf("stopping the service: %w", err)
	}
	b.svc = nil
	svc, _, err := startService(ctx, b.bin, b.dataDir, b.logPath, b.cfg.Profile, extraEnv...)
	if err != nil {
		return err
	}
	b.svc = svc
	return nil
}
