package google_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/google"
	"github.com/hustmusik/backend/infra/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testState = "state-0123456789-0123456789-0123456789-abcdef"

func TestStatesAreSingleUse(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	s, err := google.NewStates(pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, testState, "the-verifier", "the-nonce", "/playlist/1"); err != nil {
		t.Fatal(err)
	}
	// What is stored is neither the state nor the verifier or nonce in clear.
	var id, sealed []byte
	if err := pool.QueryRow(ctx, `SELECT id, sealed FROM oauth_states`).Scan(&id, &sealed); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testState, "the-verifier", "the-nonce"} {
		if bytes.Contains(id, []byte(secret)) || bytes.Contains(sealed, []byte(secret)) {
			t.Fatalf("%q is stored in clear", secret)
		}
	}
	if _, _, _, err := s.Consume(ctx, testState+"x"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("another state: %v", err)
	}
	v, n, r, err := s.Consume(ctx, testState)
	if err != nil || v != "the-verifier" || n != "the-nonce" || r != "/playlist/1" {
		t.Fatalf("consume: %q %q %q %v", v, n, r, err)
	}
	if _, _, _, err := s.Consume(ctx, testState); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
	if err := s.Save(ctx, "short", "v", "n", ""); err == nil {
		t.Fatal("a short state was accepted")
	}
	if _, _, _, err := s.Consume(ctx, ""); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("empty state: %v", err)
	}
}

func TestStatesExpire(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	s, err := google.NewStates(pool, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	old := testState + "-old"
	for _, st := range []string{testState, old} {
		if err := s.Save(ctx, st, "v", "n", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE oauth_states SET created_at = now() - interval '11 minutes'`); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.Consume(ctx, testState); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("expired state: %v", err)
	}
	// A new Save sweeps expired rows.
	if err := s.Save(ctx, testState+"-new", "v", "n", ""); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM oauth_states`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows after the sweep (%v), want 1", n, err)
	}
}

func TestStatesRaceOneWinner(t *testing.T) {
	ctx := context.Background()
	s, err := google.NewStates(pgtest.New(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, testState, "v", "n", ""); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			if _, _, _, err := s.Consume(ctx, testState); err == nil {
				wins.Add(1)
			}
		}()
	}
	for range 8 {
		<-done
	}
	if wins.Load() != 1 {
		t.Fatalf("%d callbacks used one state", wins.Load())
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := google.New(google.Config{Issuer: "not a url", RedirectURL: "/relative"}, nil)
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"client id", "issuer", "redirect URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// provider runs a local OpenID Connect provider and counts discovery requests.
func provider(t *testing.T) (*mockoidc.MockOIDC, *atomic.Int32) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var discoveries atomic.Int32
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.DiscoveryEndpoint {
				discoveries.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m, &discoveries
}

// codeFor runs /authorize as a browser would and returns the code.
func codeFor(t *testing.T, authURL string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func TestExchangeVerifiesNonceAndVerifier(t *testing.T) {
	ctx := context.Background()
	m, discoveries := provider(t)
	c, err := google.New(google.Config{ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer(),
		RedirectURL: "http://api.test/v1/auth/oauth/callback"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if discoveries.Load() != 0 {
		t.Fatal("New reached the network")
	}
	verifier := strings.Repeat("v", 43)
	auth, err := c.AuthURL(ctx, testState, "nonce-1", verifier)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Exchange(ctx, codeFor(t, auth), verifier, "nonce-1")
	if err != nil {
		t.Fatal(err)
	}
	def := mockoidc.DefaultUser()
	if id.Subject != def.Subject || id.Email != def.Email || !id.EmailVerified {
		t.Fatalf("identity %+v", id)
	}

	auth, _ = c.AuthURL(ctx, testState, "nonce-2", verifier)
	if _, err := c.Exchange(ctx, codeFor(t, auth), verifier, "nonce-other"); !errors.Is(err, google.ErrInvalidToken) {
		t.Fatalf("another nonce: %v", err)
	}
	auth, _ = c.AuthURL(ctx, testState, "nonce-3", verifier)
	code := codeFor(t, auth)
	_, err = c.Exchange(ctx, code, strings.Repeat("w", 43), "nonce-3")
	if !errors.Is(err, google.ErrExchange) {
		t.Fatalf("wrong PKCE verifier: %v", err)
	}
	if strings.Contains(err.Error(), code) {
		t.Fatalf("the error text carries the code: %v", err)
	}
	if n := discoveries.Load(); n != 1 {
		t.Fatalf("%d discoveries, want 1 (cached)", n)
	}
}

func TestDiscoveryFailureIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := google.New(google.Config{ClientID: "id", ClientSecret: "s", Issuer: "http://" + addr + mockoidc.IssuerBase,
		RedirectURL: "http://api.test/cb"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthURL(context.Background(), testState, "n", "v"); !errors.Is(err, google.ErrDiscovery) {
		t.Fatalf("unreachable issuer: %v", err)
	}
	if _, err := c.Exchange(context.Background(), "code", "v", "n"); !errors.Is(err, google.ErrDiscovery) {
		t.Fatalf("unreachable issuer: %v", err)
	}
	// The issuer comes up on that address: the failure was not cached.
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port was taken meanwhile: %v", err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	u, err := c.AuthURL(context.Background(), testState, "n", "v")
	if err != nil || !strings.HasPrefix(u, m.AuthorizationEndpoint()+"?") {
		t.Fatalf("after the issuer came up: %q %v", u, err)
	}
}
