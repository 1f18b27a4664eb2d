package httpapi

import (
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestRateLimitUser: one account is limited however many addresses it
// uses; another account and anonymous callers are not affected.
func TestRateLimitUser(t *testing.T) {
	s := newTestServer(t, nil)
	s.Engine().POST("/checkout", RequireUser(), RateLimitUser("checkout", 6, 2), func(c *gin.Context) { NoContent(c) })
	s.Engine().GET("/open", RateLimitUser("open", 6, 1), func(c *gin.Context) { NoContent(c) })
	lan, minh := s.token(t, "u-lan", "User"), s.token(t, "u-minh", "User")
	for i, remote := range []string{"10.0.0.1:1", "10.0.0.2:1"} {
		if w := s.do(req{method: "POST", path: "/checkout", remote: remote, headers: map[string]string{"Authorization": "Bearer " + lan}}); w.Code != 204 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := s.do(req{method: "POST", path: "/checkout", remote: "10.0.0.3:1", headers: map[string]string{"Authorization": "Bearer " + lan}})
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("third request of one user from a third address: %d", w.Code)
	}
	if w := s.do(req{method: "POST", path: "/checkout", remote: "10.0.0.3:1", headers: map[string]string{"Authorization": "Bearer " + minh}}); w.Code != 204 {
		t.Fatalf("another user: %d", w.Code)
	}
	for i := range 3 {
		if w := s.do(req{path: "/open", remote: "10.0.0.1:1"}); w.Code != 204 {
			t.Fatalf("anonymous request %d: %d", i, w.Code)
		}
	}
}

// TestRateLimitField: sign-ins for one email share a bucket across
// addresses and letter cases; the handler still reads the body.
func TestRateLimitField(t *testing.T) {
	s := newTestServer(t, nil)
	s.Engine().POST("/signin", RateLimitField("signin", "email", 6, 2), func(c *gin.Context) {
		f, err := Fields(c)
		if err != nil {
			Error(c, err)
			return
		}
		email, _ := f.Get("email")
		Data(c, email)
	})
	send := func(email, remote string) int {
		return s.do(req{method: "POST", path: "/signin", remote: remote, body: strings.NewReader(`{"email":"` + email + `","password":"x"}`),
			headers: map[string]string{"Content-Type": "application/json"}}).Code
	}
	if send("lan@example.vn", "10.0.0.1:1") != 200 || send("LAN@example.vn ", "10.0.0.2:1") != 200 {
		t.Fatal("first two sign-ins refused")
	}
	if c := send("Lan@Example.vn", "10.0.0.3:1"); c != 429 {
		t.Fatalf("third sign-in for one email: %d", c)
	}
	if c := send("minh@example.vn", "10.0.0.3:1"); c != 200 {
		t.Fatalf("another email: %d", c)
	}
	// A malformed body is the handler's to answer, not the limiter's.
	w := s.do(req{method: "POST", path: "/signin", body: strings.NewReader(`{"email":`), headers: map[string]string{"Content-Type": "application/json"}})
	if w.Code != 400 {
		t.Fatalf("malformed body: %d", w.Code)
	}
}
