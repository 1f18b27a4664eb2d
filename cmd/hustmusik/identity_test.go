package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSignUpAnswersUserAndSessionAtTopLevel(t *testing.T) {
	api := newTestAPI(t, nil)
	r := api.expect(api.do("POST", "/v1/auth/signup", "", map[string]string{
		"email": "Lan@Example.vn", "password": "mat-khau-1", "username": "Lan Nguyễn", "country": "Việt Nam"}), 200)
	m := r.json(t)
	user := m["user"].(map[string]any)
	session := m["session"].(map[string]any)
	if user["aud"] != "authenticated" || user["username"] != "Lan Nguyễn" || user["role"] != "User" || user["email_verified"] != false {
		t.Fatalf("user object: %v", user)
	}
	if _, ok := user["email"]; ok {
		t.Fatal("the auth user object carries no email")
	}
	if exp, _ := session["expires_in"].(float64); exp != 3600 {
		t.Fatalf("expires_in = %v", session["expires_in"])
	}
	if r.header.Get("X-Position") == "" {
		t.Fatal("a write answers with X-Position")
	}
	// Read-your-writes: the profile is there at once.
	me := api.expect(api.do("GET", "/v1/user/me", session["access_token"].(string), nil), 200).json(t)
	data := me["data"].(map[string]any)
	if data["username"] != "Lan Nguyễn" || data["country"] != "Việt Nam" || data["avatarurl"] != "" || data["role"] != "User" {
		t.Fatalf("profile: %v", data)
	}
	if _, ok := data["email"]; ok {
		t.Fatal("a profile carries no email")
	}
}

func TestSignUpFailures(t *testing.T) {
	api := newTestAPI(t, nil)
	api.signUp("minh@example.vn", "Minh")
	for _, tc := range []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"no email", map[string]string{"password": "mat-khau-1"}, 400, "Email is required"},
		{"blank email", map[string]string{"email": "  ", "password": "mat-khau-1"}, 400, "Email is required"},
		{"bad email", map[string]string{"email": "not-an-email", "password": "mat-khau-1"}, 400, "Invalid email address"},
		{"short password", map[string]string{"email": "a@example.vn", "password": "123"}, 400, "Password should be at least 6 characters"},
		{"no password", map[string]string{"email": "a@example.vn"}, 400, "Password is required"},
		{"duplicate email, other case", map[string]string{"email": "MINH@example.vn", "password": "mat-khau-1"}, 409, "User already registered"},
		{"invalid JSON", `{"email": `, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.expect(api.do("POST", "/v1/auth/signup", "", tc.body), tc.status)
			if msg := r.errorMessage(t); tc.msg != "" && msg != tc.msg || msg == "" {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
		})
	}
}

func TestSignUpMultipartReadsNameAndIgnoresNullFile(t *testing.T) {
	api := newTestAPI(t, nil)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("email", "hoa@example.vn")
	w.WriteField("password", "mat-khau-1")
	w.WriteField("name", "Hòa Minzy")
	w.WriteField("file", "null")
	w.Close()
	r := api.expect(api.do("POST", "/v1/auth/signup", "", buf.Bytes(), "Content-Type", w.FormDataContentType()), 200)
	if u := r.json(t)["user"].(map[string]any); u["username"] != "Hòa Minzy" {
		t.Fatalf("username from name: %v", u)
	}
}

func TestSignInSameAnswerForWrongPasswordAndUnknownEmail(t *testing.T) {
	api := newTestAPI(t, nil)
	api.signUp("tung@example.vn", "Sơn Tùng")
	ok := api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "TUNG@example.vn", "password": "mat-khau-1"}), 200)
	accountOf(t, ok)
	wrong := api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "tung@example.vn", "password": "sai-mat-khau"}), 400)
	unknown := api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "nobody@example.vn", "password": "sai-mat-khau"}), 400)
	if string(wrong.body) != string(unknown.body) {
		t.Fatalf("sign-in reveals whether an email exists: %s vs %s", wrong.body, unknown.body)
	}
}

