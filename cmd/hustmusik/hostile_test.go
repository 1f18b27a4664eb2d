package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/blob"
	"github.com/hustmusik/backend/infra/blob/localblob"
	"github.com/hustmusik/backend/infra/password"
	"github.com/hustmusik/backend/infra/token"
)

// rawRequest sends a request line exactly as given (no client-side path
// cleaning or escaping) and returns the status and body.
func rawRequest(t *testing.T, base, method, target string) (int, string) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, target, u.Host)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func jwtSign(alg string, secret []byte, header, payload string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	signing := b64([]byte(header)) + "." + b64([]byte(payload))
	var mac []byte
	switch alg {
	case "HS512":
		h := hmac.New(sha512.New, secret)
		h.Write([]byte(signing))
		mac = h.Sum(nil)
	default:
		h := hmac.New(sha256.New, secret)
		h.Write([]byte(signing))
		mac = h.Sum(nil)
	}
	return signing + "." + b64(mac)
}

// TestHostile sends malformed and malicious requests to the whole service:
// each is a clear 4xx with an error message (or, for data that merely
// looks dangerous, is stored and returned verbatim), and the service stays
// healthy.
func TestHostile(t *testing.T) {
	w := newOrderWorld(t, nil)
	api := w.api
	lan := api.signUp("lan@hostile.vn", "Lan")
	artist := api.expect(api.do("POST", "/v1/artist", w.admin.access, map[string]string{"name": "Đen Vâu"}), 200).json(t)["data"].(map[string]any)["id"].(string)
	song := api.expect(api.do("POST", "/v1/song", w.admin.access, map[string]string{"title": "Bài này chill phết", "artists": artist}), 200).json(t)["data"].(map[string]any)["id"].(string)

	clientError := func(name string, r answer, want int) {
		t.Helper()
		if r.status != want {
			t.Errorf("%s: %d, want %d: %.200s", name, r.status, want, r.body)
			return
		}
		if msg := r.errorMessage(t); msg == "" || strings.Contains(strings.ToLower(msg), "sql") || strings.Contains(msg, "pgx") {
			t.Errorf("%s: error message %q", name, msg)
		}
	}

	t.Run("oversized bodies", func(t *testing.T) {
		big := `{"username":"` + strings.Repeat("a", 12<<20) + `"}`
		clientError("12 MiB JSON profile", api.do("POST", "/v1/user/me", lan.access, big), 413)
		clientError("12 MiB sign-up", api.do("POST", "/v1/auth/signup", "", big), 413)
		clientError("12 MiB checkout", api.do("POST", "/v1/order/checkout", lan.access, `{"items":[`+strings.Repeat(`{"itemname":"x","itemprice":1,"itemquantity":1},`, 260000)+`{}]}`), 413)
		// Text fields have their own, far smaller bounds.
		clientError("a 100 kB title", api.do("POST", "/v1/collection", lan.access, map[string]string{"title": strings.Repeat("x", 100_000)}), 400)
	})

	t.Run("deep JSON", func(t *testing.T) {
		deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
		clientError("deep field", api.do("POST", "/v1/collection", lan.access, `{"title":`+deep+`}`), 400)
		clientError("deep items", api.do("POST", "/v1/order/checkout", lan.access, `{"items":`+deep+`}`), 400)
		clientError("deep object body", api.do("POST", "/v1/auth/signin", "", strings.Repeat(`{"a":`, 50_000)+"1"+strings.Repeat("}", 50_000)), 400)
	})

	t.Run("wrong types", func(t *testing.T) {
		clientError("array of artists", api.do("POST", "/v1/song", w.admin.access, map[string]any{"title": "x", "artists": []string{artist}}), 400)
		clientError("object title", api.do("POST", "/v1/collection", lan.access, map[string]any{"title": map[string]any{"$gt": ""}}), 400)
		clientError("items a string", api.do("POST", "/v1/order/checkout", lan.access, map[string]any{"items": "all of them"}), 400)
		clientError("price a word", api.do("POST", "/v1/order/checkout", lan.access, map[string]any{"items": []map[string]any{{"itemname": "x", "itemprice": "free", "itemquantity": 1}}}), 400)
		clientError("body an array", api.do("POST", "/v1/auth/signin", "", `[1,2]`), 400)
		clientError("duration a word", api.do("POST", "/v1/song/"+song, w.admin.access, map[string]any{"duration": "long"}), 400)
		clientError("unknown content type", api.do("POST", "/v1/user/me", lan.access, "username=x", "Content-Type", "text/xml"), 400)
	})

	t.Run("invalid UTF-8", func(t *testing.T) {
		clientError("JSON string", api.do("POST", "/v1/user/me", lan.access, "{\"username\":\"L\xe1n\"}"), 400)
		clientError("urlencoded", api.do("POST", "/v1/user/me", lan.access, "username=L%E1n", "Content-Type", "application/x-www-form-urlencoded"), 400)
		clientError("NUL", api.do("POST", "/v1/user/me", lan.access, `{"username":"a\u0000b"}`), 400)
		// A nested body (DecodeJSON, not Fields): the domain refuses the NUL
		// before PostgreSQL's jsonb would.
		clientError("NUL in an item name", api.do("POST", "/v1/order/checkout", lan.access, `{"items":[{"itemname":"a\u0000b","itemprice":1000,"itemquantity":1}]}`), 400)
		clientError("invalid UTF-8 in an item name", api.do("POST", "/v1/order/checkout", lan.access, "{\"items\":[{\"itemname\":\"a\xffb\",\"itemprice\":1000,\"itemquantity\":1}]}"), 400)
		clientError("search term", api.do("GET", "/v1/search/%ff%fe", "", nil), 400)
		// The fold drops a NUL like any other non-letter: a search for "a b".
		api.expect(api.do("GET", "/v1/search/a%00b/songs", "", nil), 200)
		clientError("NUL in a history cursor", api.do("GET", "/v1/user/me/history?before=2026%00", lan.access, nil), 400)
	})

	t.Run("page numbers", func(t *testing.T) {
		for _, q := range []string{"page=99999999999999999999999&limit=99999999", "page=-5&limit=0", "page=2147483648&limit=50", "page=1000000000"} {
			r := api.expect(api.do("GET", "/v1/song?"+q, "", nil), 200)
			m := r.json(t)
			if data, ok := m["data"].([]any); !ok || m["count"] == nil || (strings.HasPrefix(q, "page=9") && len(data) != 0) {
				t.Errorf("GET /v1/song?%s: %s", q, r.body)
			}
		}
		clientError("page a word", api.do("GET", "/v1/song?page=abc", "", nil), 400)
		clientError("limit a float", api.do("GET", "/v1/user?limit=1.5", "", nil), 400)
	})

	t.Run("SQL-looking strings are data", func(t *testing.T) {
		title := `Robert'); DROP TABLE songs;--`
		desc := `" OR 1=1 -- ; SELECT pg_sleep(10); \x27 %s %n $1`
		r := api.expect(api.do("POST", "/v1/collection", lan.access, map[string]string{"title": title, "description": desc, "type": "Playlist", "visibility": "Public"}), 200)
		id := r.json(t)["data"].(map[string]any)["id"].(string)
		got := api.expect(api.do("GET", "/v1/collection/"+id, "", nil), 200).json(t)["data"].(map[string]any)
		if got["title"] != title || got["description"] != desc {
			t.Errorf("stored %q / %q, read back %q / %q", title, desc, got["title"], got["description"])
		}
		api.expect(api.do("POST", "/v1/user/me", lan.access, map[string]string{"username": "'; DELETE FROM users; --"}), 200)
		for _, term := range []string{"drop%20table", "%27%20OR%201%3D1", "robert'%29%3B"} {
			api.expect(api.do("GET", "/v1/search/"+term, "", nil), 200)
		}
		api.expect(api.do("GET", "/v1/song", "", nil), 200) // the table is still there
	})

	t.Run("path traversal in blob keys", func(t *testing.T) {
		for _, target := range []string{"/blob/../../etc/passwd", "/blob/..%2f..%2f..%2fetc%2fpasswd", "/blob/%2e%2e/%2e%2e/etc/passwd",
			"/blob/audio/..%2F..%2F..%2Fetc%2Fpasswd?method=GET&ct=audio%2Fmpeg&exp=9999999999&sig=" + strings.Repeat("00", 32),
			"/blob/images/../../../../etc/passwd", "/blob/images/%2e%2e%2f%2e%2e%2fsecret", "/blob/..\\..\\etc\\passwd", "/blob//etc/passwd",
			"/blob/images/%252e%252e%252fetc%252fpasswd"} {
			status, body := rawRequest(t, api.url, "GET", target)
			if status < 400 || status > 499 || strings.Contains(body, "root:") {
				t.Errorf("GET %s: %d %.200s", target, status, body)
			}
		}
		// The JWT secret file of the data dir is not reachable either.
		status, body := rawRequest(t, api.url, "GET", "/blob/..%2fjwt_secret")
		if status < 400 || status > 499 || strings.Contains(body, "secret") && status == 200 {
			t.Errorf("data dir reachable: %d %.200s", status, body)
		}
	})

	t.Run("tampered and expired signed URLs", func(t *testing.T) {
		put := api.expect(api.do("GET", "/v1/song/"+song+"/presigned/upload", w.admin.access, nil), 200).json(t)["url"].(string)
		api.expect(api.fetch("PUT", put, mp3Bytes(t, 4096), "Content-Type", "audio/mpeg"), 200)
		get := api.expect(api.do("GET", "/v1/song/"+song+"/presigned/stream", "", nil), 200).json(t)["url"].(string)
		api.expect(api.fetch("GET", get, nil), 200)
		u, _ := url.Parse(get)
		q := u.Query()
		tamper := func(name string, change func(q url.Values, u *url.URL)) {
			t.Helper()
			u2 := *u
			q2 := url.Values{}
			for k, v := range q {
				q2[k] = append([]string(nil), v...)
			}
			change(q2, &u2)
			u2.RawQuery = q2.Encode()
			r := api.fetch("GET", u2.String(), nil)
			if r.status != 403 && r.status != 404 {
				t.Errorf("%s: %d %.200s", name, r.status, r.body)
			}
		}
		tamper("flipped signature", func(q url.Values, _ *url.URL) {
			s := q.Get("sig")
			q.Set("sig", map[bool]string{true: "1", false: "0"}[s[0] == '0']+s[1:])
		})
		tamper("later expiry", func(q url.Values, _ *url.URL) { q.Set("exp", "99999999999") })
		tamper("other content type", func(q url.Values, _ *url.URL) { q.Set("ct", "text/html") })
		tamper("attachment", func(q url.Values, _ *url.URL) { q.Set("disp", "attachment") })
		tamper("PUT method", func(q url.Values, _ *url.URL) { q.Set("method", "PUT") })
		tamper("other key", func(_ url.Values, u *url.URL) { u.Path = strings.Replace(u.Path, song, artist, 1) })
		tamper("no signature", func(q url.Values, _ *url.URL) { q.Del("sig") })
		// A genuine URL that expired: signed with the service's key by a
		// clock two hours behind.
		past, err := localblob.New(localblob.Config{Dir: filepath.Join(t.TempDir(), "blobs"), PublicURL: api.cfg.PublicURL,
			Secret: localblob.DeriveSecret(api.cfg.JWTSecret), Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}, nil)
		if err != nil {
			t.Fatal(err)
		}
		expired, err := past.PresignGet(context.Background(), blob.AudioKey(song), "audio/mpeg", time.Hour, "inline")
		if err != nil {
			t.Fatal(err)
		}
		eu, _ := url.Parse(expired)
		r := api.fetch("GET", api.url+eu.RequestURI(), nil)
		if r.status != 403 || !strings.Contains(string(r.body), "expired") {
			t.Errorf("expired URL: %d %s", r.status, r.body)
		}
	})

	t.Run("tampered, expired and algorithm-confused tokens", func(t *testing.T) {
		secret := []byte(api.cfg.JWTSecret)
		parts := strings.Split(lan.access, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		admin := strings.Replace(string(payload), `"role":"User"`, `"role":"Admin"`, 1)
		b64 := base64.RawURLEncoding.EncodeToString
		now := time.Now()
		old, _ := token.New(token.Config{Secret: secret, Now: func() time.Time { return now.Add(-3 * time.Hour) }})
		expired, _, _ := old.Issue(lan.id, "User", "s")
		claims := fmt.Sprintf(`{"sub":%q,"role":"Admin","aud":"authenticated","iss":"hustmusik","iat":%d,"exp":%d}`, lan.id, now.Unix(), now.Add(time.Hour).Unix())
		cases := map[string]string{
			"role changed in the payload":  parts[0] + "." + b64([]byte(admin)) + "." + parts[2],
			"signature cut":                parts[0] + "." + parts[1] + ".",
			"expired":                      expired,
			"alg none":                     b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(claims)) + ".",
			"alg None":                     b64([]byte(`{"alg":"None"}`)) + "." + b64([]byte(claims)) + ".",
			"RS256 header, HMAC signature": jwtSign("HS256", secret, `{"alg":"RS256","typ":"JWT"}`, claims),
			"HS512 with the right secret":  jwtSign("HS512", secret, `{"alg":"HS512","typ":"JWT"}`, claims),
			"HS256 with another secret":    jwtSign("HS256", []byte("not-the-secret-not-the-secret-012"), `{"alg":"HS256","typ":"JWT"}`, claims),
			"HS256 with an empty secret":   jwtSign("HS256", nil, `{"alg":"HS256","typ":"JWT"}`, claims),
			"garbage":                      "not.a.jwt",
			"four segments":                lan.access + ".x",
		}
		for name, tok := range cases {
			r := api.do("GET", "/v1/user/me", tok, nil)
			clientError(name, r, 401)
			// Admin-only routes refuse it too, and public routes treat it as
			// anonymous (the frontend's contract).
			clientError(name+" on an Admin route", api.do("DELETE", "/v1/user/"+lan.id, tok, nil), 401)
			api.expect(api.do("GET", "/v1/song", tok, nil), 200)
		}
		if msg := api.do("GET", "/v1/user/me", expired, nil).errorMessage(t); msg != "Token expired" {
			t.Errorf("expired token message %q", msg)
		}
		// The account survived every forged Admin token.
		api.expect(api.do("GET", "/v1/user/"+lan.id, "", nil), 200)
	})

	t.Run("bad ids and methods", func(t *testing.T) {
		clientError("malformed id", api.do("GET", "/v1/song/1%20OR%201=1", "", nil), 400)
		clientError("uuid with NUL", api.do("GET", "/v1/collection/00000000-0000-4000-8000-00000000000%00", "", nil), 400)
		clientError("order id", api.do("GET", "/v1/order/..%2f..%2fetc", lan.access, nil), 404)
	})

	health := api.expect(api.do("GET", "/", "", nil), 200).json(t)
	if health["msg"] != "Server is healthy" {
		t.Fatalf("health after the abuse: %v", health)
	}
}

