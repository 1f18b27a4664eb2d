package pgsearch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/pgtest"
	"github.com/hustmusik/backend/infra/search"
	"github.com/hustmusik/backend/infra/search/searchtest"
)

// BenchmarkSongsSearch searches 100,000 generated Vietnamese titles with the
// queries people type (folded, with diacritics, half-typed, with a typo) and
// reports p50 and p99 latency per search.
func BenchmarkSongsSearch(b *testing.B) {
	const catalog = 100_000
	ctx := context.Background()
	pool := pgtest.New(b)
	x, err := New(Config{Pool: pool}, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	changes := make([]search.Change, 0, 2000)
	for i := range catalog {
		changes = append(changes, search.UpsertSong(search.SongDoc{
			ID: searchtest.ID(fmt.Sprint("bench:", i)), Title: searchtest.GeneratedTitle(r), Views: r.Int64N(1_000_000),
		}, uint64(i+1)))
		if len(changes) == cap(changes) || i == catalog-1 {
			if err := x.Apply(ctx, changes); err != nil {
				b.Fatal(err)
			}
			changes = changes[:0]
		}
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE search_songs"); err != nil {
		b.Fatal(err)
	}
	terms := []string{"son tung", "anh", "em yeu", "yêu", "nguoi tinh", "chun", "lac troi", "bạc phận",
		"thuongg", "mua xuan", "noi nay co", "d", "hãy trao cho", "giac mo", "tinh yeu", "xa"}
	queries := make([]search.Query, len(terms))
	for i, t := range terms {
		if queries[i], err = search.ParseQuery(t); err != nil {
			b.Fatal(err)
		}
	}
	durations := make([]time.Duration, 0, b.N)
	worst := make([]time.Duration, len(queries))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := x.Songs(ctx, queries[i%len(queries)], 1, 20); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		durations = append(durations, d)
		worst[i%len(queries)] = max(worst[i%len(queries)], d)
	}
	b.StopTimer()
	var report strings.Builder
	for i, t := range terms {
		fmt.Fprintf(&report, " %q %v;", t, worst[i].Round(100*time.Microsecond))
	}
	b.Log("slowest per term:" + report.String())
	slices.Sort(durations)
	if len(durations) > 0 {
		b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds())/1000, "p99-ms")
	}
}
