package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// The tests below drive Google sign-in like a browser would, against a
// local OpenID Connect provider (mockoidc): it publishes its keys, issues
// RS256 ID tokens, checks the client secret, the code (single use) and the
// PKCE verifier against the challenge.

const (
	googlePublicURL = "http://api.hustmusik.test" // where the provider sends the browser back
	googleFrontend  = "http://app.hustmusik.test"
)

// googleUser is an account at the provider, with the claims Google sends.
type googleUser struct {
	sub, email, name string
	verified         bool
}

func (u googleUser) ID() string { return u.sub }

func (u googleUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.sub, "email": u.email, "name": u.name})
}

func (u googleUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &struct {
		*mockoidc.IDTokenClaims
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name,omitempty"`
	}{base, u.email, u.verified, u.name}, nil
}

// googleProviderFake is a running provider plus what it saw.
type googleProviderFake struct {
	*mockoidc.MockOIDC
	mu         sync.Mutex
	authorizes []url.Values // query of every /authorize request
	tokenForms []url.Values // form of every /token request
	// tokenClient, when set, replaces the client_id of token requests.
	tokenClient string
}

// startGoogleProvider runs a provider; with foreignKeys it publishes keys
// other than the one it signs with (a token "signed by an unknown key").
func startGoogleProvider(t *testing.T, foreignKeys bool) *googleProviderFake {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &googleProviderFake{MockOIDC: m}
	other, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case mockoidc.AuthorizationEndpoint:
				p.mu.Lock()
				p.authorizes = append(p.authorizes, r.URL.Query())
				p.mu.Unlock()
			case mockoidc.TokenEndpoint:
				r.ParseForm()
				p.mu.Lock()
				p.tokenForms = append(p.tokenForms, r.PostForm)
				if p.tokenClient != "" {
					r.Form.Set("client_id", p.tokenClient)
				}
				p.mu.Unlock()
			case mockoidc.JWKSEndpoint:
				if foreignKeys {
					raw, _ := other.JWKS()
					w.Header().Set("Content-Type", "application/json")
					w.Write(raw)
					return
				}
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
	return p
}

