package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/password"
	"github.com/hustmusik/backend/projections"
)

// userCmd: hustmusik user set-role --email E --role R. The role change is an
// event like any other: a running serve picks it up from the log.
func userCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "set-role" {
		return fmt.Errorf("usage: hustmusik user set-role --email E --role R")
	}
	fs := flag.NewFlagSet("user set-role", flag.ContinueOnError)
	email := fs.String("email", "", "the account's email")
	role := fs.String("role", "", "User, Artist Manager, Admin or Auditor")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *role == "" {
		return fmt.Errorf("usage: hustmusik user set-role --email E --role R")
	}
	r, err := domain.ParseRole(*role)
	if err != nil {
		return err
	}
	e, err := openEnv(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer e.Close()
	a, err := newApp(cfg, e, logger, password.Config{})
	if err != nil {
		return err
	}
	w, err := a.identity.SetRoleByEmail(ctx, *email, r)
	if err != nil {
		return err
	}
	if w.Position == 0 {
		fmt.Fprintf(stdout, "%s already has role %s\n", *email, r)
		return nil
	}
	fmt.Fprintf(stdout, "%s is now %s (event at position %d)\n", *email, r, w.Position)
	return nil
}

// projectionsCmd: status and rebuild.
func projectionsCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: hustmusik projections status | rebuild NAME|all")
	}
	e, err := openEnv(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer e.Close()
	searchIndex, err := newSearchBackend(cfg, e, logger, false)
	if err != nil {
		return err
	}
	switch args[0] {
	case "status":
		st, err := projections.ReadStatus(ctx, e.pool, e.store, everyProjector(searchIndex.projector))
		if err != nil {
			return err
		}
		head, err := e.store.Head(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "log head: %d\n", head)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROJECTOR\tPOSITION\tLAG EVENTS\tLAG SECONDS\tPARKED")
		for _, s := range st {
			lag := fmt.Sprint(s.LagEvents)
			if !s.LagExact {
				lag = "<=" + lag
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f\t%d\n", s.Name, s.Position, lag, s.LagSeconds, s.Parked)
		}
		return tw.Flush()
	case "rebuild":
		if len(args) != 2 {
			return fmt.Errorf("usage: hustmusik projections rebuild NAME|all")
		}
		var chosen []projections.Projector
		var names []string
		for _, p := range everyProjector(searchIndex.projector) {
			names = append(names, p.Name())
			if args[1] == "all" || args[1] == p.Name() {
				chosen = append(chosen, p)
			}
		}
		if len(chosen) == 0 {
			return fmt.Errorf("no projector %q (have: %s)", args[1], strings.Join(names, ", "))
		}
		for _, p := range chosen {
			if p == projections.Projector(searchIndex.projector) {
				// Elasticsearch's indexes must exist before the replay
				// resets and fills them.
				if err := searchIndex.prepare(ctx, cfg); err != nil {
					return err
				}
			}
			fmt.Fprintf(stderr, "rebuilding %s...\n", p.Name())
			pos, err := projections.Replay(ctx, e.pool, e.store, p, 1000)
			if err != nil {
				return fmt.Errorf("rebuild %s: %w", p.Name(), err)
			}
			fmt.Fprintf(stdout, "%s rebuilt up to position %d\n", p.Name(), pos)
		}
		return nil
	default:
		return fmt.Errorf("usage: hustmusik projections status | rebuild NAME|all")
	}
}
