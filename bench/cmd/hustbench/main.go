// Command hustbench is the performance harness behind `make bench`: it builds
// the real binary, runs it on the embedded default (its own private
// PostgreSQL cluster under a fresh data dir), drives it with a load generator
// in the same process, measures each figure of issue 10 next to a baseline
// taken in the same run (pgbench on the same cluster, COPY, the search index
// called in-process, a cold start of the cluster alone), and writes
// results.json, results.txt and chart.png.
//
// Run it from the repository root: go run ./bench/cmd/hustbench -out bench
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Config says how big and how long each phase is.
type Config struct {
	Out         string        // where results.json, results.txt, chart.png and profiles/ go
	Work        string        // scratch dir (binary, data dir); default a fresh temp dir
	Keep        bool          // keep Work afterwards
	Clients     int           // concurrency of the listen and catalog loads (32)
	SearchConc  int           // concurrency of the search load (8)
	Warmup      time.Duration // before each measured window (3s)
	Duration    time.Duration // listen load window (20s)
	ReadWindow  time.Duration // catalog and search windows (10s)
	Listeners   int           // signed-up users driving the listen load (128)
	Songs       int           // songs listened to (2000)
	ProbeSongs  int           // songs only the read-your-writes probe plays (300)
	Collections int           // public playlists read by id (50)
	SearchSongs int           // search documents (100,000)
	Events      int           // ListenRecorded events of the catch-up (1,000,000)
	Profile     bool          // take CPU profiles of the service under load
	PgBin       string        // PostgreSQL binaries (pgbench); default: found like the embedded cluster's
	Only        string        // comma-separated loads to run (reads, search, uncached, listen, catchup); empty: all
}

// runs tells whether the load named is part of this run.
func (c Config) runs(load string) bool {
	if c.Only == "" {
		return true
	}
	for _, l := range strings.Split(c.Only, ",") {
		if strings.TrimSpace(l) == load {
			return true
		}
	}
	return false
}

func (c *Config) setDefaults() {
	if c.Out == "" {
		c.Out = "bench"
	}
	if c.Clients == 0 {
		c.Clients = 32
	}
	if c.SearchConc == 0 {
		c.SearchConc = 8
	}
	if c.Warmup == 0 {
		c.Warmup = 3 * time.Second
	}
	if c.Duration == 0 {
		c.Duration = 20 * time.Second
	}
	if c.ReadWindow == 0 {
		c.ReadWindow = 10 * time.Second
	}
	if c.Listeners == 0 {
		c.Listeners = 128
	}
	if c.Songs == 0 {
		c.Songs = 2000
	}
	if c.ProbeSongs == 0 {
		c.ProbeSongs = 300
	}
	if c.Collections == 0 {
		c.Collections = 50
	}
	if c.SearchSongs == 0 {
		c.SearchSongs = 100_000
	}
	if c.Events == 0 {
		c.Events = 1_000_000
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Clients < 1 || c.SearchConc < 1 {
		errs = append(errs, errors.New("hustbench: concurrency must be at least 1"))
	}
	if c.Listeners < c.Clients {
		errs = append(errs, fmt.Errorf("hustbench: %d listeners for %d clients: each client needs its own", c.Listeners, c.Clients))
	}
	if c.Duration <= 0 || c.ReadWindow <= 0 || c.Warmup < 0 {
		errs = append(errs, errors.New("hustbench: durations must be positive"))
	}
	if c.Songs < 10 || c.ProbeSongs < 10 || c.Collections < 1 || c.SearchSongs < 100 || c.Events < 1000 {
		errs = append(errs, errors.New("hustbench: data sizes too small to measure anything"))
	}
	// A listener must not play a song twice within the repeat window, or
	// the domain records nothing and the run measures dedup instead.
	// At up to 4,000 listens a second, each listener plays this many songs.
	perListener := 4000 * (c.Duration + c.Warmup).Seconds() / float64(c.Listeners)
	if float64(c.Songs) < perListener {
		errs = append(errs, fmt.Errorf("hustbench: %d songs are too few for %d listeners over %s", c.Songs, c.Listeners, c.Duration))
	}
	return errors.Join(errs...)
}

func main() {
	var cfg Config
	quick := flag.Bool("quick", false, "small sizes and short windows: a smoke test of the harness, not a measurement")
	flag.StringVar(&cfg.Out, "out", "bench", "directory for results.json, results.txt, chart.png and profiles/")
	flag.StringVar(&cfg.Work, "work", "", "scratch directory (default: a fresh temporary directory)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the scratch directory")
	flag.IntVar(&cfg.Clients, "clients", 32, "concurrent clients of the listen and catalog loads")
	flag.DurationVar(&cfg.Duration, "duration", 20*time.Second, "measured window of the listen load")
	flag.IntVar(&cfg.Events, "events", 1_000_000, "ListenRecorded events of the catch-up figure")
	flag.IntVar(&cfg.SearchSongs, "search-songs", 100_000, "songs in the search index")
	flag.BoolVar(&cfg.Profile, "profile", true, "take CPU profiles of the service under load (HUSTMUSIK_PPROF_ADDR)")
	flag.StringVar(&cfg.PgBin, "pgbin", "", "directory of PostgreSQL's binaries (pgbench)")
	flag.StringVar(&cfg.Only, "only", "", "run only these loads, comma-separated: reads, search, uncached, listen, catchup (a partial run, for working on one figure)")
	flag.Parse()
	if *quick {
		cfg.Warmup, cfg.Duration, cfg.ReadWindow = time.Second, 4*time.Second, 3*time.Second
		cfg.Listeners, cfg.Songs, cfg.ProbeSongs, cfg.Collections = 32, 1000, 40, 5
		cfg.SearchSongs, cfg.Events = 5000, 20_000
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(ctx, cfg, logger, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hustbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	began := time.Now()
	if cfg.Work == "" {
		dir, err := os.MkdirTemp("", "hustbench-")
		if err != nil {
			return err
		}
		cfg.Work = dir
	}
	if !cfg.Keep {
		defer os.RemoveAll(cfg.Work)
	}
	// The cluster runs as the postgres user when we are root: it must be
	// able to reach its data dir.
	if err := os.MkdirAll(cfg.Work, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(cfg.Work, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Out, "profiles"), 0o755); err != nil {
		return err
	}
	b := &bench{cfg: cfg, logger: logger, machine: machineFacts()}
	defer b.close()
	if err := b.runAll(ctx); err != nil {
		return err
	}
	b.machine.LoadAfter = loadAverage()
	b.machine.Took = time.Since(began).Round(time.Second).String()
	table := renderTable(b.results, b.machine)
	fmt.Fprint(stdout, table)
	if err := writeResults(cfg.Out, b.results, b.machine, table); err != nil {
		return err
	}
	img := drawChart(b.results)
	if err := writePNG(filepath.Join(cfg.Out, "chart.png"), img); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s, %s and %s\n", filepath.Join(cfg.Out, "results.json"),
		filepath.Join(cfg.Out, "results.txt"), filepath.Join(cfg.Out, "chart.png"))
	return nil
}
