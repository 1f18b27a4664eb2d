package essearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/search"
	"github.com/hustmusik/backend/infra/search/searchtest"
)

// TestSuite runs the shared search suite on a real cluster. Elasticsearch
// cannot run on this machine; the production-stack CI sets ELASTICSEARCH_URL.
func TestSuite(t *testing.T) {
	url := os.Getenv("ELASTICSEARCH_URL")
	if url == "" {
		t.Log("ELASTICSEARCH_URL not set: the Elasticsearch suite runs in the production-stack CI")
		return
	}
	searchtest.Run(t, func(t *testing.T) search.Index {
		x, err := New(Config{URL: url, IndexPrefix: "hm-test-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12], Refresh: "wait_for"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := x.Setup(ctx); err != nil {
			t.Fatalf("Setup: %v", err)
		}
		t.Cleanup(func() {
			names := []string{}
			for _, k := range kinds {
				names = append(names, x.IndexName(k))
			}
			x.client.Indices.Delete(names)
			for _, n := range names {
				x.client.Indices.DeleteIndexTemplate(n)
			}
		})
		return x
	})
}

func TestConfigValidate(t *testing.T) {
	_, err := New(Config{URL: "ftp://x", IndexPrefix: "Bad*Name", Refresh: "sometimes", MaxRetries: -1}, nil)
	if err == nil {
		t.Fatal("an invalid config was accepted")
	}
	for _, want := range []string{"URL", "IndexPrefix", "Refresh", "MaxRetries"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	_, err = New(Config{URL: "http://elastic:s3cret@[bad"}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a bad URL error leaks or misses: %v", err)
	}
	x, err := New(Config{URL: "http://localhost:9200"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x.cfg.IndexPrefix != "hustmusik" || x.cfg.Refresh != "false" || x.IndexName(search.KindCollection) != "hustmusik-collections" {
		t.Errorf("defaults: %+v", x.cfg)
	}
}

// path walks a decoded JSON value: keys for objects, ints for arrays.
func path(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("no key %q in %v", k, m)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: not an array that long: %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

func TestIndexBody(t *testing.T) {
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			b, err := IndexBody(k)
			if err != nil {
				t.Fatal(err)
			}
			v := decode(t, b)
			an := path(t, v, "settings", "analysis")
			if got := path(t, an, "filter", "hm_folding"); !reflect.DeepEqual(got, map[string]any{"type": "asciifolding", "preserve_original": false}) {
				t.Errorf("folding filter = %v", got)
			}
			if got := path(t, an, "filter", "hm_edge"); !reflect.DeepEqual(got, map[string]any{"type": "edge_ngram", "min_gram": 1.0, "max_gram": 20.0}) {
				t.Errorf("edge n-gram filter = %v", got)
			}
			wantFilters := map[string][]any{
				"hm_kept":   {"lowercase"},
				"hm_folded": {"lowercase", "hm_folding"},
				"hm_prefix": {"lowercase", "hm_folding", "hm_edge"},
			}
			for name, filters := range wantFilters {
				if tok := path(t, an, "analyzer", name, "tokenizer"); tok != "standard" {
					t.Errorf("%s tokenizer = %v", name, tok)
				}
				if got := path(t, an, "analyzer", name, "filter"); !reflect.DeepEqual(got, filters) {
					t.Errorf("%s filters = %v, want %v", name, got, filters)
				}
			}
			if got := path(t, v, "settings", "index", "gc_deletes"); got != "1h" {
				t.Errorf("gc_deletes = %v", got)
			}
			m := path(t, v, "mappings")
			if path(t, m, "dynamic") != "strict" {
				t.Error("mapping is not strict")
			}
			text := path(t, m, "properties", "text")
			if path(t, text, "analyzer") != "hm_kept" ||
				path(t, text, "fields", "folded", "analyzer") != "hm_folded" ||
				path(t, text, "fields", "prefix", "analyzer") != "hm_prefix" ||
				path(t, text, "fields", "prefix", "search_analyzer") != "hm_folded" {
				t.Errorf("text field = %v", text)
			}
			for _, f := range []string{"id", "sort_key"} {
				if path(t, m, "properties", f, "type") != "keyword" {
					t.Errorf("%s is not a keyword", f)
				}
			}
			if path(t, m, "properties", "doc", "enabled") != false {
				t.Error("the stored document is indexed")
			}
			props := path(t, m, "properties").(map[string]any)
			_, views := props["views"]
			_, visibility := props["visibility"]
			if views != (k == search.KindSong) || visibility != (k == search.KindCollection) {
				t.Errorf("kind-specific fields wrong: %v", props)
			}
			if k == search.KindCollection {
				for _, f := range []string{"type", "visibility", "owner_id"} {
					if path(t, m, "properties", f, "type") != "keyword" {
						t.Errorf("%s is not a keyword", f)
					}
				}
			}
			tb, err := TemplateBody(k, "hm-x")
			if err != nil {
				t.Fatal(err)
			}
			tv := decode(t, tb)
			if !reflect.DeepEqual(path(t, tv, "template", "mappings"), m) || !reflect.DeepEqual(path(t, tv, "index_patterns"), []any{"hm-x"}) {
				t.Errorf("template differs from the index body: %s", tb)
			}
		})
	}
}

func parse(t *testing.T, term string) search.Query {
	t.Helper()
	q, err := search.ParseQuery(term)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestSearchBodySongs(t *testing.T) {
	long := strings.Repeat("x", 21)
	b, err := searchBody(search.KindSong, parse(t, "Bạc adelle "+long), nil, 40, 20)
	if err != nil {
		t.Fatal(err)
	}
	v := decode(t, b)
	if path(t, v, "from") != 40.0 || path(t, v, "size") != 20.0 {
		t.Errorf("window: %s", b)
	}
	wantSort := []any{
		map[string]any{"_score": "desc"}, map[string]any{"views": "desc"},
		map[string]any{"sort_key": "asc"}, map[string]any{"id": "asc"},
	}
	if got := path(t, v, "sort"); !reflect.DeepEqual(got, wantSort) {
		t.Errorf("sort = %v", got)
	}
	must := path(t, v, "query", "bool", "must").([]any)
	if len(must) != 3 {
		t.Fatalf("%d word clauses, want 3", len(must))
	}
	cs := func(word, clause int) any {
		return path(t, must[word], "bool", "should", clause, "constant_score")
	}
	// "Bạc": exact with diacritics, folded word, prefix; three letters, no typo clause.
	if n := len(path(t, must[0], "bool", "should").([]any)); n != 3 {
		t.Errorf("short word has %d clauses, want 3 (no fuzzy)", n)
	}
	checks := []struct {
		word, clause int
		keys         []any
		want         any
		boost        float64
	}{
		{0, 0, []any{"filter", "term", "text"}, "bạc", 8},
		{0, 1, []any{"filter", "term", "text.folded"}, "bac", 4},
		{0, 2, []any{"filter", "term", "text.prefix"}, "bac", 2},
		{1, 3, []any{"filter", "fuzzy", "text.folded", "value"}, "adelle", 1},
		{1, 3, []any{"filter", "fuzzy", "text.folded", "fuzziness"}, "1", 1},
		{1, 3, []any{"filter", "fuzzy", "text.folded", "transpositions"}, true, 1},
		{2, 2, []any{"filter", "prefix", "text.folded"}, long, 2}, // longer than the n-grams
	}
	for _, c := range checks {
		clause := cs(c.word, c.clause)
		if got := path(t, clause, c.keys...); got != c.want {
			t.Errorf("word %d clause %d %v = %v, want %v", c.word, c.clause, c.keys, got, c.want)
		}
		if got := path(t, clause, "boost"); got != c.boost {
			t.Errorf("word %d clause %d boost = %v, want %v", c.word, c.clause, got, c.boost)
		}
	}
	if path(t, must[0], "bool", "minimum_should_match") != 1.0 {
		t.Error("a word clause does not require one match")
	}
	if _, ok := path(t, v, "query", "bool").(map[string]any)["filter"]; ok {
		t.Error("songs are filtered")
	}
}

func TestSearchBodyCollections(t *testing.T) {
	q := parse(t, "sky")
	b, err := searchBody(search.KindCollection, q, albumFilters(), 0, 30)
	if err != nil {
		t.Fatal(err)
	}
	v := decode(t, b)
	filters := path(t, v, "query", "bool", "filter")
	want := []any{
		map[string]any{"terms": map[string]any{"type": []any{"Album", "EP", "Single"}}},
		map[string]any{"term": map[string]any{"visibility": "Public"}},
	}
	if !reflect.DeepEqual(filters, want) {
		t.Errorf("album filters = %v", filters)
	}
	if got := path(t, v, "sort"); len(got.([]any)) != 3 {
		t.Errorf("collections sort by views? %v", got)
	}
	anon := decode(t, mustBody(t, search.KindCollection, q, playlistFilters("")))
	if got := path(t, anon, "query", "bool", "filter", 1); !reflect.DeepEqual(got, map[string]any{"term": map[string]any{"visibility": "Public"}}) {
		t.Errorf("anonymous playlist filter = %v", got)
	}
	viewer := "7D2B1F2E-0000-4000-8000-000000000001"
	own := decode(t, mustBody(t, search.KindCollection, q, playlistFilters(viewer)))
	if got := path(t, own, "query", "bool", "filter", 0, "terms", "type"); !reflect.DeepEqual(got, []any{"Playlist", "Mix"}) {
		t.Errorf("playlist types = %v", got)
	}
	if got := path(t, own, "query", "bool", "filter", 1, "bool", "should", 1, "term", "owner_id"); got != strings.ToLower(viewer) {
		t.Errorf("owner clause = %v", got)
	}
}

func mustBody(t *testing.T, kind search.Kind, q search.Query, filters []any) []byte {
	t.Helper()
	b, err := searchBody(kind, q, filters, 0, 30)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testIndex(t *testing.T, url string, retries int) *Index {
	t.Helper()
	x, err := New(Config{URL: url, IndexPrefix: "hm", Refresh: "wait_for", MaxRetries: retries, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

var (
	songID = "5b0e8a52-5a0b-4cde-9f3c-1d1f8d0b7a01"
	userID = "5b0e8a52-5a0b-4cde-9f3c-1d1f8d0b7a02"
)

func TestBulkBody(t *testing.T) {
	x := testIndex(t, "http://localhost:9200", 0)
	changes := []search.Change{
		search.UpsertSong(search.SongDoc{ID: songID, Title: "Sơn Tùng M-TP <3", Views: 7, Artists: []search.ArtistRef{}}, 41),
		search.Delete(search.KindUser, userID, 42),
	}
	b, err := bulkBody(x.IndexName, changes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Error("NDJSON does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3: %s", len(lines), b)
	}
	wantMeta := map[string]any{"_index": "hm-songs", "_id": songID, "version": 41.0, "version_type": "external"}
	if got := path(t, decode(t, []byte(lines[0])), "index"); !reflect.DeepEqual(got, wantMeta) {
		t.Errorf("index action = %v", got)
	}
	doc := decode(t, []byte(lines[1]))
	if path(t, doc, "text") != "sơn tùng m tp 3" || path(t, doc, "sort_key") != "son tung m tp 3" || path(t, doc, "views") != 7.0 {
		t.Errorf("document = %s", lines[1])
	}
	if path(t, doc, "doc", "title") != "Sơn Tùng M-TP <3" {
		t.Errorf("stored document = %v (HTML escaped?)", path(t, doc, "doc"))
	}
	wantDel := map[string]any{"_index": "hm-users", "_id": userID, "version": 42.0, "version_type": "external"}
	if got := path(t, decode(t, []byte(lines[2])), "delete"); !reflect.DeepEqual(got, wantDel) {
		t.Errorf("delete action = %v", got)
	}
}

// fakeES is a small Elasticsearch stand-in that checks what a real one
// checks on the requests we send and answers what the test scripts.
type fakeES struct {
	t        *testing.T
	mu       sync.Mutex
	requests []string
	answer   func(r *http.Request, body []byte) (int, string)
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch") // the client refuses servers without it
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/_bulk") {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") && !strings.Contains(ct, "x-ndjson") {
			w.WriteHeader(http.StatusNotAcceptable)
			fmt.Fprintf(w, `{"error":{"type":"illegal_argument_exception","reason":"bulk content type %s"},"status":406}`, ct)
			return
		}
		if !bytes.HasSuffix(body, []byte("\n")) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\\n]"},"status":400}`)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			var action map[string]map[string]any
			if json.Unmarshal(sc.Bytes(), &action) != nil {
				continue
			}
			for op, meta := range action {
				if (op == "index" || op == "delete") && meta["version_type"] != "external" {
					f.t.Errorf("bulk %s without an external version: %v", op, meta)
				}
				if op == "index" {
					sc.Scan() // its document
				}
			}
		}
	}
	status, answer := f.answer(r, body)
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

func (f *fakeES) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func fake(t *testing.T, answer func(r *http.Request, body []byte) (int, string)) (*fakeES, *httptest.Server) {
	f := &fakeES{t: t, answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func twoChanges() []search.Change {
	return []search.Change{
		search.UpsertSong(search.SongDoc{ID: songID, Title: "Lạc Trôi"}, 10),
		search.Delete(search.KindUser, userID, 11),
	}
}

func TestApplyAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		answer    string
		wantErr   bool
		unavail   bool
		errSubstr string
	}{
		{"created and deleted", 200, `{"errors":false,"items":[{"index":{"status":201,"result":"created"}},{"delete":{"status":200,"result":"deleted"}}]}`, false, false, ""},
		{"stale version is success", 200, `{"errors":true,"items":[{"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[x]: version conflict, current version [12] is higher or equal to the one provided [10]"}}},{"delete":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"conflict"}}}]}`, false, false, ""},
		{"deleting a missing document", 200, `{"errors":false,"items":[{"index":{"status":200,"result":"updated"}},{"delete":{"status":404,"result":"not_found"}}]}`, false, false, ""},
		{"a refused document", 200, `{"errors":true,"items":[{"index":{"status":400,"error":{"type":"document_parsing_exception","reason":"strict mapping"}}},{"delete":{"status":200}}]}`, true, false, "document_parsing_exception"},
		{"an item rejected under load", 200, `{"errors":true,"items":[{"index":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},{"delete":{"status":200}}]}`, true, true, "es_rejected_execution_exception"},
		{"too many requests", 429, `{"error":{"type":"circuit_breaking_exception","reason":"data too large"},"status":429}`, true, true, "circuit_breaking_exception"},
		{"server error", 500, `{"error":{"type":"exception","reason":"boom"},"status":500}`, true, true, "boom"},
		{"bad request", 400, `{"error":{"type":"illegal_argument_exception","reason":"nope"},"status":400}`, true, false, "illegal_argument_exception"},
		{"not JSON", 200, `<html>proxy</html>`, true, false, "unreadable answer"},
		{"items missing", 200, `{"errors":false,"items":[{"index":{"status":201}}]}`, true, false, "answered 1 items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := fake(t, func(*http.Request, []byte) (int, string) { return tt.status, tt.answer })
			err := testIndex(t, srv.URL, 0).Apply(context.Background(), twoChanges())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Apply error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			if errors.Is(err, domain.ErrUnavailable) != tt.unavail {
				t.Errorf("error %v: unavailable = %v, want %v", err, !tt.unavail, tt.unavail)
			}
			if !strings.Contains(err.Error(), tt.errSubstr) {
				t.Errorf("error %q does not mention %q", err, tt.errSubstr)
			}
		})
	}
}

func TestApplyRequest(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	_, srv := fake(t, func(r *http.Request, body []byte) (int, string) {
		got, gotBody = r, body
		return 200, `{"errors":false,"items":[{"index":{"status":201}},{"delete":{"status":200}}]}`
	})
	if err := testIndex(t, srv.URL, 0).Apply(context.Background(), twoChanges()); err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/_bulk" || got.URL.Query().Get("refresh") != "wait_for" {
		t.Errorf("bulk request %s %s", got.Method, got.URL)
	}
	if !bytes.Contains(gotBody, []byte(`"version":10`)) || !bytes.Contains(gotBody, []byte(`"version":11`)) {
		t.Errorf("bulk body without versions: %s", gotBody)
	}
}

func TestApplyRetriesOutages(t *testing.T) {
	f, srv := fake(t, func(*http.Request, []byte) (int, string) {
		return 503, `{"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"},"status":503}`
	})
	err := testIndex(t, srv.URL, 2).Apply(context.Background(), twoChanges())
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Apply on an unavailable cluster: %v", err)
	}
	if n := f.count(); n != 3 {
		t.Errorf("%d requests, want 1 + 2 retries", n)
	}
	srv.Close()
	if err := testIndex(t, srv.URL, 0).Apply(context.Background(), twoChanges()); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Apply on a closed server: %v, want ErrUnavailable", err)
	}
}

