package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/password"
	"github.com/hustmusik/backend/infra/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testAPI is the whole service (real PostgreSQL, real event store, real
// projectors) behind an httptest server.
type testAPI struct {
	t   *testing.T
	url string
	app *app
	cfg config.Config
	// stopProjections stops the projection runtime (reads keep working).
	stopProjections func()
}

// fastPasswords keeps argon2id but with test-sized memory, so that the
// suite stays quick; production uses the defaults.
var fastPasswords = password.Config{Memory: 1024, Time: 1, Threads: 1}

func newTestAPI(t *testing.T, env map[string]string) *testAPI {
	t.Helper()
	return newTestAPIWithPasswords(t, env, fastPasswords)
}

// newTestAPIWithPasswords is newTestAPI with other password-hashing costs
// (a timing test needs hashes slow enough to see).
func newTestAPIWithPasswords(t *testing.T, env map[string]string, pw password.Config) *testAPI {
	t.Helper()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HUSTMUSIK_DATA_DIR": t.TempDir(),
		"JWT_SECRET": "test-secret-test-secret-test-secret-0123"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.FromEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	e, err := openEnv(ctx, cfg, logger, false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, e, logger, pw)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.runtime.Run(ctx)
	}()
	srv := httptest.NewServer(a.server.Handler())
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(func() {
		srv.Close()
		stop()
		e.Close()
	})
	return &testAPI{t: t, url: srv.URL, app: a, cfg: cfg, stopProjections: stop}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (r answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

func (r answer) errorMessage(t *testing.T) string {
	t.Helper()
	msg, _ := r.json(t)["error"].(string)
	return msg
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (api *testAPI) do(method, path, token string, body any, headers ...string) answer {
	api.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, api.url+path, rd)
	if err != nil {
		api.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := client.Do(req)
	if err != nil {
		api.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: raw}
}

func (api *testAPI) expect(r answer, status int) answer {
	api.t.Helper()
	if r.status != status {
		api.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

type account struct {
	id, access, refresh string
}

func (api *testAPI) signUp(email, username string) account {
	api.t.Helper()
	r := api.expect(api.do("POST", "/v1/auth/signup", "", map[string]string{
		"email": email, "password": "mat-khau-1", "username": username}), 200)
	return accountOf(api.t, r)
}

func accountOf(t *testing.T, r answer) account {
	t.Helper()
	m := r.json(t)
	user, _ := m["user"].(map[string]any)
	session, _ := m["session"].(map[string]any)
	if user == nil || session == nil {
		t.Fatalf("no user/session at top level: %s", r.body)
	}
	a := account{}
	a.id, _ = user["id"].(string)
	a.access, _ = session["access_token"].(string)
	a.refresh, _ = session["refresh_token"].(string)
	if a.id == "" || a.access == "" || a.refresh == "" {
		t.Fatalf("incomplete auth answer: %s", r.body)
	}
	return a
}
