package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
)

func TestHealth(t *testing.T) {
	s := newTestServer(t, nil)
	before := time.Now().UTC().Truncate(time.Second)
	w := s.do(req{path: "/"})
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	b := jsonBody(t, w)
	if b["msg"] != "Server is healthy" || len(b) != 2 {
		t.Fatalf("body %s", w.Body.String())
	}
	at, err := time.Parse(time.RFC3339, b["last_checked"].(string))
	if err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Fatalf("last_checked %v (%v)", b["last_checked"], err)
	}
}

func TestTrailingSlashServedWithoutRedirect(t *testing.T) {
	s := newTestServer(t, nil)
	e := s.Engine()
	e.GET("/v1/collection", func(c *gin.Context) { Data(c, "list") })
	e.POST("/v1/collection", func(c *gin.Context) {
		f, err := Fields(c)
		if err != nil {
			Error(c, err)
			return
		}
		title, _ := f.Get("title")
		Data(c, title)
	})
	e.GET("/v1/collection/:id", func(c *gin.Context) { Data(c, c.Param("id")) })
	for _, tc := range []struct {
		method, path, body, want string
	}{
		{"GET", "/v1/collection/", "", `{"data":"list"}`},
		{"GET", "/v1/collection//", "", `{"data":"list"}`},
		{"GET", "/v1/collection", "", `{"data":"list"}`},
		{"POST", "/v1/collection/", `{"title":"Mix"}`, `{"data":"Mix"}`},
		{"GET", "/v1/collection/abc/", "", `{"data":"abc"}`},
		{"GET", "/v1/collection/?page=2", "", `{"data":"list"}`},
	} {
		w := s.do(req{method: tc.method, path: tc.path, body: strings.NewReader(tc.body), headers: map[string]string{"Content-Type": "application/json"}})
		if w.Code != 200 || w.Body.String() != tc.want || w.Header().Get("Location") != "" {
			t.Errorf("%s %s: %d %s (Location %q)", tc.method, tc.path, w.Code, w.Body.String(), w.Header().Get("Location"))
		}
	}
	// "/" stays "/".
	if w := s.do(req{path: "/"}); w.Code != 200 {
		t.Fatalf("GET / = %d", w.Code)
	}
	wantError(t, s.do(req{path: "/v1/nothing/"}), 404, "Route not found")
	// An unknown method on a known path is a plain 404 too.
	wantError(t, s.do(req{method: "PATCH", path: "/v1/collection"}), 404, "Route not found")
}

