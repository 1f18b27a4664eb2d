package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

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

const projectionsUsage = "usage: hustmusik projections status | rebuild NAME|all | parked | retry NAME"

// projectionsCmd: status, rebuild, parked and retry.
func projectionsCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(projectionsUsage)
	}
	e, err := openEnv(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer e.Close()
	// The search projector's index depends on the configuration.
	searchIndex, err := newSearchBackend(cfg, e, logger, false)
	if err != nil {
		return err
	}
	every := everyProjector(searchIndex.projector)
	switch args[0] {
	case "status":
		st, err := projections.ReadStatus(ctx, e.pool, e.store, every)
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
			return errors.New("usage: hustmusik projections rebuild NAME|all")
		}
		chosen, err := chooseProjectors(every, args[1], true)
		if err != nil {
			return err
		}
		for _, p := range chosen {
			if p == projections.Projector(searchIndex.projector) {
				// Elasticsearch's indexes must exist before the replay
				// resets and fills them.
				if err := searchIndex.prepare(ctx, cfg); err != nil {
					return err
				}
			}
			if err := rebuildOne(ctx, e, p, stdout, stderr); err != nil {
				return err
			}
		}
		return nil
	case "parked":
		parked, err := projections.ListParked(ctx, e.pool, "")
		if err != nil {
			return err
		}
		if len(parked) == 0 {
			fmt.Fprintln(stdout, "no parked events")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROJECTOR\tPOSITION\tTYPE\tSTREAM\tATTEMPTS\tPARKED AT\tERROR")
		for _, pe := range parked {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\n", pe.Projector, pe.Position, pe.Type, pe.Stream,
				pe.Attempts, pe.ParkedAt.UTC().Format(time.RFC3339), oneLine(pe.Error))
		}
		return tw.Flush()
	case "retry":
		if len(args) != 2 {
			return errors.New("usage: hustmusik projections retry NAME")
		}
		chosen, err := chooseProjectors(every, args[1], false)
		if err != nil {
			return err
		}
		p := chosen[0]
		res, err := projections.RetryParked(ctx, e.pool, e.store, p)
		for _, pos := range res.Applied {
			fmt.Fprintf(stdout, "%s: event %d applied and unparked\n", p.Name(), pos)
		}
		for _, f := range res.Failed {
			fmt.Fprintf(stdout, "%s: event %d failed again (attempt %d): %s\n", p.Name(), f.Position, f.Attempts, oneLine(f.Error))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d applied, %d still parked\n", p.Name(), len(res.Applied), len(res.Failed))
		if len(res.Failed) > 0 {
			return fmt.Errorf("%d parked events of %s failed again", len(res.Failed), p.Name())
		}
		return nil
	default:
		return errors.New(projectionsUsage)
	}
}

// chooseProjectors finds a projector by name, or every one for "all".
func chooseProjectors(every []projections.Projector, name string, allowAll bool) ([]projections.Projector, error) {
	var chosen []projections.Projector
	var names []string
	for _, p := range every {
		names = append(names, p.Name())
		if (allowAll && name == "all") || name == p.Name() {
			chosen = append(chosen, p)
		}
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("no projector %q (have: %s)", name, strings.Join(names, ", "))
	}
	return chosen, nil
}

// rebuildOne rebuilds a read model blue/green when it declares its tables
// (the old tables serve until the new ones are swapped in), else replays it
// in place, which only works while no serve runs it.
func rebuildOne(ctx context.Context, e *env, p projections.Projector, stdout, stderr io.Writer) error {
	if owner, ok := p.(projections.TableOwner); !ok || len(owner.Tables()) == 0 {
		fmt.Fprintf(stderr, "rebuilding %s in place (it declares no tables to swap; stop serve first)...\n", p.Name())
		pos, err := projections.Replay(ctx, e.pool, e.store, p, 1000)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", p.Name(), err)
		}
		fmt.Fprintf(stdout, "%s rebuilt up to position %d\n", p.Name(), pos)
		return nil
	}
	fmt.Fprintf(stderr, "rebuilding %s into %s while the current tables keep serving...\n", p.Name(), projections.ShadowSchema(p.Name()))
	started := time.Now()
	pos, err := projections.RebuildBlueGreen(ctx, e.pool, e.store, p, projections.RebuildConfig{
		Progress: func(pr projections.RebuildProgress) {
			eta := "-"
			if pr.ETA > 0 {
				eta = pr.ETA.Round(time.Second).String()
			}
			fmt.Fprintf(stderr, "%s: %s position %d of %d, %s events (%s/s), ETA %s\n", pr.Projector, pr.Phase,
				pr.Position, pr.Head, thousands(pr.Events), thousands(uint64(pr.Rate)), eta)
		},
	})
	if err != nil {
		return fmt.Errorf("rebuild %s (the serving tables are untouched): %w", p.Name(), err)
	}
	fmt.Fprintf(stdout, "%s rebuilt up to position %d and swapped in (%s)\n", p.Name(), pos, time.Since(started).Round(time.Millisecond))
	return nil
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
