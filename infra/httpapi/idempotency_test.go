package httpapi

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/pgtest"
)

func TestIdempotency(t *testing.T) {
	pool := pgtest.New(t)
	s := newTestServer(t, func(c *Config) { c.Pool = pool })
	var calls atomic.Int64
	var mode atomic.Value // "ok", "fail", "panic", "block", "400"
	mode.Store("ok")
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	handler := func(c *gin.Context) {
		n := calls.Add(1)
		switch mode.Load() {
		case "fail":
			Error(c, context.DeadlineExceeded)
			return
		case "panic":
			panic("handler bug")
		case "block":
			entered <- struct{}{}
			<-release
		case "400":
			abortJSON(c, 400, "Payload must have field: title")
			return
		}
		f, err := Fields(c)
		if err != nil {
			Error(c, err)
			return
		}
		title, _ := f.Get("title")
		Written(c, nil, uint64(100+n), nil)
		Data(c, gin.H{"call": n, "title": title, "user": Principal(c).UserID})
	}
	s.Engine().POST("/v1/collection", handler)
	s.Engine().POST("/v1/collection/:id", handler)
	s.Engine().POST("/v1/auth/signin", handler)

	post := func(path, key, body string, extra ...string) *httptest.ResponseRecorder {
		h := map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return s.do(req{method: "POST", path: path, body: strings.NewReader(body), headers: h, remote: "192.0.2.7:1000"})
	}

	t.Run("replay", func(t *testing.T) {
		first := post("/v1/collection", "k1", `{"title":"Mix"}`)
		if first.Code != 200 || first.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("first: %d %s", first.Code, first.Body.String())
		}
		before := calls.Load()
		for range 3 {
			again := post("/v1/collection", "k1", `{"title":"Mix"}`)
			if again.Code != 200 || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) {
				t.Fatalf("replay: %d %s, first %s", again.Code, again.Body.String(), first.Body.String())
			}
			if again.Header().Get("Idempotent-Replayed") != "true" || again.Header().Get("X-Position") != first.Header().Get("X-Position") ||
				again.Header().Get("Content-Type") != first.Header().Get("Content-Type") {
				t.Fatalf("replay headers %v, first %v", again.Header(), first.Header())
			}
			if again.Header().Get("X-Request-Id") == first.Header().Get("X-Request-Id") {
				t.Fatal("a replay reused the first request's id")
			}
		}
		if calls.Load() != before {
			t.Fatal("the handler ran for a replay")
		}
	})

	t.Run("mismatch", func(t *testing.T) {
		post("/v1/collection", "k2", `{"title":"A"}`)
		before := calls.Load()
		wantError(t, post("/v1/collection", "k2", `{"title":"B"}`), 422, "Idempotency-Key reused with a different request")
		wantError(t, post("/v1/collection/x", "k2", `{"title":"A"}`), 422, "Idempotency-Key reused with a different request")
		wantError(t, post("/v1/collection?x=1", "k2", `{"title":"A"}`), 422, "Idempotency-Key reused with a different request")
		if calls.Load() != before {
			t.Fatal("the handler ran for a mismatched key")
		}
	})

	t.Run("scopes", func(t *testing.T) {
		tokA, tokB := s.token(t, "user-a", "User"), s.token(t, "user-b", "User")
		a := post("/v1/collection", "shared", `{"title":"A"}`, "Authorization", "Bearer "+tokA)
		b := post("/v1/collection", "shared", `{"title":"A"}`, "Authorization", "Bearer "+tokB)
		anon := post("/v1/collection", "shared", `{"title":"A"}`)
		if a.Header().Get("Idempotent-Replayed") != "" || b.Header().Get("Idempotent-Replayed") != "" || anon.Header().Get("Idempotent-Replayed") != "" {
			t.Fatal("one caller's key answered another caller")
		}
		if !strings.Contains(b.Body.String(), `"user":"user-b"`) {
			t.Fatalf("user b got %s", b.Body.String())
		}
		if again := post("/v1/collection", "shared", `{"title":"A"}`, "Authorization", "Bearer "+tokA); again.Body.String() != a.Body.String() {
			t.Fatal("user a's replay differs")
		}
	})

	t.Run("4xx is stored", func(t *testing.T) {
		mode.Store("400")
		defer mode.Store("ok")
		first := post("/v1/collection", "k4", `{}`)
		before := calls.Load()
		again := post("/v1/collection", "k4", `{}`)
		if first.Code != 400 || again.Code != 400 || again.Header().Get("Idempotent-Replayed") != "true" || calls.Load() != before {
			t.Fatalf("4xx: %d then %d (%v)", first.Code, again.Code, again.Header())
		}
	})

	t.Run("5xx is not stored", func(t *testing.T) {
		mode.Store("fail")
		wantError(t, post("/v1/collection", "k5", `{"title":"T"}`), 500, "Internal server error")
		mode.Store("ok")
		w := post("/v1/collection", "k5", `{"title":"T"}`)
		if w.Code != 200 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("retry after a 500: %d %v", w.Code, w.Header())
		}
	})

	t.Run("panic is not stored", func(t *testing.T) {
		mode.Store("panic")
		wantError(t, post("/v1/collection", "k6", `{"title":"T"}`), 500, "Internal server error")
		mode.Store("ok")
		if w := post("/v1/collection", "k6", `{"title":"T"}`); w.Code != 200 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("retry after a panic: %d %v", w.Code, w.Header())
		}
	})

	t.Run("concurrent duplicate", func(t *testing.T) {
		mode.Store("block")
		var wg sync.WaitGroup
		var first *httptest.ResponseRecorder
		wg.Add(1)
		go func() {
			defer wg.Done()
			first = post("/v1/collection", "k7", `{"title":"C"}`)
		}()
		<-entered
		wantError(t, post("/v1/collection", "k7", `{"title":"C"}`), 409, "A request with this Idempotency-Key is still in progress")
		// A different body is still a misuse, even in flight.
		wantError(t, post("/v1/collection", "k7", `{"title":"D"}`), 422, "Idempotency-Key reused with a different request")
		mode.Store("ok")
		close(release)
		wg.Wait()
		if first.Code != 200 {
			t.Fatalf("first: %d", first.Code)
		}
		if again := post("/v1/collection", "k7", `{"title":"C"}`); again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
			t.Fatalf("after completion: %s", again.Body.String())
		}
	})

	t.Run("multipart boundary does not matter", func(t *testing.T) {
		form := func() (string, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("title", "Form")
			fw, _ := mw.CreateFormFile("file", "a.png")
			fw.Write([]byte("\x89PNG fake"))
			mw.Close()
			return mw.FormDataContentType(), buf.String()
		}
		ct1, b1 := form()
		ct2, b2 := form()
		if ct1 == ct2 {
			t.Fatal("the two forms share a boundary; the test proves nothing")
		}
		first := post("/v1/collection", "k8", b1, "Content-Type", ct1)
		again := post("/v1/collection", "k8", b2, "Content-Type", ct2)
		if first.Code != 200 || again.Header().Get("Idempotent-Replayed") != "true" || again.Body.String() != first.Body.String() {
			t.Fatalf("multipart retry: %d %s / %s", first.Code, first.Body.String(), again.Body.String())
		}
	})

	t.Run("expiry and abandoned rows", func(t *testing.T) {
		first := post("/v1/collection", "k9", `{"title":"E"}`)
		if _, err := pool.Exec(context.Background(), `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'k9'`); err != nil {
			t.Fatal(err)
		}
		if w := post("/v1/collection", "k9", `{"title":"E"}`); w.Header().Get("Idempotent-Replayed") != "" || w.Body.String() == first.Body.String() {
			t.Fatal("an expired key was replayed")
		}
		// An in-progress row of a crashed process is taken over after a while.
		if _, err := pool.Exec(context.Background(), `INSERT INTO idempotency_keys (scope, key, method, path, request_hash, created_at)
			VALUES ('anon:192.0.2.7', 'k10', 'POST', '/v1/collection', '\x00', now() - interval '10 minutes')`); err != nil {
			t.Fatal(err)
		}
		if w := post("/v1/collection", "k10", `{"title":"E"}`); w.Code != 200 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("abandoned row: %d %s", w.Code, w.Body.String())
		}
		if _, err := pool.Exec(context.Background(), `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'k1'`); err != nil {
			t.Fatal(err)
		}
		n, err := s.PurgeIdempotencyKeys(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("purge: %d, %v", n, err)
		}
	})

	t.Run("not applied", func(t *testing.T) {
		before := calls.Load()
		// Auth answers carry session tokens: never stored.
		post("/v1/auth/signin", "k11", `{"title":"S"}`)
		post("/v1/auth/signin", "k11", `{"title":"S"}`)
		// No key: every request runs.
		post("/v1/collection", "", `{"title":"S"}`)
		post("/v1/collection", "", `{"title":"S"}`)
		if calls.Load() != before+4 {
			t.Fatalf("%d calls, want 4", calls.Load()-before)
		}
		var n int
		pool.QueryRow(context.Background(), `SELECT count(*) FROM idempotency_keys WHERE path LIKE '/v1/auth/%'`).Scan(&n)
		if n != 0 {
			t.Fatal("an auth answer was stored")
		}
		wantError(t, post("/v1/collection", "bad key with spaces", `{}`), 400, "Invalid Idempotency-Key: 1 to 255 printable ASCII characters")
		wantError(t, post("/v1/collection", strings.Repeat("k", 256), `{}`), 400, "Invalid Idempotency-Key: 1 to 255 printable ASCII characters")
	})
}

func TestIdempotencyStoresUnderLoad(t *testing.T) {
	pool := pgtest.New(t)
	s := newTestServer(t, func(c *Config) { c.Pool = pool })
	var calls atomic.Int64
	s.Engine().POST("/x", func(c *gin.Context) {
		time.Sleep(20 * time.Millisecond)
		Data(c, calls.Add(1))
	})
	// Many simultaneous sends of one key: exactly one runs; the others get
	// 409 (still running) or the replay.
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- s.do(req{method: "POST", path: "/x", body: strings.NewReader(`{}`), headers: map[string]string{"Idempotency-Key": "same", "Content-Type": "application/json"}}).Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 && c != 409 {
			t.Fatalf("status %d", c)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times", calls.Load())
	}
}