func TestCORS(t *testing.T) {
	s := newTestServer(t, nil)
	e := s.Engine()
	e.GET("/private", RequireUser(), func(c *gin.Context) { Data(c, "ok") })
	e.GET("/boom", func(c *gin.Context) { panic("boom") })
	e.GET("/fail", func(c *gin.Context) { Error(c, errors.New("db down")) })
	e.GET("/ok", func(c *gin.Context) { Written(c, nil, 7, nil); Data(c, 1) })

	allowed := func(t *testing.T, w *httptest.ResponseRecorder, origin string) {
		t.Helper()
		h := w.Header()
		if h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("allow-origin %q credentials %q", h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
		}
		if !strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Position") || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
			t.Fatalf("expose %q", h.Get("Access-Control-Expose-Headers"))
		}
		if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Fatal("no Vary: Origin")
		}
	}
	for _, tc := range []struct {
		name   string
		r      req
		status int
	}{
		{"404", req{path: "/nope"}, 404},
		{"401", req{path: "/private"}, 401},
		{"401 bad token", req{path: "/private", headers: map[string]string{"Authorization": "Bearer x.y.z"}}, 401},
		{"500 panic", req{path: "/boom"}, 500},
		{"500 error", req{path: "/fail"}, 500},
		{"200", req{path: "/ok"}, 200},
		{"413", req{method: "POST", path: "/ok", body: strings.NewReader(strings.Repeat("x", 2048))}, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, origin := range []string{frontend, "https://app.example.com"} {
				r := tc.r
				r.headers = map[string]string{"Origin": origin}
				for k, v := range tc.r.headers {
					r.headers[k] = v
				}
				if tc.name == "413" {
					s2 := newTestServer(t, func(c *Config) { c.MaxBodyBytes = 1024 })
					r.body = strings.NewReader(strings.Repeat("x", 2048))
					w := s2.do(r)
					if w.Code != 413 {
						t.Fatalf("status %d", w.Code)
					}
					allowed(t, w, origin)
					continue
				}
				w := s.do(r)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d", w.Code, tc.status)
				}
				allowed(t, w, origin)
			}
		})
	}

	t.Run("preflight", func(t *testing.T) {
		for _, path := range []string{"/private", "/v1/collection/123/songs/456", "/", "/nope/"} {
			w := s.do(req{method: "OPTIONS", path: path, headers: map[string]string{
				"Origin": frontend, "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "authorization,content-type,idempotency-key"}})
			if w.Code != 204 || w.Body.Len() != 0 {
				t.Fatalf("%s: status %d body %q", path, w.Code, w.Body.String())
			}
			allowed(t, w, frontend)
			if got := w.Header().Get("Access-Control-Allow-Methods"); got != "GET, POST, PUT, DELETE, OPTIONS" {
				t.Fatalf("methods %q", got)
			}
			if got := w.Header().Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type, Cache-Control, Idempotency-Key, If-Match, X-Min-Position" {
				t.Fatalf("headers %q", got)
			}
		}
	})

	t.Run("disallowed origin", func(t *testing.T) {
		for _, r := range []req{
			{path: "/nope", headers: map[string]string{"Origin": "https://evil.example"}},
			{path: "/ok", headers: map[string]string{"Origin": "http://localhost:3001"}},
			{method: "OPTIONS", path: "/ok", headers: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}},
		} {
			w := s.do(r)
			for k := range w.Header() {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Fatalf("%s %s from a disallowed origin got %s", r.method, r.path, k)
				}
			}
			if r.method == "OPTIONS" && w.Code != 204 {
				t.Fatalf("preflight status %d", w.Code)
			}
		}
	})

	t.Run("any origin", func(t *testing.T) {
		s := newTestServer(t, func(c *Config) { c.FrontendOrigins = []string{"*"} })
		w := s.do(req{path: "/", headers: map[string]string{"Origin": "https://whoever.example"}})
		allowed(t, w, "https://whoever.example")
	})
}

func TestBodyLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	calls := 0
	s.Engine().POST("/upload", func(c *gin.Context) {
		calls++
		f, err := Fields(c)
		if err != nil {
			Error(c, err)
			return
		}
		v, _ := f.Get("a")
		Data(c, len(v))
	})
	s.Engine().POST("/raw", func(c *gin.Context) {
		if _, err := io.ReadAll(c.Request.Body); err != nil {
			Error(c, err)
			return
		}
		NoContent(c)
	})
	big := `{"a":"` + strings.Repeat("x", 5000) + `"}`
	small := `{"a":"` + strings.Repeat("x", 3000) + `"}`

	// With Content-Length: refused before the handler runs.
	w := s.do(req{method: "POST", path: "/upload", body: strings.NewReader(big), headers: map[string]string{"Content-Type": "application/json"}})
	wantError(t, w, 413, "Request body too large")
	if calls != 0 {
		t.Fatal("the handler ran for a declared oversized body")
	}
	// Without Content-Length (chunked): refused as the body streams past.
	for _, path := range []string{"/upload", "/raw"} {
		hr := httptest.NewRequest("POST", path, io.MultiReader(strings.NewReader(big)))
		hr.ContentLength = -1
		hr.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, hr)
		wantError(t, rec, 413, "Request body too large")
	}
	// A multipart upload whose file streams past the limit.
	mpCT, mpBody := multipartBody(t, map[string]string{"a": "x"}, strings.Repeat("P", 6000))
	hr := httptest.NewRequest("POST", "/upload", io.MultiReader(mpBody))
	hr.ContentLength = -1
	hr.Header.Set("Content-Type", mpCT)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, hr)
	wantError(t, rec, 413, "Request body too large")

	if w := s.do(req{method: "POST", path: "/upload", body: strings.NewReader(small), headers: map[string]string{"Content-Type": "application/json"}}); w.Code != 200 || w.Body.String() != `{"data":3000}` {
		t.Fatalf("small body: %d %s", w.Code, w.Body.String())
	}

	// Over a real connection, with and without Content-Length.
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(strings.NewReader(big)) // unknown length: chunked
		}
		hr, _ := http.NewRequest("POST", ts.URL+"/upload", body)
		hr.Header.Set("Content-Type", "application/json")
		resp, err := ts.Client().Do(hr)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || string(b) != `{"error":"Request body too large"}` {
			t.Fatalf("chunked=%v: %d %s", chunked, resp.StatusCode, b)
		}
	}
}

