package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The SELECTs readapi runs for GET /v1/song/:id and GET /v1/collection/:id
// (readapi/songs.go ByID, readapi/collections.go ByID), for pgbench. The id
// comes from a numbered list, the one lookup the service does not do.
const (
	songSQL = `SELECT s.id::text, s.title, s.thumbnailurl, s.duration, s.releasedate, s.genre, s.views,
	coalesce((SELECT json_agg(json_build_object('id', a.id::text, 'name', a.name, 'avatarurl', a.avatarurl) ORDER BY sa.ord)
		FROM song_artists sa JOIN artists a ON a.id = sa.artist_id WHERE sa.song_id = s.id), '[]'),
	coalesce((SELECT json_agg(json_build_object('album', json_build_object('id', c.id::text, 'title', c.title,
			'type', c.type, 'thumbnailurl', c.thumbnailurl)) ORDER BY c.created_at, c.id)
		FROM collections c WHERE c.visibility = 'Public' AND c.type IN ('Album', 'EP', 'Single') AND EXISTS (
			SELECT 1 FROM collection_songs cs WHERE cs.collection_id = c.id AND cs.song_id = s.id)), '[]')
FROM songs s WHERE s.id = (SELECT id FROM bench_song_ids WHERE n = :n);`
	collectionSQL = `SELECT c.id::text, c.title, c.description, c.type, c.thumbnailurl,
	c.owner_id::text, coalesce(u.username, ''), coalesce(u.avatarurl, '')
FROM collections c LEFT JOIN users u ON u.id = c.owner_id
WHERE c.id = (SELECT id FROM bench_collection_ids WHERE n = :n) AND (c.visibility = 'Public' OR c.owner_id = NULL::uuid OR false);
SELECT s.id::text, s.title, s.thumbnailurl, s.duration,
	coalesce((SELECT json_agg(json_build_object('id', a.id::text, 'name', a.name) ORDER BY sa.ord)
		FROM song_artists sa JOIN artists a ON a.id = sa.artist_id WHERE sa.song_id = s.id), '[]'::json)
FROM collection_songs cs JOIN songs s ON s.id = cs.song_id
WHERE cs.collection_id = (SELECT id FROM bench_collection_ids WHERE n = :n) ORDER BY cs.ord;`
)

// oneLine makes a multi-line SQL statement one pgbench command.
func oneLine(sql string) string {
	var out []string
	for _, stmt := range strings.Split(sql, ";") {
		if s := strings.Join(strings.Fields(stmt), " "); s != "" {
			out = append(out, s+";")
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func (b *bench) numberedIDs(ctx context.Context, table string, ids []string) error {
	if _, err := b.pool.Exec(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS %[1]s; CREATE TABLE %[1]s (n int PRIMARY KEY, id uuid NOT NULL)`, table)); err != nil {
		return err
	}
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{i + 1, id}
	}
	if _, err := b.pool.CopyFrom(ctx, pgx.Identifier{table}, []string{"n", "id"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	_, err := b.pool.Exec(ctx, "ANALYZE "+table)
	return err
}

// catalogReads: GET /v1/song/:id and GET /v1/collection/:id at Clients,
// each next to pgbench running the same SELECTs.
func (b *bench) catalogReads(ctx context.Context) error {
	if err := b.numberedIDs(ctx, "bench_song_ids", b.songs); err != nil {
		return err
	}
	if err := b.numberedIDs(ctx, "bench_collection_ids", b.collections); err != nil {
		return err
	}
	if _, err := b.pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	a := newAPI(b.svc.base, b.cfg.Clients)
	kinds := []struct {
		name, path, table, sql string
		ids                    []string
	}{
		{"song", "/v1/song/", "bench_song_ids", songSQL, b.songs},
		{"collection", "/v1/collection/", "bench_collection_ids", collectionSQL, b.collections},
	}
	return b.measureRSS("reads", func() error {
		for _, k := range kinds {
			b.logger.Info("catalog reads", "kind", k.name, "clients", b.cfg.Clients, "window", b.cfg.ReadWindow)
			res, err := runLoad(ctx, loadSpec{
				name: "GET " + k.path + ":id", clients: b.cfg.Clients, warmup: b.cfg.Warmup, duration: b.cfg.ReadWindow,
				do: func(ctx context.Context, c, i int) error {
					id := k.ids[rand.IntN(len(k.ids))]
					return a.do(ctx, "GET", k.path+id, "", nil, 200, nil)
				},
				during: b.profileDuring("get_"+k.name, b.cfg.ReadWindow),
			})
			if err != nil {
				return err
			}
			if err := res.check(k.name); err != nil {
				return err
			}
			script := fmt.Sprintf("\\set n random(1, %d)\n", len(k.ids)) + oneLine(k.sql)
			pg, err := runPgbench(ctx, b.pgBin, b.cfg.Work, k.name, b.dbURL, script, b.cfg.Clients, b.cfg.ReadWindow)
			if err != nil {
				return err
			}
			what := fmt.Sprintf("pgbench -M prepared -c %d: the same SELECT(s)", b.cfg.Clients)
			b.add(newResult(k.name+"_get_rps", res.rps(), "req/s", "higher", nil, num(pg.tps), what))
			b.add(newResult(k.name+"_get_p50_ms", res.latencies.quantile(0.5), "ms", "lower", nil, num(pg.latencies.quantile(0.5)), what))
			b.add(newResult(k.name+"_get_p99_ms", res.latencies.quantile(0.99), "ms", "lower", num(10), num(pg.latencies.quantile(0.99)), what))
			b.keepBaseline(k.name, pg.tps, pg.latencies.quantile(0.99), what)
			b.add(newResult(k.name+"_get_vs_pgbench", res.rps()/pg.tps, "x", "higher", num(0.5), nil, "req/s over pgbench tps"))
		}
		return nil
	})
}
