// Package password hashes and verifies user passwords with argon2id, stored
// in the PHC string format so that the parameters travel with each hash and
// can be raised later without invalidating existing accounts.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/hustmusik/backend/domain"
)

// MaxLength bounds a password in bytes: argon2 accepts any length, but an
// unbounded one lets a caller make the server hash megabytes per request.
const MaxLength = 1024

// Config holds the argon2id parameters for new hashes. The defaults are
// OWASP's minimum recommendation for argon2id.
type Config struct {
	Memory  uint32 // KiB; default 19456 (19 MiB)
	Time    uint32 // passes; default 2
	Threads uint8  // lanes; default 1
	SaltLen uint32 // bytes; default 16
	KeyLen  uint32 // bytes; default 32
}

func (c *Config) setDefaults() {
	if c.Memory == 0 {
		c.Memory = 19456
	}
	if c.Time == 0 {
		c.Time = 2
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.SaltLen == 0 {
		c.SaltLen = 16
	}
	if c.KeyLen == 0 {
		c.KeyLen = 32
	}
}

// Validate reports every parameter outside what Verify accepts when parsing,
// so that a hash made with this config can always be verified.
func (c Config) Validate() error {
	var errs []error
	if c.Memory < 8*uint32(c.Threads) || c.Memory > maxMemory {
		errs = append(errs, fmt.Errorf("password: memory must be between 8*threads and %d KiB, got %d", maxMemory, c.Memory))
	}
	if c.Time < 1 || c.Time > maxTime {
		errs = append(errs, fmt.Errorf("password: time must be between 1 and %d, got %d", maxTime, c.Time))
	}
	if c.Threads < 1 {
		errs = append(errs, errors.New("password: threads must be at least 1"))
	}
	if c.SaltLen < minSaltLen || c.SaltLen > maxSaltLen {
		errs = append(errs, fmt.Errorf("password: salt length must be between %d and %d bytes, got %d", minSaltLen, maxSaltLen, c.SaltLen))
	}
	if c.KeyLen < minKeyLen || c.KeyLen > maxKeyLen {
		errs = append(errs, fmt.Errorf("password: key length must be between %d and %d bytes, got %d", minKeyLen, maxKeyLen, c.KeyLen))
	}
	return errors.Join(errs...)
}

// Bounds for parameters read back from a stored hash: a tampered row must
// not make one sign-in allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
)

// Hasher hashes new passwords with its Config and verifies hashes made with
// any parameters within bounds.
type Hasher struct {
	cfg   Config
	dummy string // a hash of a random password, for VerifyDummy
}

// New validates cfg (zero fields take the defaults) and precomputes the dummy
// hash VerifyDummy compares against.
func New(cfg Config) (*Hasher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Hasher{cfg: cfg}
	// A random, forgotten password: nothing can ever verify against it.
	dummy, err := h.Hash(rand.Text())
	if err != nil {
		return nil, fmt.Errorf("password: dummy hash: %w", err)
	}
	h.dummy = dummy
	return h, nil
}

func checkLength(pw string) error {
	if pw == "" {
		return domain.Invalid("Password is required")
	}
	if len(pw) > MaxLength {
		return domain.Invalid(fmt.Sprintf("Password must be at most %d bytes", MaxLength))
	}
	return nil
}

// Hash returns the PHC string `$argon2id$v=19$m=..,t=..,p=..$salt$hash`
// (unpadded standard base64, as the reference implementation writes it).
func (h *Hasher) Hash(pw string) (string, error) {
	if err := checkLength(pw); err != nil {
		return "", err
	}
	salt := make([]byte, h.cfg.SaltLen)
	rand.Read(salt) // crypto/rand.Read never fails (it aborts the program instead)
	p := params{memory: h.cfg.Memory, time: h.cfg.Time, threads: h.cfg.Threads, salt: salt, keyLen: h.cfg.KeyLen}
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	return p.encode(key), nil
}

// Verify reports whether pw matches encoded. needsRehash is true when the
// hash was made with weaker parameters than the current Config, so the caller
// can store a fresh Hash after a successful sign-in. A malformed or
// out-of-bounds hash is an error (the stored row is broken), never a match.
func (h *Hasher) Verify(pw, encoded string) (ok bool, needsRehash bool, err error) {
	if err := checkLength(pw); err != nil {
		return false, false, err
	}
	p, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, p.keyLen)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	needsRehash = p.memory < h.cfg.Memory || p.time < h.cfg.Time || p.threads < h.cfg.Threads ||
		uint32(len(p.salt)) < h.cfg.SaltLen || p.keyLen < h.cfg.KeyLen
	return true, needsRehash, nil
}

// VerifyDummy spends the time of one Verify against a hash no password
// matches. Sign-in calls it when the email is unknown, so that the answer
// time does not tell whether an account exists.
func (h *Hasher) VerifyDummy(pw string) {
	if len(pw) > MaxLength {
		pw = pw[:MaxLength]
	}
	if pw == "" {
		pw = " "
	}
	h.Verify(pw, h.dummy)
}

type params struct {
	memory  uint32
	time    uint32
	threads uint8
	keyLen  uint32
	salt    []byte
}

var b64 = base64.RawStdEncoding.Strict()

func (p params) encode(key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(key))
}

// ErrMalformed is wrapped by every error about an unreadable stored hash.
var ErrMalformed = errors.New("password: malformed hash")

func decode(encoded string) (params, []byte, error) {
	var p params
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, fmt.Errorf("%w: want 6 '$'-separated fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return p, nil, fmt.Errorf("%w: algorithm %q is not argon2id", ErrMalformed, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformed, parts[2])
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		name, value, found := strings.Cut(kv, "=")
		if !found || seen[name] {
			return p, nil, fmt.Errorf("%w: bad parameter %q", ErrMalformed, kv)
		}
		seen[name] = true
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil || value != strconv.FormatUint(n, 10) {
			return p, nil, fmt.Errorf("%w: bad parameter %q", ErrMalformed, kv)
		}
		switch name {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, fmt.Errorf("%w: parallelism %d out of range", ErrMalformed, n)
			}
			p.threads = uint8(n)
		default:
			return p, nil, fmt.Errorf("%w: unknown parameter %q", ErrMalformed, name)
		}
	}
	if !seen["m"] || !seen["t"] || !seen["p"] {
		return p, nil, fmt.Errorf("%w: parameters m, t and p are required", ErrMalformed)
	}
	if p.threads < 1 || p.time < 1 || p.time > maxTime || p.memory < 8*uint32(p.threads) || p.memory > maxMemory {
		return p, nil, fmt.Errorf("%w: parameters m=%d,t=%d,p=%d out of bounds", ErrMalformed, p.memory, p.time, p.threads)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, fmt.Errorf("%w: bad salt", ErrMalformed)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, fmt.Errorf("%w: bad key", ErrMalformed)
	}
	p.salt = salt
	p.keyLen = uint32(len(key))
	return p, key, nil
}