func TestDefaultBodyLimitFitsTenMegabyteImage(t *testing.T) {
	s := newTestServer(t, nil)
	if s.cfg.MaxBodyBytes != 11<<20 {
		t.Fatalf("default MaxBodyBytes = %d", s.cfg.MaxBodyBytes)
	}
}

func TestRequestID(t *testing.T) {
	s := newTestServer(t, nil)
	var seen, fromCtx string
	s.Engine().GET("/id", func(c *gin.Context) {
		seen, fromCtx = RequestID(c), RequestIDFromContext(c.Request.Context())
		NoContent(c)
	})
	w := s.do(req{path: "/id", headers: map[string]string{"X-Request-Id": "abc-123.x:y_z"}})
	if w.Header().Get("X-Request-Id") != "abc-123.x:y_z" || seen != "abc-123.x:y_z" || fromCtx != seen {
		t.Fatalf("echoed %q, seen %q, ctx %q", w.Header().Get("X-Request-Id"), seen, fromCtx)
	}
	for _, bad := range []string{"", "has space", "new\nline", strings.Repeat("a", 129), "<script>"} {
		w := s.do(req{path: "/id", headers: map[string]string{"X-Request-Id": bad}})
		got := w.Header().Get("X-Request-Id")
		if got == bad || len(got) != 36 || got != seen {
			t.Fatalf("incoming %q: answered %q, seen %q", bad, got, seen)
		}
	}
	a, b := s.do(req{path: "/id"}).Header().Get("X-Request-Id"), s.do(req{path: "/id"}).Header().Get("X-Request-Id")
	if a == b {
		t.Fatal("two requests got one id")
	}
}

func TestAccessLogRedactsSecrets(t *testing.T) {
	s := newTestServer(t, nil)
	s.Engine().GET("/v1/auth/oauth/callback", func(c *gin.Context) { NoContent(c) })
	s.Engine().POST("/v1/song/:id", RequireUser(), func(c *gin.Context) { Error(c, domain.NotFound("Song does not exist")) })
	tok := s.token(t, "user-42", "User")
	s.do(req{path: "/v1/auth/oauth/callback?code=SECRETCODE&state=SECRETSTATE&page=2&X-Amz-Signature=SECRETSIG&Token=SECRETTOKEN&mac=SECRETMAC",
		headers: map[string]string{"Authorization": "Bearer " + tok, "X-Request-Id": "req-1"}})
	s.do(req{method: "POST", path: "/v1/song/s1", body: strings.NewReader(`{"password":"SECRETPASSWORD"}`),
		headers: map[string]string{"Authorization": "Bearer " + tok, "X-Request-Id": "req-2", "Content-Type": "application/json"}})
	logs := s.logs.String()
	for _, secret := range []string{"SECRET", tok, strings.Split(tok, ".")[2]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains %q:\n%s", secret, logs)
		}
	}
	lines := s.logs.find(t, "http request")
	if len(lines) != 2 {
		t.Fatalf("%d access lines", len(lines))
	}
	first, second := lines[0], lines[1]
	want := map[string]any{"method": "GET", "route": "/v1/auth/oauth/callback", "status": float64(204), "request_id": "req-1", "user_id": "user-42",
		"query": "code=REDACTED&state=REDACTED&page=2&X-Amz-Signature=REDACTED&Token=REDACTED&mac=REDACTED"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["duration_ms"].(float64); !ok {
		t.Error("no duration_ms")
	}
	if second["route"] != "/v1/song/:id" || second["status"] != float64(404) || second["error"] != "Song does not exist" {
		t.Errorf("second line %v", second)
	}
}

