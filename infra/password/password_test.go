package password

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/hustmusik/backend/domain"
)

// fast keeps the tests quick; the format and checks are the same as with
// the defaults.
var fast = Config{Memory: 64, Time: 1, Threads: 1}

func newHasher(t *testing.T, cfg Config) *Hasher {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDefaultsAreOWASPMinimum(t *testing.T) {
	h := newHasher(t, Config{})
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoded = %q", enc)
	}
	parts := strings.Split(enc, "$")
	salt, _ := base64.RawStdEncoding.DecodeString(parts[4])
	key, _ := base64.RawStdEncoding.DecodeString(parts[5])
	if len(salt) != 16 || len(key) != 32 {
		t.Fatalf("salt %d bytes, key %d bytes", len(salt), len(key))
	}
	ok, rehash, err := h.Verify("correct horse battery staple", enc)
	if !ok || rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
	}
}

func TestHashVerify(t *testing.T) {
	h := newHasher(t, fast)
	a, err := h.Hash("s3cret pässwörd")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Hash("s3cret pässwörd")
	if a == b {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"s3cret pässwörd", true},
		{"s3cret passwörd", false},
		{"s3cret pässwörd ", false},
		{"S3cret pässwörd", false},
		{"x", false},
	} {
		ok, _, err := h.Verify(tc.pw, a)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
}

func TestLengthLimits(t *testing.T) {
	h := newHasher(t, fast)
	enc, _ := h.Hash("ok")
	for _, pw := range []string{"", strings.Repeat("a", MaxLength+1)} {
		if _, err := h.Hash(pw); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("Hash(len %d) err = %v, want ErrValidation", len(pw), err)
		}
		if _, _, err := h.Verify(pw, enc); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("Verify(len %d) err = %v, want ErrValidation", len(pw), err)
		}
	}
	long := strings.Repeat("a", MaxLength)
	enc, err := h.Hash(long)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(long, enc); !ok || err != nil {
		t.Fatalf("1024-byte password: %v, %v", ok, err)
	}
}

func TestNeedsRehashWhenParamsRaised(t *testing.T) {
	old := newHasher(t, fast)
	enc, _ := old.Hash("pw")
	for _, cfg := range []Config{
		{Memory: 128, Time: 1, Threads: 1},
		{Memory: 64, Time: 2, Threads: 1},
		{Memory: 64, Time: 1, Threads: 2},
		{Memory: 64, Time: 1, Threads: 1, KeyLen: 64},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 32},
	} {
		ok, rehash, err := newHasher(t, cfg).Verify("pw", enc)
		if !ok || !rehash || err != nil {
			t.Errorf("cfg %+v: Verify = %v, %v, %v; want ok and rehash", cfg, ok, rehash, err)
		}
	}
	// A hash with stronger params than the config is fine as it is.
	strong := newHasher(t, Config{Memory: 128, Time: 2, Threads: 1})
	enc, _ = strong.Hash("pw")
	if ok, rehash, err := old.Verify("pw", enc); !ok || rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
	}
}

func TestTamperedAndMalformed(t *testing.T) {
	h := newHasher(t, fast)
	enc, _ := h.Hash("pw")
	parts := strings.Split(enc, "$")
	salt, key := parts[4], parts[5]
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	shorter := func(s string) string {
		b, _ := base64.RawStdEncoding.DecodeString(s)
		return base64.RawStdEncoding.EncodeToString(b[:24])
	}
	// Tampered but well-formed: a clean mismatch, no error.
	for name, tampered := range map[string]string{
		"salt":   "$argon2id$v=19$m=64,t=1,p=1$" + flip(salt) + "$" + key,
		"key":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + flip(key),
		"memory": "$argon2id$v=19$m=72,t=1,p=1$" + salt + "$" + key,
		"time":   "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key,
		"keylen": "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + shorter(key),
	} {
		ok, _, err := h.Verify("pw", tampered)
		if ok || err != nil {
			t.Errorf("%s tampered: ok=%v err=%v, want a clean mismatch", name, ok, err)
		}
	}
	malformed := map[string]string{
		"empty":           "",
		"bcrypt":          "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":         "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":     "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":      "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"missing param":   "$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"dup param":       "$argon2id$v=19$m=64,m=64,t=1,p=1$" + salt + "$" + key,
		"unknown param":   "$argon2id$v=19$m=64,t=1,p=1,x=1$" + salt + "$" + key,
		"negative":        "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"plus sign":       "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,
		"zero time":       "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":    "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"huge memory":     "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"huge time":       "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key,
		"threads > 255":   "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key,
		"memory < 8p":     "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key,
		"bad base64 salt": "$argon2id$v=19$m=64,t=1,p=1$" + salt + "!$" + key,
		"padded key":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "=",
		"short salt":      "$argon2id$v=19$m=64,t=1,p=1$" + base64.RawStdEncoding.EncodeToString([]byte("abc")) + "$" + key,
		"short key":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + base64.RawStdEncoding.EncodeToString([]byte("abc")),
		"extra field":     enc + "$x",
		"no leading $":    strings.TrimPrefix(enc, "$"),
		"empty salt":      "$argon2id$v=19$m=64,t=1,p=1$$" + key,
	}
	for name, bad := range malformed {
		ok, rehash, err := h.Verify("pw", bad)
		if ok || rehash || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify = %v, %v, %v; want ErrMalformed", name, ok, rehash, err)
		}
	}
}

// The encoding must match what other argon2id implementations produce, so a
// hash made here verifies elsewhere and the other way round.
func TestInteroperableEncoding(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("password"), salt, 1, 64, 1, 32)
	enc := "$argon2id$v=19$m=64,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	ok, _, err := newHasher(t, fast).Verify("password", enc)
	if !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}

func TestVerifyDummySpendsComparableTime(t *testing.T) {
	// Enough memory that the hash dominates the timing.
	h := newHasher(t, Config{Memory: 4096, Time: 2, Threads: 1})
	enc, _ := h.Hash("pw")
	measure := func(f func()) time.Duration {
		best := time.Duration(1 << 62)
		for range 5 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	real := measure(func() { h.Verify("wrong", enc) })
	dummy := measure(func() { h.VerifyDummy("wrong") })
	if dummy < real/3 || dummy > real*3 {
		t.Fatalf("VerifyDummy took %v, a real Verify %v: they should be comparable", dummy, real)
	}
	// Inputs a real Verify would reject still cost a hash.
	empty := measure(func() { h.VerifyDummy("") })
	if empty < real/3 {
		t.Fatalf("VerifyDummy(\"\") took %v, a real Verify %v", empty, real)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, cfg := range []Config{
		{Memory: 4, Time: 1, Threads: 1},
		{Memory: 64, Time: 100, Threads: 1},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4},
		{Memory: 64, Time: 1, Threads: 1, KeyLen: 8},
		{Memory: 1<<20 + 1, Time: 1, Threads: 1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	err := (Config{Memory: 1, Time: 1000, Threads: 1, SaltLen: 1, KeyLen: 1}).Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 3 {
		t.Fatalf("Validate should join all four problems: %v", err)
	}
}