func TestTokensAreVerified(t *testing.T) {
	api := newTestAPI(t, nil)
	acc := api.signUp("an@example.vn", "An")
	parts := strings.Split(acc.access, ".")
	if strings.ContainsAny(parts[1], "-_") {
		t.Fatalf("payload segment %q would break atob", parts[1])
	}
	// The payload decodes as atob would (standard alphabet).
	raw, err := base64.RawStdEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil || claims["sub"] != acc.id || claims["aud"] != "authenticated" {
		t.Fatalf("claims %s: %v", raw, err)
	}

	sig := []byte(parts[2])
	sig[3] ^= 1
	altered := parts[0] + "." + parts[1] + "." + string(sig)
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": acc.id, "role": "Admin", "aud": "authenticated", "iss": "hustmusik",
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix(),
	}).SignedString([]byte(api.cfg.JWTSecret))
	otherKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": acc.id, "role": "Admin", "aud": "authenticated", "iss": "hustmusik",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte("some-other-secret-some-other-secret-xx"))
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."

	for name, tok := range map[string]string{"altered signature": altered, "expired": expired,
		"signed with another key": otherKey, "alg none": none, "garbage": "abc.def.ghi"} {
		t.Run(name, func(t *testing.T) {
			r := api.expect(api.do("GET", "/v1/user/me", tok, nil), 401)
			if r.errorMessage(t) == "" {
				t.Fatal("401 without an error message")
			}
			// On a public route the same token means anonymous.
			api.expect(api.do("GET", "/v1/user", tok, nil), 200)
		})
	}
	api.expect(api.do("GET", "/v1/user/me", "undefined", nil), 401)
	api.expect(api.do("GET", "/v1/user", "undefined", nil), 200)
	api.expect(api.do("GET", "/v1/user/me", "", nil), 401)
}

func TestProfileUpdate(t *testing.T) {
	api := newTestAPI(t, nil)
	acc := api.signUp("ha@example.vn", "Hà")
	r := api.expect(api.do("POST", "/v1/user/me", acc.access, map[string]string{"country": "Việt Nam", "avatarurl": "/img/ha.png"}), 200)
	d := r.json(t)["data"].(map[string]any)
	if d["country"] != "Việt Nam" || d["avatarurl"] != "/img/ha.png" || d["username"] != "Hà" {
		t.Fatalf("update answer: %v", d)
	}
	me := api.expect(api.do("GET", "/v1/user/me", acc.access, nil), 200).json(t)["data"].(map[string]any)
	if me["country"] != "Việt Nam" {
		t.Fatalf("read after write: %v", me)
	}
	if msg := api.expect(api.do("POST", "/v1/user/me", acc.access, map[string]string{}), 400).errorMessage(t); msg != "Payload must have at least one field" {
		t.Fatalf("empty update: %q", msg)
	}
	// A normal user cannot make themselves Admin: the field is ignored.
	api.expect(api.do("POST", "/v1/user/me", acc.access, map[string]string{"role": "Admin"}), 400)
	api.expect(api.do("POST", "/v1/user/me", acc.access, map[string]string{"role": "Admin", "username": "Hà Hồ"}), 200)
	me = api.expect(api.do("GET", "/v1/user/me", acc.access, nil), 200).json(t)["data"].(map[string]any)
	if me["role"] != "User" || me["username"] != "Hà Hồ" {
		t.Fatalf("after role attempt: %v", me)
	}
	api.expect(api.do("POST", "/v1/user/"+acc.id+"/role", acc.access, map[string]string{"role": "Admin"}), 403)
}