func TestApplyRefusesInvalidChangesBeforeSending(t *testing.T) {
	f, srv := fake(t, func(*http.Request, []byte) (int, string) { return 200, `{}` })
	err := testIndex(t, srv.URL, 0).Apply(context.Background(), []search.Change{search.UpsertSong(search.SongDoc{ID: "nope"}, 1)})
	if !errors.Is(err, search.ErrInvalidChange) || f.count() != 0 {
		t.Errorf("error %v after %d requests", err, f.count())
	}
}

func TestSearchDecodesHits(t *testing.T) {
	var gotPath string
	var gotBody []byte
	_, srv := fake(t, func(r *http.Request, body []byte) (int, string) {
		gotPath, gotBody = r.URL.Path, body
		return 200, `{"hits":{"hits":[
			{"_source":{"doc":{"id":"` + songID + `","title":"Lạc Trôi","views":5,"artists":null}}},
			{"_source":{"doc":{"id":"` + userID + `","title":"Nơi Này Có Anh","artists":[{"id":"a","name":"Sơn Tùng M-TP"}]}}}]}}`
	})
	x := testIndex(t, srv.URL, 0)
	songs, err := x.Songs(context.Background(), parse(t, "lac"), 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/hm-songs/_search" || path(t, decode(t, gotBody), "from") != 5.0 {
		t.Errorf("searched %s with %s", gotPath, gotBody)
	}
	if len(songs) != 2 || songs[0].Title != "Lạc Trôi" || songs[0].Views != 5 || songs[0].Artists == nil || songs[1].Artists[0].Name != "Sơn Tùng M-TP" {
		t.Errorf("songs = %+v", songs)
	}
	none, err := x.Users(context.Background(), parse(t, "x"), 1, 0)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("limit 0 = %#v, %v", none, err)
	}
}