func (p *googleProviderFake) env(extra map[string]string) map[string]string {
	cfg := p.Config()
	env := map[string]string{
		"GOOGLE_CLIENT_ID": cfg.ClientID, "GOOGLE_CLIENT_SECRET": cfg.ClientSecret, "GOOGLE_ISSUER": cfg.Issuer,
		"PUBLIC_URL": googlePublicURL, "FRONTEND_URL": googleFrontend + ",http://localhost:3000",
		"HUSTMUSIK_AUTH_RATE_PER_MINUTE": "100000",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

var noRedirects = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// startGoogle is GET /v1/auth/oauth: the authorize URL.
func (api *testAPI) startGoogle(returnURL string) *url.URL {
	api.t.Helper()
	path := "/v1/auth/oauth"
	if returnURL != "" {
		path += "?returnUrl=" + url.QueryEscape(returnURL)
	}
	r := api.expect(api.do("GET", path, "", nil), 200)
	m := r.json(api.t)
	if len(m) != 1 {
		api.t.Fatalf("answer is not the unwrapped {\"url\"}: %s", r.body)
	}
	raw, _ := m["url"].(string)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		api.t.Fatalf("url %q: %v", raw, err)
	}
	return u
}

// authorize follows the authorize URL at the provider (which approves at
// once) and returns the callback path + query it sends the browser to.
func (api *testAPI) authorize(u *url.URL) string {
	api.t.Helper()
	res, err := noRedirects.Get(u.String())
	if err != nil {
		api.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		api.t.Fatalf("provider authorize: %d %s", res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	prefix := googlePublicURL + "/v1/auth/oauth/callback?"
	if !strings.HasPrefix(loc, prefix) {
		api.t.Fatalf("provider redirects to %q, want the callback %q", loc, prefix)
	}
	return strings.TrimPrefix(loc, googlePublicURL)
}

// callback calls the service's callback (as the browser would, without
// following its redirect) and returns the /login URL it redirects to.
func (api *testAPI) callback(pathAndQuery string) *url.URL {
	api.t.Helper()
	r := api.expect(api.do("GET", pathAndQuery, "", nil), http.StatusFound)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		api.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != googleFrontend+"/login" {
		api.t.Fatalf("callback redirects to %q, want %s/login", r.header.Get("Location"), googleFrontend)
	}
	return loc
}

// googleSession is what the /login page reads from the fragment.
type googleSession struct {
	access, refresh, expiresIn, returnURL string
	userID                                string
}

func sessionOf(t *testing.T, loc *url.URL) googleSession {
	t.Helper()
	if e := loc.Query().Get("error"); e != "" {
		t.Fatalf("sign-in failed: error=%s", e)
	}
	if loc.RawQuery != "" {
		t.Fatalf("the session must not ride in the query: %s", loc)
	}
	f, err := url.ParseQuery(loc.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	s := googleSession{access: f.Get("access_token"), refresh: f.Get("refresh_token"), expiresIn: f.Get("expires_in"),
		returnURL: f.Get("returnUrl")}
	if s.access == "" || s.refresh == "" || s.expiresIn != "3600" || f.Get("token_type") != "bearer" {
		t.Fatalf("fragment %q lacks the session", loc.Fragment)
	}
	s.userID, _ = claimsOf(t, s.access)["sub"].(string)
	return s
}

func failureOf(t *testing.T, loc *url.URL) string {
	t.Helper()
	if loc.Fragment != "" {
		t.Fatalf("a failed sign-in carries a session: %s", loc)
	}
	return loc.Query().Get("error")
}

// googleSignIn is the whole flow for user.
func (api *testAPI) googleSignIn(p *googleProviderFake, user googleUser, returnURL string) googleSession {
	api.t.Helper()
	p.QueueUser(user)
	return sessionOf(api.t, api.callback(api.authorize(api.startGoogle(returnURL))))
}

func (api *testAPI) count(sql string, args ...any) int {
	api.t.Helper()
	var n int
	if err := api.app.env.pool.QueryRow(api.t.Context(), sql, args...).Scan(&n); err != nil {
		api.t.Fatal(err)
	}
	return n
}

func TestGoogleNewUserThenReturningUser(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(nil))
	lan := googleUser{sub: "google-sub-lan", email: "Lan.Nguyen@Gmail.com", name: "  Lan   Nguyễn ", verified: true}

	u := api.startGoogle("")
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": p.ClientID,
		"redirect_uri": googlePublicURL + "/v1/auth/oauth/callback", "scope": "openid email profile",
		"code_challenge_method": "S256"} {
		if q.Get(k) != want {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("state")) < 32 || len(q.Get("nonce")) < 32 || len(q.Get("code_challenge")) != 43 {
		t.Fatalf("state, nonce and challenge must be long random values: %v", q)
	}
	if again := api.startGoogle("").Query(); again.Get("state") == q.Get("state") || again.Get("nonce") == q.Get("nonce") {
		t.Fatal("two sign-ins share a state or nonce")
	}

	p.QueueUser(lan)
	first := sessionOf(t, api.callback(api.authorize(u)))
	// The provider received the verifier of the challenge (it checks it) and our secret.
	p.mu.Lock()
	form := p.tokenForms[len(p.tokenForms)-1]
	p.mu.Unlock()
	if len(form.Get("code_verifier")) < 43 || form.Get("client_secret") != p.ClientSecret {
		t.Fatalf("token request: %v", form)
	}

	me := api.expect(api.do("GET", "/v1/user/me", first.access, nil), 200).json(t)["data"].(map[string]any)
	if me["id"] != first.userID || me["username"] != "Lan Nguyễn" || me["role"] != "User" {
		t.Fatalf("new Google user: %v", me)
	}
	if n := api.count(`SELECT count(*) FROM events WHERE event_type = 'UserRegistered' AND data->>'method' = 'google'`); n != 1 {
		t.Fatalf("UserRegistered (google) events: %d", n)
	}
	var hash *string
	var verified bool
	var email string
	if err := api.app.env.pool.QueryRow(t.Context(), `SELECT email, password_hash, email_verified FROM credentials WHERE google_sub = $1`,
		lan.sub).Scan(&email, &hash, &verified); err != nil {
		t.Fatal(err)
	}
	if email != "lan.nguyen@gmail.com" || hash != nil || !verified {
		t.Fatalf("credentials: email %q, password %v, verified %v", email, hash, verified)
	}
	if n := api.count(`SELECT count(*) FROM events WHERE data::text ILIKE '%gmail%' OR data::text LIKE '%google-sub%'`); n != 0 {
		t.Fatal("the email or the Google subject reached the event log")
	}
	// A Google-only account has no password: sign-in answers the generic error.
	r := api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": lan.email, "password": "anything-1"}), 400)
	if r.errorMessage(t) != "Invalid login credentials" {
		t.Fatalf("password sign-in of a Google account: %s", r.body)
	}
	// The refresh token works like any other.
	accountOf(t, api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": first.refresh}), 200))

	// Returning: same account, even with another name and email letter case; nothing new in the log.
	lan.name, lan.email = "Someone Else", "lan.nguyen@gmail.com"
	second := api.googleSignIn(p, lan, "")
	if second.userID != first.userID || second.access == first.access {
		t.Fatalf("returning user got %s, want %s with a new session", second.userID, first.userID)
	}
	if n := api.count(`SELECT count(*) FROM events WHERE event_type = 'UserRegistered'`); n != 1 {
		t.Fatalf("a returning sign-in registered again: %d UserRegistered", n)
	}
	api.expect(api.do("GET", "/v1/user/me", second.access, nil), 200)
}

func TestGoogleUsernameWithoutNameAndAdminEmails(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(map[string]string{"ADMIN_EMAILS": "boss@hust.edu.vn"}))
	s := api.googleSignIn(p, googleUser{sub: "sub-boss", email: "boss@hust.edu.vn", verified: true}, "")
	me := api.expect(api.do("GET", "/v1/user/me", s.access, nil), 200).json(t)["data"].(map[string]any)
	name, _ := me["username"].(string)
	if name != "listener-"+s.userID[:8] || strings.Contains(name, "boss") {
		t.Fatalf("username %q: want listener-<id prefix>, never the email", name)
	}
	if me["role"] != "Admin" || claimsOf(t, s.access)["role"] != "Admin" {
		t.Fatalf("ADMIN_EMAILS Google account: %v", me)
	}
}

func TestGoogleLinksExistingPasswordAccount(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(nil))
	acc := api.signUp("minh@example.vn", "Minh")
	users := api.count(`SELECT count(*) FROM credentials`)

	s := api.googleSignIn(p, googleUser{sub: "sub-minh", email: "MINH@example.vn", name: "Minh Google", verified: true}, "")
	if s.userID != acc.id {
		t.Fatalf("linking made another account %s, want %s", s.userID, acc.id)
	}
	if api.count(`SELECT count(*) FROM credentials`) != users || api.count(`SELECT count(*) FROM events WHERE event_type = 'UserRegistered'`) != 1 {
		t.Fatal("linking created an account")
	}
	if n := api.count(`SELECT count(*) FROM credentials WHERE user_id = $1 AND google_sub = 'sub-minh' AND email_verified`, acc.id); n != 1 {
		t.Fatal("the Google subject was not linked")
	}
	me := api.expect(api.do("GET", "/v1/user/me", s.access, nil), 200).json(t)["data"].(map[string]any)
	if me["username"] != "Minh" {
		t.Fatalf("linking changed the profile: %v", me)
	}
	// Nobody had proved owning the email before Google did, so the password
	// (maybe set by someone who registered another person's address) and its
	// sessions end; Google works, and the owner may set a new password.
	api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "minh@example.vn", "password": "mat-khau-1"}), 400)
	api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": acc.refresh}), 401)
	api.expect(api.do("POST", "/v1/auth/credentials", s.access, map[string]string{"password": "mat-khau-moi"}), 204)
	again := accountOf(t, api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "minh@example.vn", "password": "mat-khau-moi"}), 200))
	if again.id != acc.id {
		t.Fatal("password sign-in after setting a new password")
	}
	if s2 := api.googleSignIn(p, googleUser{sub: "sub-minh", email: "minh@example.vn", verified: true}, ""); s2.userID != acc.id {
		t.Fatal("second Google sign-in after linking")
	}
	// Another Google account claiming the same email cannot take it over.
	p.QueueUser(googleUser{sub: "sub-intruder", email: "minh@example.vn", verified: true})
	if reason := failureOf(t, api.callback(api.authorize(api.startGoogle("")))); reason != "account_conflict" {
		t.Fatalf("second subject for a linked account: error=%q", reason)
	}
}

