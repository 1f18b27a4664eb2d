package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/pgcluster"
	"github.com/hustmusik/backend/infra/postgres"
)

// listenProjectors are the projectors that read ListenRecorded (their
// names are their checkpoint keys).
var listenProjectors = []string{"history", "listenstats"}

// listenTables are their read models.
var listenTables = []string{"listen_history", "song_plays_daily", "user_plays_daily"}

// catchUpAndStartup stops the service, appends Events ListenRecorded events
// to the log with COPY (the cluster started by the harness alone: its
// start is the start-up baseline), empties the listen read models, then
// starts the service cold (the start-up figure) and times its projectors
// until they caught up; the baseline is COPY of the rows they produced.
func (b *bench) catchUpAndStartup(ctx context.Context) error {
	b.pool.Close()
	b.pool = nil
	if err := b.svc.stop(); err != nil {
		return err
	}
	b.svc = nil

	t0 := time.Now()
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(b.dataDir, "pg")}, false)
	if err != nil {
		return err
	}
	if err := cluster.WaitReady(ctx); err != nil {
		return err
	}
	clusterStart := time.Since(t0)
	pool, err := postgres.Connect(ctx, cluster.URL("hustmusik"), 4)
	if err != nil {
		cluster.Stop(ctx)
		return err
	}
	err = b.appendListens(ctx, pool)
	pool.Close()
	if stopErr := cluster.Stop(ctx); err == nil {
		err = stopErr
	}
	if err != nil {
		return err
	}

	b.logger.Info("starting the service cold on the existing data dir", "pending_events", b.cfg.Events)
	svc, startup, err := startService(ctx, b.bin, b.dataDir, b.logPath, b.cfg.Profile)
	if err != nil {
		return err
	}
	began := time.Now().Add(-startup) // the process start
	b.svc = svc
	b.add(newResult("startup_ms", float64(startup.Milliseconds()), "ms", "lower", nil, num(float64(clusterStart.Milliseconds())),
		"the embedded cluster's start alone (pg_ctl start, ready)"))
	if err := b.connect(ctx); err != nil {
		return err
	}
	var events, lastListen int64
	if err := b.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(position), 0) FROM events WHERE event_type = 'ListenRecorded'`).
		Scan(&events, &lastListen); err != nil {
		return err
	}
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		if f := b.profileDuring("catchup", 11*time.Second); f != nil {
			f(ctx)
		}
	}()
	var took time.Duration
	err = b.measureCatchUpRSS(func() error {
		for {
			var behind int
			if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::text[]) AS p(name)
				LEFT JOIN projection_checkpoints c ON c.name = p.name WHERE coalesce(c.position, 0) < $2`,
				listenProjectors, lastListen).Scan(&behind); err != nil {
				return err
			}
			if behind == 0 {
				took = time.Since(began)
				return nil
			}
			if time.Since(began) > 10*time.Minute {
				return fmt.Errorf("catch-up: the projectors did not reach position %d in 10 minutes", lastListen)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	<-profiled
	if err != nil {
		return err
	}
	// The read models must count every listen once: a fast wrong answer
	// is no answer.
	var plays, songPlays int64
	if err := b.pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(plays), 0) FROM listen_history),
		(SELECT coalesce(sum(plays), 0) FROM song_plays_daily)`).Scan(&plays, &songPlays); err != nil {
		return err
	}
	if plays != events || songPlays != events {
		return fmt.Errorf("catch-up: the read models count %d and %d plays for %d ListenRecorded events", plays, songPlays, events)
	}
	copyTook, rows, err := b.copyBaseline(ctx)
	if err != nil {
		return err
	}
	rate := float64(events) / took.Seconds()
	b.add(newResult("catchup_events_per_s", rate, "events/s", "higher", num(20000), num(float64(events)/copyTook.Seconds()),
		fmt.Sprintf("COPY of the %d resulting rows into empty copies of the 3 tables, as events/s", rows)))
	b.add(newResult("catchup_seconds", took.Seconds(), "s", "lower", nil, num(copyTook.Seconds()),
		fmt.Sprintf("%d ListenRecorded events, from the process start; baseline: the COPY", events)))
	return nil
}

func (b *bench) measureCatchUpRSS(phase func() error) error {
	if err := phase(); err != nil {
		return err
	}
	// The peak since the process start: start-up and catch-up together.
	peak, err := peakRSS(b.svc.pid())
	if err != nil {
		return err
	}
	idle, err := currentRSS(b.svc.pid())
	if err != nil {
		return err
	}
	b.add(newResult("rss_peak_catchup", peak, "MB", "lower", num(300), num(idle), "RSS once caught up"))
	return nil
}

// appendListens COPYs Events ListenRecorded events into the log, as the
// store would have appended them: positions after the head without gaps,
// 1,000 events per listener stream from revision 0, the streams' revisions,
// listened_at strictly increasing per listener. Songs are picked with a Zipf
// law over the catalog, as plays are.
func (b *bench) appendListens(ctx context.Context, pool *pgxpool.Pool) error {
	began := time.Now()
	var head int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head); err != nil {
		return err
	}
	const perListener = 1000
	listeners := make([]string, (b.cfg.Events+perListener-1)/perListener)
	for i := range listeners {
		listeners[i] = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "hustbench-listener-%d", i)).String()
	}
	r := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(r, 1.1, 1, uint64(len(b.songs)-1))
	start := time.Now().UTC().Add(-time.Duration(perListener+10) * 90 * time.Second).Truncate(time.Microsecond)
	requestID := uuid.NewString()
	counts := make([]int64, len(listeners))
	src := &generatedRows{n: b.cfg.Events, row: func(n int) []any {
		k, u := n/len(listeners), n%len(listeners)
		counts[u]++
		at := start.Add(time.Duration(k)*90*time.Second + time.Duration(u)*time.Millisecond)
		data, _ := json.Marshal(map[string]any{"user_id": listeners[u], "song_id": b.songs[zipf.Uint64()], "listened_at": at})
		md, _ := json.Marshal(map[string]any{"occurred_at": at, "actor_id": listeners[u], "request_id": requestID, "schema_version": 1, "source": "api"})
		return []any{head + int64(n) + 1, "listens-" + listeners[u], int64(k),
			pgtype.UUID{Bytes: uuid.New(), Valid: true}, "ListenRecorded", data, md, at}
	}}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"},
		[]string{"position", "stream_id", "stream_revision", "event_id", "event_type", "data", "metadata", "recorded_at"}, src); err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	streams := make([][]any, 0, len(listeners))
	for u, l := range listeners {
		if counts[u] > 0 {
			streams = append(streams, []any{"listens-" + l, counts[u] - 1})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"streams"}, []string{"stream_id", "revision"}, pgx.CopyFromRows(streams)); err != nil {
		return fmt.Errorf("copy streams: %w", err)
	}
	// Read models empty, checkpoints at the start of the log: the
	// projectors replay every listen.
	if _, err := tx.Exec(ctx, `TRUNCATE listen_history, song_plays_daily, user_plays_daily`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET position = 0 WHERE name = ANY($1)`, listenProjectors); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE events`); err != nil {
		return err
	}
	b.logger.Info("appended listens by COPY", "events", b.cfg.Events, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// generatedRows is a pgx.CopyFromSource making row i on demand, so a
// million events never sit in memory at once.
type generatedRows struct {
	n, i int
	row  func(i int) []any
	cur  []any
}

func (g *generatedRows) Next() bool {
	if g.i >= g.n {
		return false
	}
	g.cur = g.row(g.i)
	g.i++
	return true
}
func (g *generatedRows) Values() ([]any, error) { return g.cur, nil }
func (g *generatedRows) Err() error             { return nil }

// copyBaseline times COPY FROM of the listen read models' rows into empty
// copies of their tables (same columns, keys and indexes).
func (b *bench) copyBaseline(ctx context.Context) (time.Duration, int64, error) {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	pg := conn.Conn().PgConn()
	var took time.Duration
	var rows int64
	for _, t := range listenTables {
		copyT := "bench_copy_" + t
		if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS %[1]s; CREATE TABLE %[1]s (LIKE %[2]s INCLUDING ALL)`, copyT, t)); err != nil {
			return 0, 0, err
		}
		var buf bytes.Buffer
		if _, err := pg.CopyTo(ctx, &buf, fmt.Sprintf(`COPY %s TO STDOUT (FORMAT binary)`, t)); err != nil {
			return 0, 0, err
		}
		t0 := time.Now()
		tag, err := pg.CopyFrom(ctx, &buf, fmt.Sprintf(`COPY %s FROM STDIN (FORMAT binary)`, copyT))
		if err != nil {
			return 0, 0, err
		}
		took += time.Since(t0)
		rows += tag.RowsAffected()
		if _, err := conn.Exec(ctx, `DROP TABLE `+copyT); err != nil {
			return 0, 0, err
		}
	}
	return took, rows, nil
}