func TestAdminChangesRolesAndDeletesUsers(t *testing.T) {
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "boss@hust.vn"})
	boss := api.signUp("boss@hust.vn", "Boss")
	listener := api.signUp("nghe@example.vn", "Người nghe")
	me := api.expect(api.do("GET", "/v1/user/me", boss.access, nil), 200).json(t)["data"].(map[string]any)
	if me["role"] != "Admin" {
		t.Fatalf("ADMIN_EMAILS account role %v", me["role"])
	}
	api.expect(api.do("POST", "/v1/user/"+listener.id+"/role", boss.access, map[string]string{"role": "Emperor"}), 400)
	r := api.expect(api.do("POST", "/v1/user/"+listener.id+"/role", boss.access, map[string]string{"role": "Artist Manager"}), 200)
	if r.json(t)["data"].(map[string]any)["role"] != "Artist Manager" {
		t.Fatalf("set role: %s", r.body)
	}
	got := api.expect(api.do("GET", "/v1/user/"+listener.id, "", nil), 200).json(t)["data"].(map[string]any)
	if got["role"] != "Artist Manager" {
		t.Fatalf("by id after role change: %v", got)
	}
	// The new role is in the next token.
	again := accountOf(t, api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "nghe@example.vn", "password": "mat-khau-1"}), 200))
	if role := claimsOf(t, again.access)["role"]; role != "Artist Manager" {
		t.Fatalf("token role %v", role)
	}

	api.expect(api.do("DELETE", "/v1/user/"+boss.id, listener.access, nil), 403)
	api.expect(api.do("DELETE", "/v1/user/not-a-uuid", boss.access, nil), 400)
	api.expect(api.do("DELETE", "/v1/user/"+listener.id, boss.access, nil), 204)
	if msg := api.expect(api.do("GET", "/v1/user/"+listener.id, "", nil), 404).errorMessage(t); msg != "User does not exist" {
		t.Fatalf("deleted user: %q", msg)
	}
	api.expect(api.do("DELETE", "/v1/user/"+listener.id, boss.access, nil), 404)
	api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "nghe@example.vn", "password": "mat-khau-1"}), 400)
	api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": again.refresh}), 401)
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawStdEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	return m
}

