package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/pgtest"
	"github.com/hustmusik/backend/infra/token"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var testSecret = []byte("test-secret-test-secret-test-secret!")

const frontend = "http://localhost:3000"

// logBuffer collects the server's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes every log line.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// find returns the log lines whose msg is msg.
func (b *logBuffer) find(t *testing.T, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range b.lines(t) {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

type testServer struct {
	*Server
	issuer *token.Issuer
	logs   *logBuffer
}

func newTestServer(t *testing.T, mod func(*Config)) *testServer {
	t.Helper()
	iss, err := token.New(token.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cfg := Config{FrontendOrigins: []string{frontend + "/", "https://app.example.com"}, Verifier: iss}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{Server: s, issuer: iss, logs: logs}
}

func (s *testServer) token(t *testing.T, userID, role string) string {
	t.Helper()
	tok, _, err := s.issuer.Issue(userID, role, "session-"+userID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type req struct {
	method, path string
	body         io.Reader
	headers      map[string]string
	remote       string
}

func (s *testServer) do(r req) *httptest.ResponseRecorder {
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, r.path, r.body)
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, hr)
	return w
}

// jsonBody decodes an answer body.
func jsonBody(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", w.Body.String(), err)
	}
	return m
}

func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body.String())
	}
	b := jsonBody(t, w)
	if b["error"] != msg || len(b) != 1 {
		t.Fatalf("body = %s, want {\"error\": %q}", w.Body.String(), msg)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
}

// clockedIssuer issues tokens at a chosen time (to make expired ones).
func clockedIssuer(t *testing.T, at time.Time) *token.Issuer {
	t.Helper()
	iss, err := token.New(token.Config{Secret: testSecret, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}