func TestGoogleUnverifiedEmailNeitherLinksNorCreates(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(nil))
	acc := api.signUp("victim@example.vn", "Victim")
	for _, u := range []googleUser{
		{sub: "sub-attacker", email: "victim@example.vn", name: "Attacker", verified: false},
		{sub: "sub-new", email: "new@example.vn", verified: false},
	} {
		p.QueueUser(u)
		if reason := failureOf(t, api.callback(api.authorize(api.startGoogle("")))); reason != "email_not_verified" {
			t.Fatalf("%s: error=%q, want email_not_verified", u.email, reason)
		}
	}
	if n := api.count(`SELECT count(*) FROM credentials WHERE google_sub IS NOT NULL`); n != 0 {
		t.Fatal("an unverified email linked or created an account")
	}
	if n := api.count(`SELECT count(*) FROM credentials`); n != 1 {
		t.Fatalf("%d accounts, want only %s", n, acc.id)
	}
}

func TestGoogleStateAndCodeAreSingleUse(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(nil))
	p.QueueUser(googleUser{sub: "sub-ha", email: "ha@example.vn", name: "Hà", verified: true})
	cb := api.authorize(api.startGoogle(""))
	sessionOf(t, api.callback(cb))

	// The same callback again: the state is used up.
	if reason := failureOf(t, api.callback(cb)); reason != "invalid_state" {
		t.Fatalf("replayed state: error=%q", reason)
	}
	// The used code with a fresh state: the provider refuses the code (and
	// the fresh state's verifier is not the one the code was issued for).
	code := mustQuery(t, cb).Get("code")
	fresh := api.startGoogle("").Query().Get("state")
	replay := "/v1/auth/oauth/callback?" + url.Values{"code": {code}, "state": {fresh}}.Encode()
	if reason := failureOf(t, api.callback(replay)); reason != "exchange_failed" {
		t.Fatalf("replayed code: error=%q", reason)
	}
	// Made-up, missing and stolen-from-another-flow states.
	for name, q := range map[string]url.Values{
		"unknown state": {"code": {"x"}, "state": {strings.Repeat("A", 43)}},
		"no state":      {"code": {"x"}},
		"short state":   {"code": {"x"}, "state": {"abc"}},
	} {
		if reason := failureOf(t, api.callback("/v1/auth/oauth/callback?"+q.Encode())); reason != "invalid_state" {
			t.Fatalf("%s: error=%q", name, reason)
		}
	}
	// Trailing slash, no redirect.
	if reason := failureOf(t, api.callback("/v1/auth/oauth/callback/?state=nope")); reason != "invalid_state" {
		t.Fatalf("trailing slash: error=%q", reason)
	}
}