func TestUserListsAndLookups(t *testing.T) {
	api := newTestAPI(t, nil)
	for _, n := range []string{"Mỹ Tâm", "Đen Vâu", "Hồ Ngọc Hà"} {
		api.signUp(strings.ToLower(strings.ReplaceAll(n, " ", ""))+"@example.vn", n)
	}
	r := api.expect(api.do("GET", "/v1/user?page=1&limit=2", "", nil), 200).json(t)
	if r["count"].(float64) != 3 || len(r["data"].([]any)) != 2 {
		t.Fatalf("page 1: %v", r)
	}
	item := r["data"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "username", "role", "avatarurl"} {
		if _, ok := item[k]; !ok {
			t.Fatalf("list item lacks %s: %v", k, item)
		}
	}
	r = api.expect(api.do("GET", "/v1/user?page=2&limit=2", "", nil), 200).json(t)
	if len(r["data"].([]any)) != 1 {
		t.Fatalf("page 2: %v", r)
	}
	r = api.expect(api.do("GET", "/v1/user?page=9", "", nil), 200).json(t)
	if d, ok := r["data"].([]any); !ok || len(d) != 0 {
		t.Fatalf("past the end: data must be [], got %s", r["data"])
	}
	api.expect(api.do("GET", "/v1/user?page=abc", "", nil), 400)
	api.expect(api.do("GET", "/v1/user/12345", "", nil), 400)
	api.expect(api.do("GET", "/v1/user/0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "", nil), 404)
	// No redirect for a trailing slash.
	api.expect(api.do("GET", "/v1/user/", "", nil), 200)
}

func TestRenewRotatesAndDetectsReuse(t *testing.T) {
	api := newTestAPI(t, nil)
	acc := api.signUp("quang@example.vn", "Quang")
	if msg := api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{}), 401).errorMessage(t); msg != "Missing refresh token" {
		t.Fatalf("missing: %q", msg)
	}
	api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": "made-up"}), 401)
	next := accountOf(t, api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": acc.refresh}), 200))
	if next.refresh == acc.refresh || next.id != acc.id {
		t.Fatal("renewal must rotate the refresh token")
	}
	api.expect(api.do("GET", "/v1/user/me", next.access, nil), 200)
	// The old token again: reuse, the whole session family dies.
	api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": acc.refresh}), 401)
	api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": next.refresh}), 401)
}

func TestSignOutRevokesTheSession(t *testing.T) {
	api := newTestAPI(t, nil)
	acc := api.signUp("thu@example.vn", "Thu")
	api.expect(api.do("GET", "/v1/auth/signout", "", nil), 401)
	api.expect(api.do("GET", "/v1/auth/signout", acc.access, nil), 204)
	api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": acc.refresh}), 401)
}

func TestChangeCredentials(t *testing.T) {
	api := newTestAPI(t, nil)
	acc := api.signUp("vy@example.vn", "Vy")
	other := api.signUp("khac@example.vn", "Khác")
	_ = other
	api.expect(api.do("POST", "/v1/auth/credentials", acc.access, map[string]string{"password": "mat-khau-moi"}), 400)
	api.expect(api.do("POST", "/v1/auth/credentials", acc.access, map[string]string{"password": "mat-khau-moi", "current_password": "sai"}), 400)
	api.expect(api.do("POST", "/v1/auth/credentials", acc.access, map[string]string{"email": "khac@example.vn"}), 409)
	api.expect(api.do("POST", "/v1/auth/credentials", acc.access, map[string]string{
		"password": "mat-khau-moi", "current_password": "mat-khau-1", "email": "vy.moi@example.vn"}), 204)
	api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "vy@example.vn", "password": "mat-khau-1"}), 400)
	api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "vy.moi@example.vn", "password": "mat-khau-1"}), 400)
	api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "vy.moi@example.vn", "password": "mat-khau-moi"}), 200)
	// The session the change was made from lives on.
	api.expect(api.do("POST", "/v1/auth/session/renew", "", map[string]string{"refresh_token": acc.refresh}), 200)
}

func TestCORSOnErrorsAndPreflight(t *testing.T) {
	api := newTestAPI(t, map[string]string{"FRONTEND_URL": "http://localhost:3000,https://hustmusik.vn"})
	r := api.do("GET", "/v1/user/me", "", nil, "Origin", "https://hustmusik.vn")
	if r.status != 401 || r.header.Get("Access-Control-Allow-Origin") != "https://hustmusik.vn" {
		t.Fatalf("CORS on 401: %d %v", r.status, r.header)
	}
	r = api.do("OPTIONS", "/v1/auth/signin", "", nil, "Origin", "http://localhost:3000",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,idempotency-key")
	if r.status/100 != 2 || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = api.do("GET", "/", "", nil, "Origin", "https://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS granted to an unknown origin")
	}
	h := api.expect(api.do("GET", "/", "", nil, "Content-Type", "application/json"), 200).json(t)
	if h["msg"] != "Server is healthy" {
		t.Fatalf("health: %v", h)
	}
	if _, err := time.Parse(time.RFC3339, h["last_checked"].(string)); err != nil {
		t.Fatalf("last_checked: %v", err)
	}
	_ = http.StatusOK
}

func TestSignInIsRateLimitedPerIP(t *testing.T) {
	api := newTestAPI(t, map[string]string{"HUSTMUSIK_AUTH_RATE_PER_MINUTE": "6"})
	var last answer
	for i := 0; i < 8; i++ {
		last = api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "x@example.vn", "password": "sai-mat-khau"})
		if last.status == 429 {
			break
		}
		api.expect(last, 400)
	}
	api.expect(last, 429)
	m := last.json(t)
	if m["message"] != "Too many requests, please try again later." || m["retryAfter"] == nil || last.header.Get("Retry-After") == "" {
		t.Fatalf("429 answer: %v %v", m, last.header)
	}
}
