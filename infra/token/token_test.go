package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hustmusik/backend/domain"
)

var secret = []byte("0123456789abcdef0123456789abcdef-test-secret")

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newIssuer(t *testing.T, c *clock) *Issuer {
	t.Helper()
	cfg := Config{Secret: secret}
	if c != nil {
		cfg.Now = c.now
	}
	i, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	i := newIssuer(t, c)
	tok, expiresIn, err := i.Issue("7b0c1a9e-5d1c-4b7e-9d3a-2f7e8a6b9c01", "Artist Manager", "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	if expiresIn != 3600 {
		t.Fatalf("expiresIn = %d, want 3600", expiresIn)
	}
	got, err := i.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{UserID: "7b0c1a9e-5d1c-4b7e-9d3a-2f7e8a6b9c01", Role: domain.RoleArtistManager, SessionID: "sess-1",
		IssuedAt: c.t, ExpiresAt: c.t.Add(time.Hour)}
	if !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("times = %v, %v", got.IssuedAt, got.ExpiresAt)
	}
	got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("claims = %+v, want %+v", got, want)
	}

	// The payload carries exactly the documented claims.
	var payload map[string]any
	if err := json.Unmarshal(atob(t, strings.Split(tok, ".")[1]), &payload); err != nil {
		t.Fatal(err)
	}
	wantPayload := map[string]any{"sub": want.UserID, "role": "Artist Manager", "aud": "authenticated", "iss": "hustmusik",
		"session_id": "sess-1", "iat": float64(c.t.Unix()), "exp": float64(c.t.Unix() + 3600)}
	if len(payload) != len(wantPayload) {
		t.Fatalf("payload = %v", payload)
	}
	for k, v := range wantPayload {
		if payload[k] != v {
			t.Errorf("payload[%s] = %v, want %v", k, payload[k], v)
		}
	}

	// A token from another library with the same claims verifies too: our
	// hand-written payload is ordinary JWT.
	std := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u", "role": "Admin", "aud": []string{"authenticated"},
		"iss": "hustmusik", "iat": c.t.Unix(), "exp": c.t.Add(time.Minute).Unix()})
	raw, _ := std.SignedString(secret)
	if cl, err := i.Verify(raw); err != nil || cl.Role != domain.RoleAdmin || cl.UserID != "u" {
		t.Fatalf("standard token: %+v, %v", cl, err)
	}
}

// atob decodes like the browser: standard alphabet, '=' padding optional,
// '-' and '_' rejected.
func atob(t testing.TB, seg string) []byte {
	t.Helper()
	if strings.ContainsAny(seg, "-_") {
		t.Fatalf("payload segment %q contains '-' or '_': atob would throw", seg)
	}
	b, err := base64.RawStdEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("atob(%q): %v", seg, err)
	}
	return b
}