func TestGoogleAccessDeniedBurnsTheState(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(nil))
	p.QueueUser(googleUser{sub: "sub-x", email: "x@example.vn", verified: true})
	cb := api.authorize(api.startGoogle(""))
	state := mustQuery(t, cb).Get("state")
	denied := "/v1/auth/oauth/callback?" + url.Values{"error": {"access_denied"}, "state": {state}}.Encode()
	if reason := failureOf(t, api.callback(denied)); reason != "access_denied" {
		t.Fatalf("access denied: error=%q", reason)
	}
	if reason := failureOf(t, api.callback(cb)); reason != "invalid_state" {
		t.Fatalf("the refused sign-in's state still works: error=%q", reason)
	}
}

func TestGoogleTokenSignedByUnknownKeyIsRefused(t *testing.T) {
	p := startGoogleProvider(t, true)
	api := newTestAPI(t, p.env(nil))
	p.QueueUser(googleUser{sub: "sub-y", email: "y@example.vn", verified: true})
	if reason := failureOf(t, api.callback(api.authorize(api.startGoogle("")))); reason != "invalid_token" {
		t.Fatalf("foreign key: error=%q", reason)
	}
	if n := api.count(`SELECT count(*) FROM credentials`); n != 0 {
		t.Fatal("an unverifiable token made an account")
	}
}

