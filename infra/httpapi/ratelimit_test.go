package httpapi

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

func TestRateLimit(t *testing.T) {
	s := newTestServer(t, nil)
	auth := s.Engine().Group("/v1/auth", RateLimit("auth", 6, 2))
	auth.POST("/signin", func(c *gin.Context) { NoContent(c) })
	auth.GET("/oauth", func(c *gin.Context) { NoContent(c) })
	s.Engine().GET("/free", func(c *gin.Context) { NoContent(c) })

	a := "10.0.0.1:1234"
	for i := range 2 {
		if w := s.do(req{method: "POST", path: "/v1/auth/signin", remote: a}); w.Code != 204 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	// The group shares one bucket across its routes.
	w := s.do(req{path: "/v1/auth/oauth", remote: a, headers: map[string]string{"Origin": frontend}})
	if w.Code != 429 {
		t.Fatalf("third request: %d", w.Code)
	}
	b := jsonBody(t, w)
	retry, _ := b["retryAfter"].(float64)
	if b["message"] != "Too many requests, please try again later." || len(b) != 2 || retry < 9 || retry > 10 {
		t.Fatalf("429 body %s", w.Body.String())
	}
	if w.Header().Get("Retry-After") != strconv.Itoa(int(retry)) {
		t.Fatalf("Retry-After %q, body %v", w.Header().Get("Retry-After"), retry)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != frontend {
		t.Fatal("429 without CORS headers")
	}
	// Refused requests do not push the next token further away.
	w2 := s.do(req{path: "/v1/auth/oauth", remote: a})
	if r2, _ := jsonBody(t, w2)["retryAfter"].(float64); w2.Code != 429 || r2 > retry {
		t.Fatalf("second refusal: %d retryAfter %v (first %v)", w2.Code, r2, retry)
	}
	// Another client and other routes are not affected.
	if w := s.do(req{method: "POST", path: "/v1/auth/signin", remote: "10.0.0.2:1"}); w.Code != 204 {
		t.Fatalf("other client: %d", w.Code)
	}
	if w := s.do(req{path: "/free", remote: a}); w.Code != 204 {
		t.Fatalf("unlimited route: %d", w.Code)
	}
	// X-Forwarded-For from an untrusted peer is ignored: no dodging by header.
	if w := s.do(req{method: "POST", path: "/v1/auth/signin", remote: a, headers: map[string]string{"X-Forwarded-For": "1.2.3.4"}}); w.Code != 429 {
		t.Fatalf("forged X-Forwarded-For got through: %d", w.Code)
	}
}

func TestRateLimitTrustedProxy(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8"} })
	s.Engine().GET("/x", RateLimit("x", 60, 1), func(c *gin.Context) { NoContent(c) })
	proxy := "10.1.1.1:5555"
	for _, tc := range []struct {
		xff  string
		want int
	}{
		{"203.0.113.1", 204},
		{"203.0.113.1", 429},
		{"203.0.113.2", 204},
		{"203.0.113.2", 429},
	} {
		if w := s.do(req{path: "/x", remote: proxy, headers: map[string]string{"X-Forwarded-For": tc.xff}}); w.Code != tc.want {
			t.Fatalf("client %s: %d, want %d", tc.xff, w.Code, tc.want)
		}
	}
}

func TestRateLimitDisabled(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.RateLimit.Disabled = true })
	s.Engine().GET("/x", RateLimit("x", 1, 1), func(c *gin.Context) { NoContent(c) })
	for range 5 {
		if w := s.do(req{path: "/x"}); w.Code != 204 {
			t.Fatalf("disabled limiter refused: %d", w.Code)
		}
	}
}

// The table of buckets stays bounded however many addresses call.
func TestRateLimitBoundedMemory(t *testing.T) {
	l := &limiter{name: "x", limit: 1, burst: 2, idle: 2 * time.Second, clients: map[string]*client{}}
	now := time.Now()
	for i := range 1000 {
		l.take(fmt.Sprintf("192.0.2.%d", i), now, 100)
		if len(l.clients) > 100 {
			t.Fatalf("%d buckets for max 100", len(l.clients))
		}
	}
	// Idle buckets (full again) are forgotten at the next sweep.
	later := now.Add(time.Minute + time.Second)
	l.take("198.51.100.1", later, 100)
	if len(l.clients) != 1 {
		t.Fatalf("%d buckets after the idle sweep, want 1", len(l.clients))
	}
	// A busy client keeps its (empty) bucket through a sweep.
	l.take("198.51.100.1", later, 100)
	if ok, _ := l.take("198.51.100.1", later, 100); ok {
		t.Fatal("third request within the burst of 2 allowed")
	}
	l.sweep(later.Add(100*time.Millisecond), 100)
	if ok, _ := l.take("198.51.100.1", later.Add(100*time.Millisecond), 100); ok {
		t.Fatal("the sweep reset a non-idle bucket")
	}
}
