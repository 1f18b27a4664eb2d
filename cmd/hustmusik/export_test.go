package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/infra/eventstore"
)

// knownLog appends a known set of events of three types over a few
// streams, with data that CSV must quote (commas, quotes, a newline,
// diacritics), in three bursts separated in time; it returns every event of
// the log and the two instants between the bursts.
func knownLog(t *testing.T, store eventstore.Store) (all []eventstore.RecordedEvent, t1, t2 time.Time) {
	t.Helper()
	ctx := context.Background()
	burst := func(b int) {
		for i := 0; i < 40; i++ {
			typ := []string{"ExportTestA", "ExportTestB", "ExportTestC"}[i%3]
			stream := fmt.Sprintf("exporttest%d-%d", i%2, b)
			data, _ := json.Marshal(map[string]any{"n": b*100 + i, "text": fmt.Sprintf("Sơn Tùng, \"M-TP\"\nline %d", i)})
			if _, err := store.Append(ctx, stream, eventstore.Any(), eventstore.EventData{ID: uuid.New(), Type: typ, Data: data,
				Metadata: eventstore.Metadata{OccurredAt: time.Now(), ActorID: "actor-" + strconv.Itoa(i%4), SchemaVersion: 1}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pause := func() time.Time {
		time.Sleep(60 * time.Millisecond)
		at := time.Now()
		time.Sleep(60 * time.Millisecond)
		return at
	}
	burst(0)
	t1 = pause()
	burst(1)
	t2 = pause()
	burst(2)
	b, err := store.ReadAll(ctx, 0, 10000, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return b.Events, t1, t2
}

// exported is an event as read back from an export.
type exported struct {
	Position uint64
	Stream   string
	Revision uint64
	ID, Type string
	Recorded time.Time
	Actor    string
	Data     string
}

func expectedOf(events []eventstore.RecordedEvent, keep func(eventstore.RecordedEvent) bool) []exported {
	var out []exported
	for _, e := range events {
		if !keep(e) {
			continue
		}
		var buf bytes.Buffer
		json.Compact(&buf, e.Data)
		out = append(out, exported{e.Position, e.StreamID, e.Revision, e.ID.String(), e.Type, e.RecordedAt.UTC(), e.Metadata.ActorID, buf.String()})
	}
	return out
}

func parseNDJSON(t *testing.T, raw []byte) []exported {
	t.Helper()
	var out []exported
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Position   uint64              `json:"position"`
			Stream     string              `json:"stream"`
			Revision   uint64              `json:"revision"`
			EventID    string              `json:"event_id"`
			Type       string              `json:"type"`
			RecordedAt time.Time           `json:"recorded_at"`
			Metadata   eventstore.Metadata `json:"metadata"`
			Data       json.RawMessage     `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		out = append(out, exported{l.Position, l.Stream, l.Revision, l.EventID, l.Type, l.RecordedAt, l.Metadata.ActorID, string(l.Data)})
	}
	return out
}

func parseCSV(t *testing.T, raw []byte) []exported {
	t.Helper()
	if !bytes.Contains(raw, []byte("\r\n")) {
		t.Errorf("CSV lines do not end in CRLF (RFC 4180)")
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "position,stream,revision,event_id,type,recorded_at,actor_id,data" {
		t.Fatalf("CSV header %v", recs)
	}
	var out []exported
	for _, r := range recs[1:] {
		pos, _ := strconv.ParseUint(r[0], 10, 64)
		rev, _ := strconv.ParseUint(r[2], 10, 64)
		at, err := time.Parse(time.RFC3339Nano, r[5])
		if err != nil {
			t.Fatalf("recorded_at %q: %v", r[5], err)
		}
		out = append(out, exported{pos, r[1], rev, r[3], r[4], at, r[6], strings.ReplaceAll(r[7], "\r\n", "\n")})
	}
	return out
}

func sameExport(t *testing.T, what string, got, want []exported) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events exported, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Position != w.Position || g.Stream != w.Stream || g.Revision != w.Revision || g.ID != w.ID || g.Type != w.Type ||
			!g.Recorded.Equal(w.Recorded) || g.Actor != w.Actor || g.Data != w.Data {
			t.Fatalf("%s: event %d = %+v, want %+v", what, i, g, w)
		}
	}
}

func TestExportIsExactInBothFormats(t *testing.T) {
	api := newTestAPI(t, nil)
	store := api.app.env.store
	all, t1, t2 := knownLog(t, store)
	if len(all) != 120 {
		t.Fatalf("log holds %d events, want 120", len(all))
	}
	ctx := context.Background()
	cases := []struct {
		name string
		args []string
		keep func(eventstore.RecordedEvent) bool
	}{
		{"everything", nil, func(eventstore.RecordedEvent) bool { return true }},
		{"two types", []string{"--type", "ExportTestA", "--type", "ExportTestC"},
			func(e eventstore.RecordedEvent) bool { return e.Type != "ExportTestB" }},
		{"comma types and a stream prefix", []string{"--type", "ExportTestA,ExportTestB", "--stream", "exporttest1-"},
			func(e eventstore.RecordedEvent) bool {
				return e.Type != "ExportTestC" && strings.HasPrefix(e.StreamID, "exporttest1-")
			}},
		{"a time window", []string{"--since", t1.Format(time.RFC3339Nano), "--until", t2.Format(time.RFC3339Nano)},
			func(e eventstore.RecordedEvent) bool { return strings.HasSuffix(e.StreamID, "-1") }},
		{"after a position", []string{"--from-position", strconv.FormatUint(all[49].Position, 10)},
			func(e eventstore.RecordedEvent) bool { return e.Position > all[49].Position }},
	}
	for _, tc := range cases {
		for _, format := range []string{"ndjson", "csv"} {
			opt, err := parseExportFlags(append(append([]string{}, tc.args...), "--format", format, "--page-size", "7"), io.Discard)
			if err != nil {
				t.Fatalf("%s: flags: %v", tc.name, err)
			}
			var out, progress bytes.Buffer
			res, err := exportEvents(ctx, store, opt, &out, &progress)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.name, format, err)
			}
			want := expectedOf(all, tc.keep)
			if len(want) == 0 {
				t.Fatalf("%s: the case selects nothing", tc.name)
			}
			var got []exported
			if format == "csv" {
				got = parseCSV(t, out.Bytes())
			} else {
				got = parseNDJSON(t, out.Bytes())
			}
			sameExport(t, tc.name+" "+format, got, want)
			if res.Exported != uint64(len(want)) || res.Position != all[len(all)-1].Position {
				t.Errorf("%s %s: result %+v, want %d exported up to %d", tc.name, format, res, len(want), all[len(all)-1].Position)
			}
			if !strings.Contains(progress.String(), "--from-position "+strconv.FormatUint(res.Position, 10)) {
				t.Errorf("%s %s: stderr does not say how to continue: %s", tc.name, format, progress.String())
			}
		}
	}

	// The command itself, as an operator runs it.
	t.Setenv("DATABASE_URL", api.cfg.DatabaseURL)
	t.Setenv("HUSTMUSIK_DATA_DIR", t.TempDir())
	var out, progress bytes.Buffer
	if err := run(ctx, []string{"events", "export", "--type", "ExportTestB", "--format", "csv"}, &out, &progress); err != nil {
		t.Fatalf("hustmusik events export: %v\n%s", err, progress.String())
	}
	sameExport(t, "the command", parseCSV(t, out.Bytes()), expectedOf(all, func(e eventstore.RecordedEvent) bool { return e.Type == "ExportTestB" }))
	if !regexp.MustCompile(`exported 39 events \([0-9,]+/s\), position \d+`).MatchString(progress.String()) {
		t.Errorf("no progress with a rate on stderr: %s", progress.String())
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--since", "yesterday"}, {"--since", "2026-11-02T00:00:00Z", "--until", "2026-11-01T00:00:00Z"}} {
		if _, err := parseExportFlags(bad, io.Discard); err == nil {
			t.Errorf("flags %v accepted", bad)
		}
	}
}

// cancelAfter passes lines through and cancels after n complete lines
// (SIGINT in the middle of an export).
type cancelAfter struct {
	w      io.Writer
	n      int64
	lines  atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if c.lines.Add(int64(bytes.Count(p, []byte("\n")))) >= c.n {
		c.cancel()
	}
	return c.w.Write(p)
}

func TestExportInterruptedAndResumedYieldsTheSameSet(t *testing.T) {
	api := newTestAPI(t, nil)
	store := api.app.env.store
	all, _, _ := knownLog(t, store)
	want := expectedOf(all, func(e eventstore.RecordedEvent) bool { return e.Type != "ExportTestC" })
	from := regexp.MustCompile(`--from-position (\d+)`)
	for _, format := range []string{"ndjson", "csv"} {
		var got []exported
		var position uint64
		interruptions := 0
		for round := 0; ; round++ {
			if round > 20 {
				t.Fatalf("%s: the export never completed", format)
			}
			opt, err := parseExportFlags([]string{"--type", "ExportTestA,ExportTestB", "--format", format,
				"--page-size", "4", "--from-position", strconv.FormatUint(position, 10)}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var out, progress bytes.Buffer
			// Flushes come per page or at the end; cancel after 11 lines of output.
			sink := &cancelAfter{w: &out, n: 11, cancel: cancel}
			opt.progressEvery = time.Nanosecond // flush every page
			res, err := exportEvents(ctx, store, opt, sink, &progress)
			cancel()
			m := from.FindStringSubmatch(progress.String())
			if m == nil {
				t.Fatalf("%s: no --from-position on stderr: %s", format, progress.String())
			}
			printed, _ := strconv.ParseUint(m[1], 10, 64)
			if printed != res.Position {
				t.Fatalf("%s: printed position %d, result %d", format, printed, res.Position)
			}
			if format == "csv" {
				got = append(got, parseCSV(t, out.Bytes())...)
			} else {
				got = append(got, parseNDJSON(t, out.Bytes())...)
			}
			position = printed
			if err == nil {
				break
			}
			if !res.Interrupted {
				t.Fatalf("%s: export failed: %v", format, err)
			}
			interruptions++
		}
		if interruptions < 3 {
			t.Fatalf("%s: interrupted %d times only: the test tests nothing", format, interruptions)
		}
		sameExport(t, "interrupted and resumed "+format, got, want)
	}
}

func TestExportOverHTTPForAdminsAndAuditors(t *testing.T) {
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "admin@hust.vn"})
	admin := api.signUp("admin@hust.vn", "Quản trị")
	auditorAcc := api.signUp("kiemtoan@hust.vn", "Kiểm toán")
	user := api.signUp("lan@example.vn", "Lan")
	api.expect(api.do("POST", "/v1/user/"+auditorAcc.id+"/role", admin.access, map[string]string{"role": "Auditor"}), 200)
	auditor := accountOf(t, api.expect(api.do("POST", "/v1/auth/signin", "",
		map[string]string{"email": "kiemtoan@hust.vn", "password": "mat-khau-1"}), 200))
	all, _, _ := knownLog(t, api.app.env.store)

	api.expect(api.do("GET", "/v1/admin/events", "", nil), 401)
	api.expect(api.do("GET", "/v1/admin/events", user.access, nil), 403)
	api.expect(api.do("GET", "/v1/admin/events?after=x", admin.access, nil), 400)

	for _, tok := range []string{admin.access, auditor.access} {
		var got []exported
		after := "0"
		for pages := 0; ; pages++ {
			r := api.expect(api.do("GET", "/v1/admin/events?type=ExportTestA&type=ExportTestB,UserRegistered&limit=9&after="+after, tok, nil), 200)
			if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Fatalf("Content-Type %q", ct)
			}
			page := parseNDJSON(t, r.body)
			if len(page) > 9 {
				t.Fatalf("page of %d events over the limit 9", len(page))
			}
			got = append(got, page...)
			next := r.header.Get("X-Next-After")
			if next == "" {
				t.Fatal("no X-Next-After")
			}
			if next == after {
				break
			}
			after = next
			if pages > 100 {
				t.Fatal("paging never ends")
			}
		}
		want := expectedOf(all, func(e eventstore.RecordedEvent) bool {
			return e.Type == "ExportTestA" || e.Type == "ExportTestB" || e.Type == "UserRegistered"
		})
		sameExport(t, "GET /v1/admin/events", got, want)
	}
	// Metadata travels whole.
	r := api.expect(api.do("GET", "/v1/admin/events?limit=1", admin.access, nil), 200)
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(r.body), &line); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"position", "stream", "revision", "event_id", "type", "recorded_at", "metadata", "data"} {
		if _, ok := line[k]; !ok {
			t.Errorf("event line lacks %q: %s", k, r.body)
		}
	}
}
