package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// listenScript is the pgbench baseline of one listen: the rows the service
// writes for it (an events row, the stream's revision), in one transaction,
// with the cluster's durability (synchronous_commit as configured: on).
const listenScript = `BEGIN;
INSERT INTO bench_events (position, stream_id, stream_revision, event_id, event_type, data, metadata, recorded_at) VALUES (nextval('bench_position'), 'listens-' || :client_id, nextval('bench_revision'), gen_random_uuid(), 'ListenRecorded', '{"user_id": "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b", "song_id": "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6c", "listened_at": "2026-11-28T10:00:00.123456Z"}'::jsonb, '{"occurred_at": "2026-11-28T10:00:00.123456Z", "actor_id": "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b", "request_id": "4b1f2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "schema_version": 1, "source": "api"}'::jsonb, clock_timestamp());
INSERT INTO bench_streams (stream_id, revision) VALUES ('listens-' || :client_id, currval('bench_revision')) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision;
END;
`

type historyAnswer struct {
	Data []struct {
		Songs struct {
			ID string `json:"id"`
		} `json:"songs"`
	} `json:"data"`
}

type statsAnswer struct {
	Data struct {
		Total int64 `json:"total"`
	} `json:"data"`
}

// listenFigures: POST /v1/user/me/history/:songid at Clients, each client
// with its own listeners and each listener playing a different song every
// time (no 30 s repeats), while a probe measures read-your-writes.
func (b *bench) listenFigures(ctx context.Context) error {
	a := newAPI(b.svc.base, b.cfg.Clients+4)
	perClient := len(b.listeners) / b.cfg.Clients
	counters := make([][]int, b.cfg.Clients)
	for c := range counters {
		counters[c] = make([]int, perClient)
	}
	var (
		probeMu                         sync.Mutex
		lags, pairs, writes             latencies
		probeErr                        error
		notVisibleOnFirstTry, probeRuns int
	)
	probe := func(ctx context.Context) {
		for k := 0; k < len(b.probeSongs) && ctx.Err() == nil; k++ {
			song := b.probeSongs[k]
			t0 := time.Now()
			if err := a.do(ctx, "POST", "/v1/user/me/history/"+song, b.probe.token, nil, 204, nil); err != nil {
				if ctx.Err() == nil {
					probeErr = err
				}
				return
			}
			answered := time.Now()
			first := true
			visible := func() (bool, error) {
				var h historyAnswer
				if err := a.do(ctx, "GET", "/v1/user/me/history?limit=1", b.probe.token, nil, 200, &h); err != nil {
					return false, err
				}
				if len(h.Data) == 0 || h.Data[0].Songs.ID != song {
					return false, nil
				}
				var s statsAnswer
				if err := a.do(ctx, "GET", "/v1/song/"+song+"/stats", "", nil, 200, &s); err != nil {
					return false, err
				}
				return s.Data.Total >= 1, nil
			}
			for {
				ok, err := visible()
				if err != nil {
					if ctx.Err() == nil {
						probeErr = err
					}
					return
				}
				if ok {
					break
				}
				first = false
			}
			seen := time.Now()
			// The same two reads once more, now surely visible: the floor
			// any visibility measurement through the API has.
			p0 := time.Now()
			if _, err := visible(); err != nil {
				return
			}
			pair := time.Since(p0)
			probeMu.Lock()
			writes = append(writes, answered.Sub(t0))
			lags = append(lags, seen.Sub(answered))
			pairs = append(pairs, pair)
			probeRuns++
			if !first {
				notVisibleOnFirstTry++
			}
			probeMu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(40 * time.Millisecond):
			}
		}
	}

	var res loadResult
	err := b.measureRSS("listen", func() error {
		b.logger.Info("listen ingestion", "clients", b.cfg.Clients, "window", b.cfg.Duration)
		var err error
		res, err = runLoad(ctx, loadSpec{
			name: "POST /v1/user/me/history/:songid", clients: b.cfg.Clients, warmup: b.cfg.Warmup, duration: b.cfg.Duration,
			do: func(ctx context.Context, c, i int) error {
				u := i % perClient
				listener := b.listeners[c*perClient+u]
				k := counters[c][u]
				counters[c][u]++
				// Every listener walks the songs from its own offset: never the
				// same song twice within the run.
				song := b.songs[((c*perClient+u)*31+k)%len(b.songs)]
				return a.do(ctx, "POST", "/v1/user/me/history/"+song, listener.token, nil, 204, nil)
			},
			during: func(ctx context.Context) {
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					probe(ctx)
				}()
				if f := b.profileDuring("listen", b.cfg.Duration); f != nil {
					f(ctx)
				}
				wg.Wait()
			},
		})
		return err
	})
	if err != nil {
		return err
	}
	if err := res.check("listen"); err != nil {
		return err
	}
	if err := b.saveMetrics(ctx, "listen"); err != nil {
		b.logger.Warn("metrics after the listen load", "error", err)
	}
	if probeErr != nil {
		return fmt.Errorf("read-your-writes probe: %w", probeErr)
	}
	if len(lags) == 0 {
		return fmt.Errorf("read-your-writes probe: no sample")
	}
	slices.Sort(lags)
	slices.Sort(pairs)
	slices.Sort(writes)

	if _, err := b.pool.Exec(ctx, `DROP TABLE IF EXISTS bench_events, bench_streams;
		DROP SEQUENCE IF EXISTS bench_position, bench_revision;
		CREATE TABLE bench_events (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
		CREATE TABLE bench_streams (LIKE streams INCLUDING ALL);
		CREATE SEQUENCE bench_position; CREATE SEQUENCE bench_revision;`); err != nil {
		return err
	}
	b.logger.Info("listen baseline: pgbench", "clients", b.cfg.Clients, "window", b.cfg.Duration)
	pg, err := runPgbench(ctx, b.pgBin, b.cfg.Work, "listen", b.dbURL, listenScript, b.cfg.Clients, b.cfg.Duration)
	if err != nil {
		return err
	}
	var syncCommit string
	if err := b.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&syncCommit); err != nil {
		return err
	}
	if _, err := b.pool.Exec(ctx, `DROP TABLE bench_events, bench_streams; DROP SEQUENCE bench_position, bench_revision`); err != nil {
		return err
	}
	what := fmt.Sprintf("pgbench -c %d: INSERT events row + UPSERT streams row per transaction, synchronous_commit=%s", b.cfg.Clients, syncCommit)
	b.add(newResult("listen_rps", res.rps(), "req/s", "higher", num(3000), num(pg.tps), what))
	b.add(newResult("listen_p50_ms", res.latencies.quantile(0.5), "ms", "lower", nil, num(pg.latencies.quantile(0.5)), what))
	b.add(newResult("listen_p99_ms", res.latencies.quantile(0.99), "ms", "lower", num(50), num(pg.latencies.quantile(0.99)), what))
	b.add(newResult("listen_vs_pgbench", res.rps()/pg.tps, "x", "higher", num(0.5), nil, "req/s over pgbench tps"))
	b.add(newResult("ryw_visible_p99_ms", lags.quantile(0.99), "ms", "lower", num(50), num(pairs.quantile(0.99)),
		fmt.Sprintf("the same two GETs (history, song stats) once visible; %d probes, %d needed a second look", probeRuns, notVisibleOnFirstTry)))
	b.add(newResult("ryw_write_p99_ms", writes.quantile(0.99), "ms", "lower", nil, nil, "the probe's POST, its wait for the read models included"))
	return nil
}

// saveMetrics keeps the service's projection batch and request duration
// counters (sums and counts) after a load, in profiles/name.metrics.txt:
// where a write's time went, per projector.
func (b *bench) saveMetrics(ctx context.Context, name string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", b.svc.base+"/metrics", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.Split(string(raw), "\n") {
		if (strings.HasPrefix(line, "hustmusik_projection_batch_") || strings.HasPrefix(line, "hustmusik_http_request_duration_seconds")) &&
			(strings.Contains(line, "_sum") || strings.Contains(line, "_count")) {
			keep = append(keep, line)
		}
	}
	return os.WriteFile(filepath.Join(b.cfg.Out, "profiles", name+".metrics.txt"), []byte(strings.Join(keep, "\n")+"\n"), 0o644)
}
