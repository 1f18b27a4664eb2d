package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hustmusik/backend/domain"
)

// FuzzVerify: nothing but a token this issuer signed verifies. The seeds are
// a real token and forgeries of it (alg none, HS256 signed with another
// key, an RS256 header, a tampered payload, an expired one); the fuzzer
// mutates them. Whatever verifies must carry the claims that were signed,
// and every refusal is a 401.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret-fuzz-secret-fuzz-secret!")
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	iss, err := New(Config{Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	good, _, err := iss.Issue("u-1", "User", "s-1")
	if err != nil {
		f.Fatal(err)
	}
	old, err := New(Config{Secret: secret, Now: func() time.Time { return now.Add(-3 * time.Hour) }})
	if err != nil {
		f.Fatal(err)
	}
	expired, _, _ := old.Issue("u-1", "User", "s-1")
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	rs := b64([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
	otherKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u-1", "role": "Admin", "aud": Audience,
		"iss": "hustmusik", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).SignedString([]byte("another-secret-another-secret-0123"))
	admin := parts[0] + "." + b64([]byte(`{"sub":"u-1","role":"Admin","aud":"authenticated","iss":"hustmusik","iat":1,"exp":9999999999}`)) + "." + parts[2]
	for _, s := range []string{good, expired, none, rs, otherKey, admin, "", "a.b.c", "Bearer " + good, good + ".", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := iss.Verify(raw)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || !errors.Is(err, domain.ErrUnauthorized) {
				t.Fatalf("Verify(%q): %v is not a 401", raw, err)
			}
			return
		}
		if c.UserID != "u-1" || c.Role != domain.RoleUser || c.SessionID != "s-1" {
			t.Fatalf("Verify(%q) accepted claims nobody signed: %+v", raw, c)
		}
	})
}
