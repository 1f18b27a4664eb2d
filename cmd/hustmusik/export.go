package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/readapi"
)

const eventsUsage = "usage: hustmusik events export [--type T]... [--stream PREFIX] [--since RFC3339] [--until RFC3339] [--from-position N] [--format ndjson|csv]"

// eventsCmd: hustmusik events export.
func eventsCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New(eventsUsage)
	}
	opt, err := parseExportFlags(args[1:], stderr)
	if err != nil {
		return err
	}
	e, err := openEnv(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer e.Close()
	_, err = exportEvents(ctx, e.store, opt, stdout, stderr)
	return err
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

type exportOptions struct {
	types        []string
	streamPrefix string
	since, until time.Time // zero: unbounded
	from         uint64    // exclusive
	format       string    // "ndjson" or "csv"
	pageSize     int
	// progressEvery is how often progress goes to stderr (default 1s).
	progressEvery time.Duration
}

func parseExportFlags(args []string, stderr io.Writer) (exportOptions, error) {
	fs := flag.NewFlagSet("events export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var types listFlag
	fs.Var(&types, "type", "event type to export (repeatable, or comma-separated); default every type")
	stream := fs.String("stream", "", "export only streams whose id starts with this prefix (e.g. listens-)")
	since := fs.String("since", "", "only events recorded at or after this RFC 3339 time")
	until := fs.String("until", "", "only events recorded before this RFC 3339 time")
	from := fs.Uint64("from-position", 0, "start after this log position (exclusive): the position a previous export printed")
	format := fs.String("format", "ndjson", "ndjson or csv")
	page := fs.Int("page-size", 1000, "events read per query")
	if err := fs.Parse(args); err != nil {
		return exportOptions{}, err
	}
	if fs.NArg() > 0 {
		return exportOptions{}, fmt.Errorf("unexpected argument %q; %s", fs.Arg(0), eventsUsage)
	}
	opt := exportOptions{types: types, streamPrefix: *stream, from: *from, format: *format, pageSize: *page}
	var errs []error
	for _, t := range []struct {
		name, raw string
		into      *time.Time
	}{{"since", *since, &opt.since}, {"until", *until, &opt.until}} {
		if t.raw == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: not an RFC 3339 time (e.g. 2026-11-01T00:00:00Z)", t.name, t.raw))
		}
		*t.into = v
	}
	if opt.format != "ndjson" && opt.format != "csv" {
		errs = append(errs, fmt.Errorf("--format %q: ndjson or csv", opt.format))
	}
	if opt.pageSize < 1 || opt.pageSize > 100000 {
		errs = append(errs, fmt.Errorf("--page-size %d: between 1 and 100000", opt.pageSize))
	}
	if !opt.since.IsZero() && !opt.until.IsZero() && !opt.until.After(opt.since) {
		errs = append(errs, errors.New("--until must be after --since"))
	}
	return opt, errors.Join(errs...)
}

// exportResult is where an export stopped.
type exportResult struct {
	Exported uint64
	// Position is the log position up to which every matching event was
	// written: a later export with --from-position Position continues
	// exactly after it.
	Position    uint64
	Interrupted bool
}

// eventWriter writes events in one format.
type eventWriter interface {
	write(e eventstore.RecordedEvent) error
	flush() error
}

type ndjsonWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (n *ndjsonWriter) write(e eventstore.RecordedEvent) error {
	return n.enc.Encode(readapi.NewEventLine(e))
}
func (n *ndjsonWriter) flush() error { return n.w.Flush() }

// csvHeader: data is the event's JSON text in one field.
var csvHeader = []string{"position", "stream", "revision", "event_id", "type", "recorded_at", "actor_id", "data"}

type csvWriter struct {
	w *bufio.Writer
	c *csv.Writer
}

func (c *csvWriter) write(e eventstore.RecordedEvent) error {
	l := readapi.NewEventLine(e)
	return c.c.Write([]string{strconv.FormatUint(l.Position, 10), l.Stream, strconv.FormatUint(l.Revision, 10),
		l.EventID, l.Type, l.RecordedAt.Format(time.RFC3339Nano), l.Metadata.ActorID, string(l.Data)})
}

func (c *csvWriter) flush() error {
	c.c.Flush()
	if err := c.c.Error(); err != nil {
		return err
	}
	return c.w.Flush()
}

// exportEvents writes the matching events after opt.from, up to the log's
// head as it was when the export began, in position order, to out; progress
// goes to progress. It holds one page of events at a time, whatever the
// log's size. When ctx ends it stops after the current line, flushes, and
// says where to continue; the result says the same to a caller.
func exportEvents(ctx context.Context, store eventstore.Store, opt exportOptions, out, progress io.Writer) (exportResult, error) {
	if opt.pageSize == 0 {
		opt.pageSize = 1000
	}
	if opt.progressEvery == 0 {
		opt.progressEvery = time.Second
	}
	res := exportResult{Position: opt.from}
	// Reads run on a context of their own: a SIGINT ends the export between
	// lines, not in the middle of a query whose answer would be lost.
	readCtx := context.WithoutCancel(ctx)
	head, err := store.Head(readCtx)
	if err != nil {
		return res, fmt.Errorf("events export: head: %w", err)
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	var w eventWriter
	if opt.format == "csv" {
		c := csv.NewWriter(bw)
		c.UseCRLF = true // RFC 4180
		if err := c.Write(csvHeader); err != nil {
			return res, fmt.Errorf("events export: %w", err)
		}
		w = &csvWriter{w: bw, c: c}
	} else {
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		w = &ndjsonWriter{w: bw, enc: enc}
	}
	filter := eventstore.Filter{EventTypes: opt.types}
	if opt.streamPrefix != "" {
		filter.StreamPrefixes = []string{opt.streamPrefix}
	}

	start, lastReport := time.Now(), time.Now()
	report := func() {
		rate := float64(res.Exported) / max(time.Since(start).Seconds(), 1e-3)
		fmt.Fprintf(progress, "exported %s events (%s/s), position %d of %d\n",
			thousands(res.Exported), thousands(uint64(rate)), res.Position, head)
	}
	// finish flushes and says where the export stopped and how to go on.
	finish := func(cause error) (exportResult, error) {
		if err := w.flush(); err != nil {
			return res, fmt.Errorf("events export: write: %w", err)
		}
		report()
		switch {
		case cause != nil:
			fmt.Fprintf(progress, "export stopped: every matching event up to position %d was written; continue with: --from-position %d\n", res.Position, res.Position)
			return res, cause
		default:
			fmt.Fprintf(progress, "export complete: last exported position %d; continue later with: --from-position %d\n", res.Position, res.Position)
			return res, nil
		}
	}

	after := opt.from
	for after < head {
		if ctx.Err() != nil {
			res.Interrupted = true
			return finish(fmt.Errorf("events export interrupted: %w", ctx.Err()))
		}
		b, err := store.ReadAll(readCtx, after, opt.pageSize, filter)
		if err != nil {
			return finish(fmt.Errorf("events export: read after %d: %w", after, err))
		}
		if len(b.Events) == 0 && b.Checkpoint <= after {
			time.Sleep(20 * time.Millisecond) // an append below the head is in flight
			continue
		}
		for _, e := range b.Events {
			if e.Position > head {
				break
			}
			if ctx.Err() != nil {
				res.Interrupted = true
				return finish(fmt.Errorf("events export interrupted: %w", ctx.Err()))
			}
			if inWindow(e.RecordedAt, opt.since, opt.until) {
				if err := w.write(e); err != nil {
					return res, fmt.Errorf("events export: write event %d: %w", e.Position, err)
				}
				res.Exported++
			}
			res.Position = e.Position
		}
		after = min(b.Checkpoint, head)
		res.Position = after
		if time.Since(lastReport) >= opt.progressEvery {
			if err := w.flush(); err != nil {
				return res, fmt.Errorf("events export: write: %w", err)
			}
			report()
			lastReport = time.Now()
		}
	}
	return finish(nil)
}

// inWindow: since inclusive, until exclusive, zero bounds open.
func inWindow(t, since, until time.Time) bool {
	return (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until))
}

// thousands formats n as 120,000.
func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
