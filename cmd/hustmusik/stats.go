package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/readapi"
)

const statsUsage = "usage: hustmusik stats listens [--since 2026-11-01] [--top N] [--out listens.png]"

// statsCmd: hustmusik stats listens — the top songs and a PNG chart of
// plays per day, from the "listenstats" read model.
func statsCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "listens" {
		return errors.New(statsUsage)
	}
	fs := flag.NewFlagSet("stats listens", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sinceRaw := fs.String("since", "", "first UTC day counted, YYYY-MM-DD (default: 30 days ago)")
	top := fs.Int("top", 10, "how many songs to list")
	outPath := fs.String("out", "listens.png", "where to write the chart of plays per day")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	since := time.Now().UTC().AddDate(0, 0, -30)
	if *sinceRaw != "" {
		t, err := parseDay(*sinceRaw)
		if err != nil {
			return err
		}
		since = t
	}
	if *top < 1 || *top > 1000 {
		return fmt.Errorf("--top %d: between 1 and 1000", *top)
	}
	e, err := openEnv(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer e.Close()
	q := readapi.NewStats(e.pool)
	return listenStats(ctx, q, since, *top, *outPath, stdout)
}

// parseDay accepts a day (2026-11-01) or an RFC 3339 time.
func parseDay(raw string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", raw); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: a day like 2026-11-01 or an RFC 3339 time", raw)
}

func listenStats(ctx context.Context, q *readapi.Stats, since time.Time, top int, outPath string, stdout io.Writer) error {
	songs, err := q.TopSongs(ctx, since, top)
	if err != nil {
		return err
	}
	days, err := q.PlaysPerDay(ctx, since)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "top %d songs since %s\n", top, since.Format("2006-01-02"))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tTITLE\tPLAYS\tSONG ID")
	for i, s := range songs {
		title := s.Title
		if title == "" {
			title = "(deleted song)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", i+1, title, s.Plays, s.SongID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	series, err := dailySeries(since, time.Now().UTC(), days)
	if err != nil {
		return err
	}
	if err := writeChart(outPath, series); err != nil {
		return err
	}
	abs, err := filepath.Abs(outPath)
	if err != nil {
		abs = outPath
	}
	fmt.Fprintf(stdout, "chart of plays per day (%d days) written to %s\n", len(series), abs)
	return nil
}

// dailySeries lists every day from since to the later of until and the
// last day with plays, with 0 for days without plays.
func dailySeries(since, until time.Time, days []readapi.DayPlays) ([]readapi.DayPlays, error) {
	plays := map[string]int64{}
	first := time.Date(since.Year(), since.Month(), since.Day(), 0, 0, 0, 0, time.UTC)
	last := time.Date(until.Year(), until.Month(), until.Day(), 0, 0, 0, 0, time.UTC)
	for _, d := range days {
		t, err := time.Parse("2006-01-02", d.Day)
		if err != nil {
			return nil, fmt.Errorf("day %q: %w", d.Day, err)
		}
		if t.After(last) {
			last = t
		}
		plays[d.Day] = d.Plays
	}
	var out []readapi.DayPlays
	for t := first; !t.After(last) && len(out) < 3660; t = t.AddDate(0, 0, 1) {
		k := t.Format("2006-01-02")
		out = append(out, readapi.DayPlays{Day: k, Plays: plays[k]})
	}
	return out, nil
}

var (
	chartBackground = color.RGBA{255, 255, 255, 255}
	chartAxis       = color.RGBA{40, 40, 40, 255}
	chartGrid       = color.RGBA{225, 225, 225, 255}
	chartBar        = color.RGBA{29, 185, 84, 255}
)

// writeChart draws plays per day as bars: axes, a light grid with the
// values of its lines, and the first and last day under the x axis.
func writeChart(path string, series []readapi.DayPlays) error {
	img := drawChart(series)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("chart: encode %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("chart: write %s: %w", path, err)
	}
	return nil
}

func drawChart(series []readapi.DayPlays) *image.RGBA {
	const w, h, left, right, top, bottom = 960, 420, 70, 20, 20, 40
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, image.Rect(0, 0, w, h), chartBackground)
	var peak int64
	for _, d := range series {
		peak = max(peak, d.Plays)
	}
	scaleMax := niceCeil(max(peak, 1))
	plotH := h - top - bottom
	for i := 0; i <= 4; i++ {
		y := h - bottom - plotH*i/4
		fill(img, image.Rect(left, y, w-right, y+1), chartGrid)
		text(img, strconv.FormatInt(scaleMax*int64(i)/4, 10), left-8, y-5, true)
	}
	if n := len(series); n > 0 {
		slot := float64(w-left-right) / float64(n)
		for i, d := range series {
			x0 := left + int(float64(i)*slot+slot*0.15)
			x1 := left + int(float64(i+1)*slot-slot*0.15)
			if x1 <= x0 {
				x1 = x0 + 1
			}
			bh := int(float64(plotH) * float64(d.Plays) / float64(scaleMax))
			fill(img, image.Rect(x0, h-bottom-bh, x1, h-bottom), chartBar)
		}
		text(img, series[0].Day, left, h-bottom+10, false)
		text(img, series[n-1].Day, w-right, h-bottom+10, true)
	}
	fill(img, image.Rect(left, top, left+2, h-bottom+1), chartAxis)       // y axis
	fill(img, image.Rect(left, h-bottom, w-right, h-bottom+2), chartAxis) // x axis
	return img
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// glyphs is a 3x5 pixel font of the characters the chart prints: each row
// is 3 bits, most significant on the left.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 1, 1},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, '-': {0, 0, 7, 0, 0},
}

// text draws s at 2x scale with its top at y, starting at x (or ending at
// x when alignRight).
func text(img *image.RGBA, s string, x, y int, alignRight bool) {
	const scale, advance = 2, 4 * 2
	if alignRight {
		x -= len(s) * advance
	}
	for i, r := range s {
		g := glyphs[r]
		for row := 0; row < 5; row++ {
			for col := 0; col < 3; col++ {
				if g[row]&(4>>col) != 0 {
					px, py := x+i*advance+col*scale, y+row*scale
					fill(img, image.Rect(px, py, px+scale, py+scale), chartAxis)
				}
			}
		}
	}
}
