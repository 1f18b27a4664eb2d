package localblob

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
	"github.com/hustmusik/backend/infra/blob/blobtest"
)

var testSecret = DeriveSecret("a jwt secret that is long enough for the tests")

// serve starts an HTTP server with the store's handler at /blob/, the way
// the service mounts it, and returns the store signing URLs for it.
func serve(t *testing.T, cfg Config) (*Store, *httptest.Server) {
	t.Helper()
	var (
		mu sync.Mutex
		h  http.Handler = http.NotFoundHandler()
	)
	mux := http.NewServeMux()
	mux.HandleFunc(PathPrefix, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hh := h
		mu.Unlock()
		hh.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.PublicURL = srv.URL
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	h = s.Handler()
	mu.Unlock()
	return s, srv
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) (blob.Store, *http.Client) {
		s, srv := serve(t, Config{})
		return s, srv.Client()
	})
}

func request(t *testing.T, c *http.Client, method, u string, header http.Header, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func errorMessage(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("refusal Content-Type = %q, want JSON", resp.Header.Get("Content-Type"))
	}
	var e struct{ Error string }
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("refusal body %q is not {\"error\": ...}", body)
	}
	return e.Error
}

func TestImagesArePublicAudioIsNot(t *testing.T) {
	s, srv := serve(t, Config{})
	ctx := context.Background()
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	img := blob.ImageKey("users", "42", "png")
	if err := s.Put(ctx, img, "image/png", bytes.NewReader(png), int64(len(png))); err != nil {
		t.Fatal(err)
	}
	if got, want := s.URL(img), srv.URL+"/blob/images/users/42.png"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	resp, body := request(t, srv.Client(), http.MethodGet, s.URL(img), nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, png) {
		t.Fatalf("public image: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("public image headers: %v", resp.Header)
	}

	audio := blob.AudioKey("song-1")
	if err := s.Put(ctx, audio, blob.AudioContentType, strings.NewReader("mp3"), 3); err != nil {
		t.Fatal(err)
	}
	resp, body = request(t, srv.Client(), http.MethodGet, s.URL(audio), nil, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned audio GET: %d, want 403", resp.StatusCode)
	}
	errorMessage(t, resp, body)

	// Not an image extension, under images/: no free pass either.
	other := "images/users/page.html"
	if err := s.Put(ctx, other, "text/html", strings.NewReader("<script>"), -1); err != nil {
		t.Fatal(err)
	}
	if resp, _ := request(t, srv.Client(), http.MethodGet, s.URL(other), nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned non-image GET under images/: %d, want 403", resp.StatusCode)
	}
	// Writing an image needs a signature.
	resp, _ = request(t, srv.Client(), http.MethodPut, s.URL(img), http.Header{"Content-Type": {"image/png"}}, strings.NewReader("x"))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned image PUT: %d, want 403", resp.StatusCode)
	}
	if resp, body := request(t, srv.Client(), http.MethodGet, s.URL(img), nil, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(body, png) {
		t.Errorf("image changed by a refused PUT: %d %q", resp.StatusCode, body)
	}
	if resp, _ := request(t, srv.Client(), http.MethodGet, s.URL("images/users/missing.png"), nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing public image: %d, want 404", resp.StatusCode)
	}
}

func TestUploadLimit(t *testing.T) {
	s, srv := serve(t, Config{MaxUploadBytes: 1000})
	key := blob.AudioKey("big")
	u, err := s.PresignPut(context.Background(), key, blob.AudioContentType, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctype := http.Header{"Content-Type": {blob.AudioContentType}}
	// Declared length over the limit, and a chunked body that grows over it.
	bodies := map[string]io.Reader{
		"sized":   bytes.NewReader(make([]byte, 1001)),
		"chunked": io.MultiReader(bytes.NewReader(make([]byte, 600)), bytes.NewReader(make([]byte, 600))),
	}
	for name, body := range bodies {
		resp, b := request(t, srv.Client(), http.MethodPut, u, ctype, body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d, want 413", name, resp.StatusCode)
			continue
		}
		if msg := errorMessage(t, resp, b); !strings.Contains(msg, "MB") {
			t.Errorf("%s: message %q does not state the limit", name, msg)
		}
	}
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("an over-limit upload was kept: %v", err)
	}
	leftovers(t, s.cfg.Dir)
	if resp, b := request(t, srv.Client(), http.MethodPut, u, ctype, bytes.NewReader(make([]byte, 1000))); resp.StatusCode != http.StatusOK {
		t.Errorf("upload at the limit: %d %s", resp.StatusCode, b)
	}
}

// leftovers fails when a temporary upload file remains anywhere in dir.
func leftovers(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".upload-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestRefusalsTouchNothing(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, srv := serve(t, Config{Now: clock})
	key := blob.AudioKey("clocked")
	u, err := s.PresignPut(context.Background(), key, blob.AudioContentType, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(15*time.Minute + time.Second)
	mu.Unlock()
	resp, b := request(t, srv.Client(), http.MethodPut, u, http.Header{"Content-Type": {blob.AudioContentType}}, strings.NewReader("late"))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT after expiry: %d", resp.StatusCode)
	}
	if msg := errorMessage(t, resp, b); msg != "This URL has expired" {
		t.Errorf("expired message = %q", msg)
	}
	if entries, _ := os.ReadDir(s.cfg.Dir); len(entries) != 0 {
		t.Errorf("a refused PUT created %d entries in the store", len(entries))
	}
	// Just before expiry it works: the clock option is really used.
	mu.Lock()
	now = now.Add(-2 * time.Second)
	mu.Unlock()
	if resp, b := request(t, srv.Client(), http.MethodPut, u, http.Header{"Content-Type": {blob.AudioContentType}}, strings.NewReader("ok")); resp.StatusCode != http.StatusOK {
		t.Errorf("PUT just before expiry: %d %s", resp.StatusCode, b)
	}
}

func TestHeadAndCORS(t *testing.T) {
	s, srv := serve(t, Config{AllowedOrigins: []string{"http://localhost:3000/"}})
	ctx := context.Background()
	key := blob.AudioKey("cors")
	if err := s.Put(ctx, key, blob.AudioContentType, strings.NewReader("0123456789"), 10); err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignGet(ctx, key, blob.AudioContentType, time.Hour, "inline")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := request(t, srv.Client(), http.MethodGet, u, http.Header{"Origin": {"http://localhost:3000"}}, nil)
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("allowed origin: ACAO = %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Content-Range") {
		t.Errorf("Content-Range not exposed: %q", resp.Header.Get("Access-Control-Expose-Headers"))
	}
	resp, _ = request(t, srv.Client(), http.MethodGet, u, http.Header{"Origin": {"http://evil.example"}}, nil)
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin: ACAO = %q", got)
	}
	resp, _ = request(t, srv.Client(), http.MethodOptions, u, http.Header{"Origin": {"http://localhost:3000"}, "Access-Control-Request-Method": {"PUT"}}, nil)
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := request(t, srv.Client(), http.MethodHead, u, nil, nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != 10 {
		t.Errorf("HEAD: %d, %d body bytes, length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
}

// TestNoEscape: neither a hostile path nor a symlink planted in the store
// directory reaches a file outside it.
func TestNoEscape(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.mp3")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, srv := serve(t, Config{})
	h := s.Handler()
	for _, p := range []string{"/blob/../secret.mp3", "/blob/audio/..%2f..%2fsecret.mp3", "/blob//etc/passwd", "/blob/images/%2e%2e/%2e%2e/x.png"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://x"+p, nil))
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusForbidden {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("GET %s leaked the file", p)
		}
	}
	// A symlinked file and a symlinked directory inside the store.
	if err := os.MkdirAll(filepath.Join(s.cfg.Dir, "audio"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(s.cfg.Dir, "audio", "link.mp3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(s.cfg.Dir, "out")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := s.PresignGet(ctx, "audio/link.mp3", blob.AudioContentType, time.Hour, "inline")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := request(t, srv.Client(), http.MethodGet, u, nil, nil); resp.StatusCode == http.StatusOK || bytes.Contains(body, []byte("secret")) {
		t.Errorf("symlink out of the store was followed: %d %q", resp.StatusCode, body)
	}
	put, err := s.PresignPut(ctx, "out/secret.mp3", blob.AudioContentType, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := request(t, srv.Client(), http.MethodPut, put, http.Header{"Content-Type": {blob.AudioContentType}}, strings.NewReader("overwritten")); resp.StatusCode == http.StatusOK {
		t.Errorf("PUT through a symlinked directory succeeded")
	}
	if err := s.Put(ctx, "out/secret.mp3", blob.AudioContentType, strings.NewReader("overwritten"), -1); err == nil {
		t.Errorf("Put through a symlinked directory succeeded")
	}
	if b, _ := os.ReadFile(secret); string(b) != "secret" {
		t.Errorf("the file outside the store was changed to %q", b)
	}
}

func TestPutSizeMismatchKeepsNothing(t *testing.T) {
	s, _ := serve(t, Config{})
	key := blob.AudioKey("short")
	if err := s.Put(context.Background(), key, blob.AudioContentType, strings.NewReader("abc"), 10); err == nil {
		t.Fatal("Put of 3 bytes declared as 10 succeeded")
	}
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a short Put was kept: %v", err)
	}
	leftovers(t, s.cfg.Dir)
}

func TestConfigValidate(t *testing.T) {
	_, err := New(Config{PublicURL: "localhost:7554", Secret: []byte("short"), AllowedOrigins: []string{"nope"}, MaxUploadBytes: -1}, nil)
	if err == nil {
		t.Fatal("New accepted a bad config")
	}
	for _, want := range []string{"Dir", "PublicURL", "Secret", "MaxUploadBytes", "nope"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestDeriveSecret(t *testing.T) {
	a, b := DeriveSecret("secret one that is long enough...."), DeriveSecret("secret two that is long enough....")
	if len(a) != 32 || bytes.Equal(a, b) || !bytes.Equal(a, DeriveSecret("secret one that is long enough....")) {
		t.Errorf("DeriveSecret is not a deterministic 32-byte function of its input")
	}
	if bytes.Contains(a, []byte("secret one")) {
		t.Error("DeriveSecret leaks its input")
	}
}