func TestGoogleTokenForAnotherClientIsRefused(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(nil))
	p.QueueUser(googleUser{sub: "sub-z", email: "z@example.vn", verified: true})
	cb := api.authorize(api.startGoogle(""))
	// From here the provider mints the ID token for another client (its aud
	// is someone else's client id), properly signed, issuer and nonce right.
	p.mu.Lock()
	p.ClientID, p.tokenClient = "someone-elses-client", "someone-elses-client"
	p.mu.Unlock()
	if reason := failureOf(t, api.callback(cb)); reason != "invalid_token" {
		t.Fatalf("token for another audience: error=%q", reason)
	}
}

func TestGoogleReturnURL(t *testing.T) {
	p := startGoogleProvider(t, false)
	api := newTestAPI(t, p.env(nil))
	user := googleUser{sub: "sub-r", email: "r@example.vn", verified: true}
	for _, tc := range []struct{ in, want string }{
		{"/playlist/42?tab=songs", "/playlist/42?tab=songs"},
		{googleFrontend + "/artist/7", googleFrontend + "/artist/7"},
		{"http://localhost:3000/x", "http://localhost:3000/x"},
		{"https://evil.example/steal", ""},
		{"//evil.example/steal", ""},
		{"/\\evil.example", ""},
		{"javascript:alert(1)", ""},
		{"http://app.hustmusik.test.evil.example/", ""},
	} {
		if got := api.googleSignIn(p, user, tc.in).returnURL; got != tc.want {
			t.Errorf("returnUrl %q came back as %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGoogleNotConfigured(t *testing.T) {
	api := newTestAPI(t, map[string]string{"FRONTEND_URL": googleFrontend})
	for _, path := range []string{"/v1/auth/oauth", "/v1/auth/oauth/", "/v1/auth/oauth?returnUrl=/x"} {
		r := api.expect(api.do("GET", path, "", nil), 503)
		if msg := r.errorMessage(t); msg != "Google sign-in is not configured" {
			t.Fatalf("%s: %q", path, msg)
		}
	}
	if reason := failureOf(t, api.callback("/v1/auth/oauth/callback?code=x&state=y")); reason != "not_configured" {
		t.Fatalf("callback: error=%q", reason)
	}
}

func TestGoogleIssuerUnreachableStillStarts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	// The service starts without reaching the issuer: discovery is lazy.
	api := newTestAPI(t, map[string]string{"GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "secret",
		"GOOGLE_ISSUER": dead, "FRONTEND_URL": googleFrontend})
	r := api.expect(api.do("GET", "/v1/auth/oauth", "", nil), 503)
	if msg := r.errorMessage(t); msg != "Google sign-in is unavailable, please try again later" {
		t.Fatalf("unreachable issuer: %q", msg)
	}
	if n := api.count(`SELECT count(*) FROM oauth_states`); n != 0 {
		t.Fatal("a state was kept for a sign-in that could not start")
	}
	api.expect(api.do("GET", "/v1/user", "", nil), 200)
}

func mustQuery(t *testing.T, pathAndQuery string) url.Values {
	t.Helper()
	u, err := url.Parse(pathAndQuery)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