func TestSearchErrors(t *testing.T) {
	tests := []struct {
		name, answer string
		status       int
		unavail      bool
	}{
		{"missing index", `{"error":{"type":"index_not_found_exception","reason":"no such index [hm-users]"},"status":404}`, 404, false},
		{"hit without document", `{"hits":{"hits":[{"_source":{}}]}}`, 200, false},
		{"broken JSON", `{"hits":`, 200, false},
		{"overloaded", `{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}`, 429, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := fake(t, func(*http.Request, []byte) (int, string) { return tt.status, tt.answer })
			docs, err := testIndex(t, srv.URL, 0).Users(context.Background(), parse(t, "linh"), 1, 10)
			if err == nil {
				t.Fatalf("no error, docs %v", docs)
			}
			if errors.Is(err, domain.ErrUnavailable) != tt.unavail {
				t.Errorf("error %v: unavailable should be %v", err, tt.unavail)
			}
		})
	}
}

func TestSetupAndReset(t *testing.T) {
	exists := false
	f, srv := fake(t, func(r *http.Request, body []byte) (int, string) {
		if r.Method == http.MethodPut && !strings.HasPrefix(r.URL.Path, "/_index_template/") {
			if exists {
				return 400, `{"error":{"type":"resource_already_exists_exception","reason":"exists"},"status":400}`
			}
			if v := decode(t, body); path(t, v, "mappings", "dynamic") != "strict" {
				t.Errorf("index created without the mapping: %s", body)
			}
		}
		return 200, `{"acknowledged":true}`
	})
	x := testIndex(t, srv.URL, 0)
	if err := x.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	exists = true
	if err := x.Setup(context.Background()); err != nil {
		t.Fatalf("Setup with existing indexes: %v", err)
	}
	f.mu.Lock()
	first := append([]string{}, f.requests[:8]...)
	f.requests = nil
	f.mu.Unlock()
	want := []string{
		"PUT /_index_template/hm-songs", "PUT /hm-songs", "PUT /_index_template/hm-artists", "PUT /hm-artists",
		"PUT /_index_template/hm-collections", "PUT /hm-collections", "PUT /_index_template/hm-users", "PUT /hm-users",
	}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("setup requests = %q, want %q", first, want)
	}
	exists = false
	if err := x.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.requests[0] != "DELETE /hm-songs,hm-artists,hm-collections,hm-users" || len(f.requests) != 5 {
		t.Errorf("reset requests = %q", f.requests)
	}
}