func TestRecovery(t *testing.T) {
	s := newTestServer(t, nil)
	s.Engine().GET("/boom", func(c *gin.Context) { panic("secret internals") })
	s.Engine().GET("/boom-after-write", func(c *gin.Context) {
		c.String(200, "partial")
		c.Writer.Flush()
		panic("late")
	})
	w := s.do(req{path: "/boom", headers: map[string]string{"X-Request-Id": "rid-boom"}})
	wantError(t, w, 500, "Internal server error")
	panics := s.logs.find(t, "panic while serving a request")
	if len(panics) != 1 || panics[0]["request_id"] != "rid-boom" || !strings.Contains(panics[0]["stack"].(string), "server_test.go") || panics[0]["panic"] != "secret internals" {
		t.Fatalf("panic log %v", panics)
	}
	w = s.do(req{path: "/boom-after-write"})
	if w.Code != 200 || w.Body.String() != "partial" {
		t.Fatalf("after write: %d %q", w.Code, w.Body.String())
	}
	// The server still serves.
	if w := s.do(req{path: "/"}); w.Code != 200 {
		t.Fatal("server broken after a panic")
	}
}

func TestErrorMapping(t *testing.T) {
	s := newTestServer(t, nil)
	var toReturn error
	s.Engine().GET("/err", func(c *gin.Context) { Error(c, toReturn) })
	for _, tc := range []struct {
		err    error
		status int
		msg    string
	}{
		{domain.Invalid("Email is required"), 400, "Email is required"},
		{&domain.Error{Kind: domain.ErrUnauthorized, Msg: "Token expired"}, 401, "Token expired"},
		{domain.Forbidden("Not your artist"), 403, "Not your artist"},
		{domain.NotFound("User does not exist"), 404, "User does not exist"},
		{domain.Conflict("Email already registered"), 409, "Email already registered"},
		{domain.Errorf(domain.ErrPrecondition, "Stale revision %d", 3), 412, "Stale revision 3"},
		{domain.Errorf(domain.ErrTooLarge, "Image larger than 10 MB"), 413, "Image larger than 10 MB"},
		{domain.Errorf(domain.ErrRateLimited, "Too many grants"), 429, "Too many grants"},
		{domain.Errorf(domain.ErrUnavailable, "Payments are not configured"), 503, "Payments are not configured"},
		// Wrapped with context: the domain message still reaches the client.
		{fmt.Errorf("add song: %w", domain.NotFound("Artist does not exist")), 404, "Artist does not exist"},
		// The sentinel-wrapping form of domain/errors.go.
		{fmt.Errorf("%w: User does not exist", domain.ErrNotFound), 404, "User does not exist"},
		{fmt.Errorf("load: %w", fmt.Errorf("%w: Song does not exist", domain.ErrNotFound)), 404, "Song does not exist"},
		{domain.ErrConflict, 409, "Conflict"},
		{&http.MaxBytesError{Limit: 10}, 413, "Request body too large"},
		{errors.New(`ERROR: relation "users" does not exist (SQLSTATE 42P01)`), 500, "Internal server error"},
		{fmt.Errorf("query: %w", errors.New("pq: secret detail")), 500, "Internal server error"},
		{&domain.Error{Kind: errors.New("unknown kind"), Msg: "leaky"}, 500, "Internal server error"},
	} {
		toReturn = tc.err
		w := s.do(req{path: "/err", headers: map[string]string{"X-Request-Id": "rid-err"}})
		wantError(t, w, tc.status, tc.msg)
	}
	// 500s are logged with the request id and the real error.
	fails := s.logs.find(t, "request failed")
	if len(fails) != 3 || fails[0]["request_id"] != "rid-err" || !strings.Contains(fails[0]["err"].(string), "SQLSTATE") {
		t.Fatalf("500 logs: %v", fails)
	}
}

