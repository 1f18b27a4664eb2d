// Package blobtest is the conformance suite of blob.Store: every
// implementation runs it against a real backend (localblob through its own
// HTTP handler, s3blob through a versitygw S3 gateway), so clients can rely
// on the same behaviour from both.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
)

// NewStore gives a test a store and the HTTP client that reaches the URLs
// it signs. Stores may share a backend: the suite uses fresh keys.
type NewStore func(t *testing.T) (blob.Store, *http.Client)

// Run runs the suite; its subtests run in parallel.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store, c *http.Client)
	}{
		{"PresignedPutThenGet", testPresignedPutThenGet},
		{"Range", testRange},
		{"ServerPutThenGet", testServerPutThenGet},
		{"OverwriteReplaces", testOverwrite},
		{"PutNeedsSignedContentType", testPutContentType},
		{"TamperedPutRefused", testTamperedPut},
		{"TamperedGetRefused", testTamperedGet},
		{"OtherKeyRefused", testOtherKey},
		{"WrongMethodRefused", testWrongMethod},
		{"ExpiredRefused", testExpired},
		{"DeleteThenNotFound", testDelete},
		{"BadKeysRejected", testBadKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := newStore(t)
			tt.fn(t, s, c)
		})
	}
}

const ct = blob.AudioContentType

func newKey() string { return blob.AudioKey(uuid.NewString()) }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, c *http.Client, method, u string, header http.Header, body []byte) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func ctHeader(v string) http.Header { return http.Header{"Content-Type": {v}} }

// upload PUTs body through a fresh presigned URL and requires success.
func upload(t *testing.T, s blob.Store, c *http.Client, key string, body []byte) {
	t.Helper()
	u, err := s.PresignPut(context.Background(), key, ct, 15*time.Minute)
	if err != nil {
		t.Fatalf("PresignPut(%s): %v", key, err)
	}
	if a := do(t, c, http.MethodPut, u, ctHeader(ct), body); a.status/100 != 2 {
		t.Fatalf("PUT %s: %d %s", key, a.status, a.body)
	}
}

// download GETs key through a fresh presigned URL.
func download(t *testing.T, s blob.Store, c *http.Client, key string, header http.Header) answer {
	t.Helper()
	u, err := s.PresignGet(context.Background(), key, ct, time.Hour, "inline")
	if err != nil {
		t.Fatalf("PresignGet(%s): %v", key, err)
	}
	return do(t, c, http.MethodGet, u, header, nil)
}

func requireContent(t *testing.T, s blob.Store, c *http.Client, key string, want []byte) {
	t.Helper()
	a := download(t, s, c, key, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", key, a.status, a.body)
	}
	if !bytes.Equal(a.body, want) {
		t.Fatalf("GET %s: got %d bytes, not the %d stored", key, len(a.body), len(want))
	}
}