// TestSignInTimingDoesNotRevealAccounts: a wrong password for an existing
// account and any password for an unknown email take about the same time
// (the unknown one spends a dummy hash) and answer the same. With hashes
// this slow (tens of milliseconds), skipping the hash would make the
// unknown email several times faster.
func TestSignInTimingDoesNotRevealAccounts(t *testing.T) {
	api := newTestAPIWithPasswords(t, map[string]string{"HUSTMUSIK_AUTH_RATE_PER_MINUTE": "100000"},
		password.Config{Memory: 16 * 1024, Time: 2, Threads: 1})
	api.signUp("lan@timing.vn", "Lan")
	// Alternate the two, so that a busy machine slows both alike.
	var known, unknown []time.Duration
	bodies := map[string]string{}
	for i := range 15 {
		for _, email := range []string{"lan@timing.vn", "nobody@timing.vn"} {
			start := time.Now()
			r := api.do("POST", "/v1/auth/signin", "", map[string]string{"email": email, "password": "sai-mat-khau"})
			d := time.Since(start)
			if r.status != 400 {
				t.Fatalf("sign-in %s: %d %s", email, r.status, r.body)
			}
			bodies[email] = string(r.body)
			if i < 3 {
				continue // warm-up
			}
			if email == "lan@timing.vn" {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	median := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	knownBody, unknownBody := bodies["lan@timing.vn"], bodies["nobody@timing.vn"]
	knownMedian, unknownMedian := median(known), median(unknown)
	t.Logf("median sign-in: known email %s, unknown email %s", knownMedian, unknownMedian)
	if knownBody != unknownBody {
		t.Errorf("answers differ: %s / %s", knownBody, unknownBody)
	}
	if ratio := float64(unknownMedian) / float64(knownMedian); ratio < 0.6 || ratio > 1.67 {
		t.Errorf("unknown email %s vs known %s: the timing tells them apart", unknownMedian, knownMedian)
	}
}