func TestAuth(t *testing.T) {
	s := newTestServer(t, nil)
	e := s.Engine()
	who := func(c *gin.Context) {
		p := Principal(c)
		Data(c, gin.H{"user": p.UserID, "role": p.Role, "session": SessionID(c)})
	}
	e.GET("/opt", who)
	e.GET("/req", RequireUser(), who)
	e.GET("/admin", RequireRole(domain.RoleAdmin, domain.RoleAuditor), who)

	user := s.token(t, "u1", "User")
	admin := s.token(t, "a1", "Admin")
	expiredTok, _, _ := clockedIssuer(t, time.Now().Add(-2*time.Hour)).Issue("u1", "User", "s")
	parts := strings.Split(user, ".")
	altered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	for _, tc := range []struct {
		auth            string
		opt, req, adm   int
		reqMsg, optUser string
	}{
		{"", 200, 401, 401, "Authentication required", ""},
		{"Bearer undefined", 200, 401, 401, "Authentication required", ""},
		{"Bearer null", 200, 401, 401, "Authentication required", ""},
		{"Bearer ", 200, 401, 401, "Authentication required", ""},
		{"Basic dXNlcjpwYXNz", 200, 401, 401, "Authentication required", ""},
		{"Bearer garbage", 200, 401, 401, "Invalid token", ""},
		{"Bearer " + expiredTok, 200, 401, 401, "Token expired", ""},
		{"Bearer " + altered, 200, 401, 401, "Invalid token", ""},
		{"Bearer " + user, 200, 200, 403, "", "u1"},
		{"bearer " + user, 200, 200, 403, "", "u1"},
		{"Bearer " + admin, 200, 200, 200, "", "a1"},
	} {
		h := map[string]string{"Authorization": tc.auth}
		w := s.do(req{path: "/opt", headers: h})
		if w.Code != tc.opt || jsonBody(t, w)["data"].(map[string]any)["user"] != tc.optUser {
			t.Errorf("%q on /opt: %d %s", tc.auth, w.Code, w.Body.String())
		}
		w = s.do(req{path: "/req", headers: h})
		if w.Code != tc.req {
			t.Errorf("%q on /req: %d %s", tc.auth, w.Code, w.Body.String())
		} else if tc.req == 401 {
			wantError(t, w, 401, tc.reqMsg)
		} else if d := jsonBody(t, w)["data"].(map[string]any); d["session"] != "session-"+tc.optUser {
			t.Errorf("session id %v", d["session"])
		}
		w = s.do(req{path: "/admin", headers: h})
		if w.Code != tc.adm {
			t.Errorf("%q on /admin: %d %s", tc.auth, w.Code, w.Body.String())
		}
		if tc.adm == 403 {
			wantError(t, w, 403, "You do not have permission to perform this action")
		}
	}
}

func TestRunDrainsInFlightRequests(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.ShutdownTimeout = 5 * time.Second })
	started := make(chan struct{})
	release := make(chan struct{})
	s.Engine().GET("/slow", func(c *gin.Context) {
		close(started)
		<-release
		Data(c, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{body: string(b)}
	}()
	<-started
	cancel()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	default:
	}
	// New connections are refused while draining.
	if _, err := http.Get(url + "/"); err == nil {
		t.Fatal("a new request was accepted during shutdown")
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != `{"data":"done"}` {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after draining")
	}
}

func TestRunBoundedShutdown(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.ShutdownTimeout = 200 * time.Millisecond })
	started := make(chan struct{})
	s.Engine().GET("/stuck", func(c *gin.Context) {
		close(started)
		<-c.Request.Context().Done()
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	go http.Get("http://" + ln.Addr().String() + "/stuck")
	<-started
	cancel()
	select {
	case err := <-served:
		if err == nil {
			t.Fatal("a cut-short shutdown reported success")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown not bounded")
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := New(Config{}, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "verifier") {
		t.Fatalf("no verifier: %v", err)
	}
	iss := clockedIssuer(t, time.Now())
	err := Config{Addr: "nope", PublicURL: "ftp://x", FrontendOrigins: []string{"localhost:3000"}, MaxBodyBytes: 10, RateLimit: RateLimitConfig{MaxClients: -1}, Verifier: iss}.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 4 {
		t.Fatalf("want five joined problems: %v", err)
	}
	if _, err := New(Config{Verifier: iss}, nil); err == nil {
		t.Fatal("nil logger accepted")
	}
}