func TestPayloadIsAtobSafe(t *testing.T) {
	i := newIssuer(t, nil)
	r := mrand.New(mrand.NewPCG(1, 2))
	// Alphabets rich in the bytes that make sextets 62/63, plus non-ASCII.
	pieces := []string{">", "?", "~", "\x7f", "a", "Z", "0", "-", "_", " ", "\"", "\\", "<", "&", "é", "Đ", "😀", "\x01", "\xff", "/", "o", "O"}
	randString := func() string {
		var sb strings.Builder
		for range r.IntN(40) {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		return sb.String()
	}
	roles := []string{"User", "Artist Manager", "Admin", "Auditor"}
	for n := range 10000 {
		id, role, sess := randString(), randString(), randString()
		if n%2 == 0 {
			id, role = randUUID(r), roles[r.IntN(len(roles))]
		}
		if id == "" {
			id = "x"
		}
		tok, _, err := i.Issue(id, role, sess)
		if err != nil {
			t.Fatal(err)
		}
		seg := strings.Split(tok, ".")[1]
		raw := atob(t, seg)
		for _, c := range raw {
			if c >= 0x80 {
				t.Fatalf("payload has a non-ASCII byte: %q", raw)
			}
		}
		var p struct {
			Sub       string `json:"sub"`
			Role      string `json:"role"`
			SessionID string `json:"session_id"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("JSON.parse(%q): %v", raw, err)
		}
		// Each invalid UTF-8 byte reads back as U+FFFD, as with encoding/json.
		if p.Sub != string([]rune(id)) || p.Role != string([]rune(role)) || p.SessionID != string([]rune(sess)) {
			t.Fatalf("payload %q does not round-trip %q %q %q", raw, id, role, sess)
		}
		if n%2 == 0 {
			if _, err := i.Verify(tok); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		}
	}
}

func randUUID(r *mrand.Rand) string {
	const hex = "0123456789abcdef"
	b := []byte("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx")
	for k, c := range b {
		switch c {
		case 'x':
			b[k] = hex[r.IntN(16)]
		case 'y':
			b[k] = hex[8+r.IntN(4)]
		}
	}
	return string(b)
}

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyRejects(t *testing.T) {
	c := &clock{t: time.Now()}
	i := newIssuer(t, c)
	good, _, _ := i.Issue("user-1", "Admin", "s")
	parts := strings.Split(good, ".")
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "user-1", "role": "Admin", "aud": "authenticated", "iss": "hustmusik",
			"iat": c.t.Unix(), "exp": c.t.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims {
		m := valid()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}

	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey))})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// Altered payload: same signature, the role raised to Admin from User.
	userTok, _, _ := i.Issue("user-1", "User", "s")
	up := strings.Split(userTok, ".")
	adminPayload := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(atob(t, up[1])), `"User"`, `"Admin"`, 1)))
	// Altered signature: flip one bit of the MAC.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1

	cases := map[string]struct {
		raw  string
		want string
	}{
		"alg none":           {sign(t, jwt.SigningMethodNone, valid(), jwt.UnsafeAllowNoneSignatureType), "Invalid token"},
		"alg none unsigned":  {base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", "Invalid token"},
		"RS256":              {sign(t, jwt.SigningMethodRS256, valid(), rsaKey), "Invalid token"},
		"HS256 with pub key": {sign(t, jwt.SigningMethodHS256, valid(), pubPEM), "Invalid token"},
		"ES256":              {sign(t, jwt.SigningMethodES256, valid(), ecKey), "Invalid token"},
		"HS512 same secret":  {sign(t, jwt.SigningMethodHS512, valid(), secret), "Invalid token"},
		"altered signature":  {parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig), "Invalid token"},
		"altered payload":    {up[0] + "." + adminPayload + "." + up[2], "Invalid token"},
		"no signature":       {parts[0] + "." + parts[1] + ".", "Invalid token"},
		"expired":            {sign(t, jwt.SigningMethodHS256, with("exp", c.t.Add(-time.Minute).Unix()), secret), "Token expired"},
		"expired wrong key":  {sign(t, jwt.SigningMethodHS256, with("exp", c.t.Add(-time.Minute).Unix()), []byte("another-secret-another-secret-xx")), "Invalid token"},
		"no exp":             {sign(t, jwt.SigningMethodHS256, with("exp", nil), secret), "Invalid token"},
		"wrong aud":          {sign(t, jwt.SigningMethodHS256, with("aud", "anon"), secret), "Invalid token"},
		"no aud":             {sign(t, jwt.SigningMethodHS256, with("aud", nil), secret), "Invalid token"},
		"wrong iss":          {sign(t, jwt.SigningMethodHS256, with("iss", "evil"), secret), "Invalid token"},
		"no iss":             {sign(t, jwt.SigningMethodHS256, with("iss", nil), secret), "Invalid token"},
		"iat in future":      {sign(t, jwt.SigningMethodHS256, with("iat", c.t.Add(time.Hour).Unix()), secret), "Invalid token"},
		"no iat":             {sign(t, jwt.SigningMethodHS256, with("iat", nil), secret), "Invalid token"},
		"no sub":             {sign(t, jwt.SigningMethodHS256, with("sub", nil), secret), "Invalid token"},
		"unknown role":       {sign(t, jwt.SigningMethodHS256, with("role", "Root"), secret), "Invalid token"},
		"wrong secret":       {sign(t, jwt.SigningMethodHS256, valid(), []byte("another-secret-another-secret-xx")), "Invalid token"},
		"garbage":            {"not a token", "Invalid token"},
		"empty":              {"", "Invalid token"},
		"undefined":          {"undefined", "Invalid token"},
		"two segments":       {parts[0] + "." + parts[1], "Invalid token"},
		"huge":               {strings.Repeat("a", 10000), "Invalid token"},
	}
	for name, tc := range cases {
		_, err := i.Verify(tc.raw)
		var de *domain.Error
		if !errors.As(err, &de) || !errors.Is(err, domain.ErrUnauthorized) || de.Msg != tc.want {
			t.Errorf("%s: err = %v, want unauthorized %q", name, err, tc.want)
		}
	}
	if _, err := i.Verify(good); err != nil {
		t.Fatalf("the untouched token must still verify: %v", err)
	}
}

func TestExpiryAndLeeway(t *testing.T) {
	c := &clock{t: time.Now()}
	i := newIssuer(t, c)
	tok, _, _ := i.Issue("u", "User", "s")
	c.t = c.t.Add(time.Hour + Leeway/2)
	if _, err := i.Verify(tok); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	c.t = c.t.Add(Leeway)
	if _, err := i.Verify(tok); err == nil || err.Error() != "Token expired" {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{Secret: []byte("short")}); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
	if _, err := New(Config{Secret: secret, TTL: time.Millisecond}); err == nil {
		t.Fatal("a 1ms TTL was accepted")
	}
	err := Config{Secret: nil, TTL: time.Millisecond, Issuer: "é"}.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("Validate should join three problems: %v", err)
	}
	i, err := New(Config{Secret: secret, TTL: 15 * time.Minute, Issuer: "other"})
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, _ := i.Issue("u", "User", "")
	if exp != 900 {
		t.Fatalf("expiresIn = %d", exp)
	}
	if _, err := newIssuer(t, nil).Verify(tok); err == nil {
		t.Fatal("a token of issuer \"other\" verified under \"hustmusik\"")
	}
	if _, _, err := i.Issue("", "User", ""); err == nil {
		t.Fatal("issued a token without a user id")
	}
}

func TestRefresh(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		plain, hash := NewRefresh()
		raw, err := base64.RawURLEncoding.DecodeString(plain)
		if err != nil || len(raw) != 32 {
			t.Fatalf("refresh %q: %d bytes, %v", plain, len(raw), err)
		}
		if seen[plain] {
			t.Fatal("duplicate refresh token")
		}
		seen[plain] = true
		if string(HashRefresh(plain)) != string(hash) || len(hash) != 32 {
			t.Fatal("HashRefresh disagrees with NewRefresh")
		}
		if string(HashRefresh(plain+"x")) == string(hash) {
			t.Fatal("different tokens share a hash")
		}
	}
	// A fixed vector: SHA-256("abc").
	want, _ := new(big.Int).SetString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 16)
	if new(big.Int).SetBytes(HashRefresh("abc")).Cmp(want) != 0 {
		t.Fatal("HashRefresh is not SHA-256")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A token verified once is remembered, yet every use is checked in time,
// and a token differing from it in one character is checked in full.
func TestRememberedTokensAreCheckedInTimeAndNeverStandForOthers(t *testing.T) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	i := newIssuer(t, c)
	tok, _, err := i.Issue("7b0c1a9e-5d1c-4b7e-9d3a-2f7e8a6b9c01", "User", "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	first, err := i.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := i.verified.get(tok); !ok {
		t.Fatal("a verified token was not remembered")
	}
	again, err := i.Verify(tok)
	if err != nil || again != first {
		t.Fatalf("remembered verification = %+v, %v; want %+v", again, err, first)
	}
	// Tampered: the payload's last character, then the signature's.
	for _, k := range []int{strings.LastIndexByte(tok, '.') - 1, len(tok) - 1} {
		b := []byte(tok)
		b[k] ^= 1
		if _, err := i.Verify(string(b)); err == nil {
			t.Errorf("a token altered at %d verified", k)
		}
		if _, ok := i.verified.get(string(b)); ok {
			t.Errorf("an altered token was remembered")
		}
	}
	// A clock set back before its issue (beyond the leeway): refused.
	c.t = c.t.Add(-2 * Leeway)
	if _, err := i.Verify(tok); err == nil {
		t.Error("a remembered token verified before its issue time")
	}
	c.t = c.t.Add(2*Leeway + time.Hour + 2*Leeway)
	if _, err := i.Verify(tok); err == nil || err.Error() != "Token expired" {
		t.Fatalf("remembered token after expiry: %v", err)
	}
	if _, ok := i.verified.get(tok); ok {
		t.Error("an expired token is still remembered")
	}
}