func testPresignedPutThenGet(t *testing.T, s blob.Store, c *http.Client) {
	key, body := newKey(), randomBytes(t, 300<<10)
	upload(t, s, c, key, body)
	a := download(t, s, c, key, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET: %d %s", a.status, a.body)
	}
	if !bytes.Equal(a.body, body) {
		t.Fatalf("GET returned %d bytes that differ from the %d uploaded", len(a.body), len(body))
	}
	if got := a.header.Get("Content-Type"); got != ct {
		t.Errorf("Content-Type = %q, want %q", got, ct)
	}
	if got := a.header.Get("Content-Disposition"); !strings.HasPrefix(got, "inline") {
		t.Errorf("Content-Disposition = %q, want inline", got)
	}
	info, err := s.Stat(context.Background(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != int64(len(body)) {
		t.Errorf("Stat size = %d, want %d", info.Size, len(body))
	}
}

func testRange(t *testing.T, s blob.Store, c *http.Client) {
	key, body := newKey(), randomBytes(t, 4096)
	upload(t, s, c, key, body)
	a := download(t, s, c, key, http.Header{"Range": {"bytes=1000-1999"}})
	if a.status != http.StatusPartialContent {
		t.Fatalf("ranged GET: %d, want 206", a.status)
	}
	if !bytes.Equal(a.body, body[1000:2000]) {
		t.Errorf("ranged GET returned the wrong %d bytes", len(a.body))
	}
	if got := a.header.Get("Content-Range"); got != "bytes 1000-1999/4096" {
		t.Errorf("Content-Range = %q", got)
	}
}

func testServerPutThenGet(t *testing.T, s blob.Store, c *http.Client) {
	key, body := newKey(), randomBytes(t, 70<<10)
	// A plain reader (not a Seeker), as a multipart part is.
	if err := s.Put(context.Background(), key, ct, io.MultiReader(bytes.NewReader(body)), int64(len(body))); err != nil {
		t.Fatalf("Put: %v", err)
	}
	requireContent(t, s, c, key, body)
	// Unknown size works too.
	if err := s.Put(context.Background(), key, ct, io.MultiReader(bytes.NewReader(body[:10])), -1); err != nil {
		t.Fatalf("Put with unknown size: %v", err)
	}
	requireContent(t, s, c, key, body[:10])
}

func testOverwrite(t *testing.T, s blob.Store, c *http.Client) {
	key := newKey()
	first, second := randomBytes(t, 2000), randomBytes(t, 1000)
	upload(t, s, c, key, first)
	upload(t, s, c, key, second)
	requireContent(t, s, c, key, second)
}

func testPutContentType(t *testing.T, s blob.Store, c *http.Client) {
	key := newKey()
	u, err := s.PresignPut(context.Background(), key, ct, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Header{ctHeader("text/html"), ctHeader("image/png"), {}} {
		if a := do(t, c, http.MethodPut, u, h, []byte("<script>alert(1)</script>")); a.status != http.StatusForbidden {
			t.Errorf("PUT with Content-Type %q: %d, want 403", h.Get("Content-Type"), a.status)
		}
	}
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a refused PUT stored something: Stat = %v", err)
	}
}

// tamperings are the URLs that differ from u by one query parameter: each
// value changed (a signature by one hex digit), and each one dropped.
func tamperings(t *testing.T, u string) map[string]string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	q := p.Query()
	if len(q) == 0 {
		t.Fatalf("URL %s carries no query to tamper with", u)
	}
	for name := range q {
		v := q.Get(name)
		changed := v + "0"
		if isHex(v) && len(v) >= 32 {
			b := []byte(v)
			i := len(b) / 2
			if b[i] == '0' {
				b[i] = '1'
			} else {
				b[i] = '0'
			}
			changed = string(b)
		}
		alt := p.Query()
		alt.Set(name, changed)
		out["changed "+name] = withQuery(p, alt)
		alt = p.Query()
		alt.Del(name)
		out["dropped "+name] = withQuery(p, alt)
	}
	return out
}

func withQuery(p *url.URL, q url.Values) string {
	c := *p
	c.RawQuery = q.Encode()
	return c.String()
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return s != ""
}

func testTamperedPut(t *testing.T, s blob.Store, c *http.Client) {
	key, original := newKey(), randomBytes(t, 1000)
	upload(t, s, c, key, original)
	u, err := s.PresignPut(context.Background(), key, ct, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for what, tu := range tamperings(t, u) {
		a := do(t, c, http.MethodPut, tu, ctHeader(ct), []byte("evil"))
		if a.status/100 != 4 {
			t.Errorf("PUT with %s: %d, want a refusal", what, a.status)
		}
		if strings.Contains(what, "changed") && strings.Contains(strings.ToLower(what), "sig") && a.status != http.StatusForbidden {
			t.Errorf("PUT with %s: %d, want 403", what, a.status)
		}
	}
	requireContent(t, s, c, key, original)
}

func testTamperedGet(t *testing.T, s blob.Store, c *http.Client) {
	key := newKey()
	upload(t, s, c, key, randomBytes(t, 100))
	u, err := s.PresignGet(context.Background(), key, ct, time.Hour, "inline")
	if err != nil {
		t.Fatal(err)
	}
	for what, tu := range tamperings(t, u) {
		a := do(t, c, http.MethodGet, tu, nil, nil)
		if a.status/100 != 4 {
			t.Errorf("GET with %s: %d, want a refusal", what, a.status)
		}
		if strings.Contains(what, "changed") && strings.Contains(strings.ToLower(what), "sig") && a.status != http.StatusForbidden {
			t.Errorf("GET with %s: %d, want 403", what, a.status)
		}
	}
	if a := do(t, c, http.MethodGet, u, nil, nil); a.status != http.StatusOK {
		t.Errorf("the untampered URL: %d, want 200", a.status)
	}
}

// testOtherKey moves a genuine URL onto another existing key.
func testOtherKey(t *testing.T, s blob.Store, c *http.Client) {
	mine, theirs := newKey(), newKey()
	theirBytes := randomBytes(t, 500)
	upload(t, s, c, theirs, theirBytes)
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		var u string
		var err error
		if method == http.MethodGet {
			u, err = s.PresignGet(context.Background(), mine, ct, time.Hour, "inline")
		} else {
			u, err = s.PresignPut(context.Background(), mine, ct, time.Hour)
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		p.Path = strings.Replace(p.Path, path.Base(mine), path.Base(theirs), 1)
		if p.String() == u {
			t.Fatalf("could not move %s onto %s", u, theirs)
		}
		if a := do(t, c, method, p.String(), ctHeader(ct), []byte("evil")); a.status != http.StatusForbidden {
			t.Errorf("%s of another key: %d, want 403", method, a.status)
		}
	}
	requireContent(t, s, c, theirs, theirBytes)
}

func testWrongMethod(t *testing.T, s blob.Store, c *http.Client) {
	key, original := newKey(), randomBytes(t, 100)
	upload(t, s, c, key, original)
	get, err := s.PresignGet(context.Background(), key, ct, time.Hour, "inline")
	if err != nil {
		t.Fatal(err)
	}
	if a := do(t, c, http.MethodPut, get, ctHeader(ct), []byte("evil")); a.status != http.StatusForbidden {
		t.Errorf("PUT through a GET URL: %d, want 403", a.status)
	}
	put, err := s.PresignPut(context.Background(), key, ct, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if a := do(t, c, http.MethodGet, put, nil, nil); a.status != http.StatusForbidden {
		t.Errorf("GET through a PUT URL: %d, want 403", a.status)
	}
	if a := do(t, c, http.MethodDelete, get, nil, nil); a.status/100 == 2 {
		t.Errorf("DELETE through a GET URL: %d, want a refusal", a.status)
	}
	requireContent(t, s, c, key, original)
}

func testExpired(t *testing.T, s blob.Store, c *http.Client) {
	key, original := newKey(), randomBytes(t, 100)
	upload(t, s, c, key, original)
	get, err := s.PresignGet(context.Background(), key, ct, time.Second, "inline")
	if err != nil {
		t.Fatal(err)
	}
	put, err := s.PresignPut(context.Background(), key, ct, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Both stores count in whole seconds: 2.5 s is past any rounding.
	time.Sleep(2500 * time.Millisecond)
	if a := do(t, c, http.MethodGet, get, nil, nil); a.status != http.StatusForbidden {
		t.Errorf("expired GET: %d, want 403", a.status)
	}
	if a := do(t, c, http.MethodPut, put, ctHeader(ct), []byte("late")); a.status != http.StatusForbidden {
		t.Errorf("expired PUT: %d, want 403", a.status)
	}
	requireContent(t, s, c, key, original)
}

func testDelete(t *testing.T, s blob.Store, c *http.Client) {
	ctx := context.Background()
	key := newKey()
	upload(t, s, c, key, randomBytes(t, 100))
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if a := download(t, s, c, key, nil); a.status != http.StatusNotFound {
		t.Errorf("GET after Delete: %d, want 404", a.status)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Stat after Delete = %v, want not found", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing key = %v, want nil", err)
	}
	if err := s.Delete(ctx, newKey()); err != nil {
		t.Errorf("Delete of a never-stored key = %v, want nil", err)
	}
}

func testBadKeys(t *testing.T, s blob.Store, _ *http.Client) {
	ctx := context.Background()
	for _, key := range []string{"", "../escape.mp3", "audio/../../escape.mp3", "/audio/x.mp3", "audio//x.mp3", "Audio/X.mp3", "audio/x y.mp3", "audio/x.mp3/"} {
		calls := map[string]error{}
		_, calls["PresignPut"] = s.PresignPut(ctx, key, ct, time.Minute)
		_, calls["PresignGet"] = s.PresignGet(ctx, key, ct, time.Minute, "inline")
		calls["Put"] = s.Put(ctx, key, ct, strings.NewReader("x"), 1)
		_, calls["Stat"] = s.Stat(ctx, key)
		calls["Delete"] = s.Delete(ctx, key)
		for name, err := range calls {
			if !errors.Is(err, domain.ErrValidation) {
				t.Errorf("%s(%q) = %v, want a validation error", name, key, err)
			}
		}
	}
	key := newKey()
	for _, bad := range []string{"", "audio/mpeg\r\nX-Injected: 1"} {
		if _, err := s.PresignPut(ctx, key, bad, time.Minute); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("PresignPut with content type %q = %v, want a validation error", bad, err)
		}
	}
	if _, err := s.PresignGet(ctx, key, ct, time.Minute, "inline\r\nX: 1"); !errors.Is(err, domain.ErrValidation) {
		t.Errorf("PresignGet with a bad disposition = %v, want a validation error", err)
	}
	for _, ttl := range []time.Duration{0, -time.Second, 8 * 24 * time.Hour} {
		if _, err := s.PresignGet(ctx, key, ct, ttl, "inline"); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("PresignGet with ttl %s = %v, want a validation error", ttl, err)
		}
	}
}
