// Package token issues and verifies the access tokens (HS256 JWTs) and makes
// the opaque refresh tokens of sign-in sessions.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hustmusik/backend/domain"
)

// Audience is the aud claim of every access token; the frontend reads it
// (the old hosted-auth backend used the same value).
const Audience = "authenticated"

// Leeway forgives small clock differences between replicas.
const Leeway = 30 * time.Second

// Config of an Issuer.
type Config struct {
	Secret []byte           // HMAC key, at least 32 bytes
	TTL    time.Duration    // access token lifetime; default 1h
	Issuer string           // iss claim; default "hustmusik"
	Now    func() time.Time // clock; default time.Now (tests move it)
}

func (c *Config) setDefaults() {
	if c.TTL == 0 {
		c.TTL = time.Hour
	}
	if c.Issuer == "" {
		c.Issuer = "hustmusik"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Secret) < 32 {
		errs = append(errs, fmt.Errorf("token: secret must be at least 32 bytes, got %d", len(c.Secret)))
	}
	if c.TTL < time.Second {
		errs = append(errs, fmt.Errorf("token: TTL must be at least 1s, got %v", c.TTL))
	}
	if !isPrintableASCII(c.Issuer) {
		errs = append(errs, errors.New("token: issuer must be printable ASCII"))
	}
	return errors.Join(errs...)
}

// Claims are what a verified access token says about its caller.
type Claims struct {
	UserID    string
	Role      domain.Role
	SessionID string // the refresh session this token was issued for
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Issuer signs and verifies access tokens with one secret.
type Issuer struct {
	cfg      Config
	parser   *jwt.Parser
	verified *verifiedTokens
}

// New validates cfg and returns an Issuer.
func New(cfg Config) (*Issuer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	return &Issuer{
		cfg:      cfg,
		verified: newVerifiedTokens(100000),
		parser: jwt.NewParser(
			// Only HS256: "none" and every asymmetric algorithm (whose public
			// key an attacker could pass off as our HMAC secret) are refused.
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithAudience(Audience),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(Leeway),
			jwt.WithTimeFunc(cfg.Now),
		),
	}, nil
}

// TTL is how long a new access token stays valid.
func (i *Issuer) TTL() time.Duration { return i.cfg.TTL }

// header is the fixed JOSE header; its base64url form is a constant.
var header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// Issue signs an access token for a user in a session. expiresIn is the
// token's lifetime in seconds (the session object's expires_in).
func (i *Issuer) Issue(userID, role, sessionID string) (token string, expiresIn int, err error) {
	if userID == "" {
		return "", 0, errors.New("token: issue: empty user id")
	}
	now := i.cfg.Now().Truncate(time.Second)
	exp := now.Add(i.cfg.TTL)
	payload := payloadJSON(userID, role, sessionID, i.cfg.Issuer, now.Unix(), exp.Unix())
	signing := header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := jwt.SigningMethodHS256.Sign(signing, i.cfg.Secret)
	if err != nil {
		return "", 0, fmt.Errorf("token: sign: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), int(exp.Sub(now) / time.Second), nil
}

// payloadJSON writes the claims by hand rather than with encoding/json: the
// frontend decodes the payload segment with atob, which rejects the
// base64url characters '-' and '_'. Those are sextets 62 and 63; in ASCII
// input only the bytes '>' (0x3E), '?' (0x3F), '~' (0x7E) and DEL (0x7F), at
// byte offsets ≡ 2 (mod 3), produce them, and any non-ASCII byte can. Every
// string here escapes those four bytes, every control byte, '"', '\\', '<',
// '&' and all non-ASCII as \u00XX / \uXXXX, and the rest of the JSON
// ({}":, digits, letters) contains none of them: so no payload can hold a
// '-' or '_', whatever the ids and role are.
func payloadJSON(sub, role, sessionID, iss string, iat, exp int64) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"sub":`...)
	b = appendString(b, sub)
	b = append(b, `,"role":`...)
	b = appendString(b, role)
	b = append(b, `,"aud":`...)
	b = appendString(b, Audience)
	b = append(b, `,"iss":`...)
	b = appendString(b, iss)
	b = append(b, `,"session_id":`...)
	b = appendString(b, sessionID)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, exp, 10)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			// Invalid UTF-8 (or a literal U+FFFD) becomes U+FFFD, as encoding/json does.
			b = appendU(b, 0xFFFD)
		case r < 0x20 || r >= 0x7E || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '?':
			if r > 0xFFFF {
				r -= 0x10000
				b = appendU(b, 0xD800+(r>>10))
				b = appendU(b, 0xDC00+(r&0x3FF))
			} else {
				b = appendU(b, r)
			}
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}

type jwtClaims struct {
	Role      string `json:"role"`
	SessionID string `json:"session_id"`
	jwt.RegisteredClaims
}

var (
	errInvalid = &domain.Error{Kind: domain.ErrUnauthorized, Msg: "Invalid token"}
	errExpired = &domain.Error{Kind: domain.ErrUnauthorized, Msg: "Token expired"}
)

// Verify checks signature, algorithm, audience, issuer and expiry. Every
// failure is a domain.ErrUnauthorized: "Token expired" for an expired token,
// "Invalid token" for anything else.
func (i *Issuer) Verify(raw string) (Claims, error) {
	if raw == "" || len(raw) > 4096 {
		return Claims{}, errInvalid
	}
	if known, ok := i.verified.get(raw); ok {
		if err := timely(known, i.cfg.Now()); err != nil {
			i.verified.forget(raw)
			return Claims{}, err
		}
		return known, nil
	}
	var c jwtClaims
	_, err := i.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return i.cfg.Secret, nil })
	if err != nil {
		// Only a correctly signed token can be "expired": the parser checks
		// the signature before the claims.
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, errExpired
		}
		return Claims{}, errInvalid
	}
	role, err := domain.ParseRole(c.Role)
	if err != nil || c.Subject == "" || c.IssuedAt == nil {
		return Claims{}, errInvalid
	}
	claims := Claims{
		UserID:    c.Subject,
		Role:      role,
		SessionID: c.SessionID,
		IssuedAt:  c.IssuedAt.Time,
		ExpiresAt: c.ExpiresAt.Time,
	}
	i.verified.put(raw, claims)
	return claims, nil
}

// NewRefresh makes an opaque refresh token: 32 random bytes, base64url. The
// plain token goes to the client once; only its hash is stored.
func NewRefresh() (plain string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never fails (it aborts the program instead)
	plain = base64.RawURLEncoding.EncodeToString(b)
	return plain, HashRefresh(plain)
}

// HashRefresh is the stored form of a refresh token (SHA-256). A fast hash
// is enough: the token has 256 bits of entropy, nothing to brute-force.
func HashRefresh(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return false
		}
	}
	return true
}
