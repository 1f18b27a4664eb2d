// Command hustmusik is the Hust Musik backend: one binary that serves the /v1
// API and runs the projectors, plus the operator's commands.
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
	"syscall"

	"github.com/hustmusik/backend/infra/config"
)

const usage = `hustmusik: the Hust Musik backend.

Usage:
  hustmusik [serve]                               start the API and the projectors (default)
  hustmusik migrate                               apply the database migrations and exit
  hustmusik user set-role --email E --role R      R is User, Artist Manager, Admin or Auditor
  hustmusik projections status                    position, lag and parked events of each projector
  hustmusik projections rebuild NAME|all          rebuild read models from the log without downtime (blue/green)
  hustmusik projections parked                    list the events projectors set aside
  hustmusik projections retry NAME                apply a projector's parked events again
  hustmusik events export [--type T]... [--stream PREFIX] [--since RFC3339] [--until RFC3339]
                          [--from-position N] [--format ndjson|csv]
                                                  stream the event log to stdout (progress on stderr)
  hustmusik stats listens [--since DAY] [--top N] [--out listens.png]
                                                  top songs and a PNG chart of plays per day
  hustmusik config                                print the configuration (secrets masked)
  hustmusik seed                                  add a demo catalog (idempotent: a second run adds nothing)

Every command reads the same environment as serve (see docs/configuration.md).
Without DATABASE_URL it uses the private PostgreSQL cluster under HUSTMUSIK_DATA_DIR,
connecting to it while a serve runs, or starting and stopping it itself.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hustmusik:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.FromEnv(os.LookupEnv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := newLogger(stderr, cfg.LogLevel)
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger)
	case "migrate":
		e, err := openEnv(ctx, cfg, logger, false)
		if err != nil {
			return err
		}
		defer e.Close()
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "user":
		return userCmd(ctx, cfg, logger, args, stdout)
	case "projections":
		return projectionsCmd(ctx, cfg, logger, args, stdout, stderr)
	case "events":
		return eventsCmd(ctx, cfg, logger, args, stdout, stderr)
	case "stats":
		return statsCmd(ctx, cfg, logger, args, stdout, stderr)
	case "seed":
		return seedCmd(ctx, cfg, logger, stdout, stderr)
	case "config":
		fmt.Fprint(stdout, cfg.String())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
