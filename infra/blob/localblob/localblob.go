// Package localblob is the embedded default blob store: objects are files
// under a directory, and presigned URLs point at the service itself
// (<PUBLIC_URL>/blob/<key>?...), signed with HMAC-SHA256 and served by
// Handler.
//
// URL scheme (version 1):
//
//	<PublicURL>/blob/<key>?method=GET&ct=audio%2Fmpeg&disp=inline&exp=<unix seconds>&sig=<hex>
//
// where sig = hex(HMAC-SHA256(secret, "hustmusik-blob-v1\n" + METHOD + "\n" +
// key + "\n" + ct + "\n" + disp + "\n" + exp)). None of the fields can hold a
// newline (keys and header values are validated), so the signed string is
// unambiguous. The signature binds the request method (HEAD counts as GET),
// the key, the content type (for a PUT, the Content-Type the client must
// send; for a GET, the one served), the disposition (GET only, empty for a
// PUT) and the expiry. Handler checks it in constant time before it opens a
// file or reads a byte of a request body.
//
// Access rule: audio (every key outside images/) is readable and writable
// only with a signed URL. Images are public (they are shown on public
// pages), so GET /blob/images/... without a signature is served, with the
// Content-Type of the file's extension; writing an image still needs a
// signature or a server-side Put.
package localblob

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
)

// PathPrefix is where Handler expects to be mounted: it reads the key from
// the request path after it, so mount it without stripping the prefix
// (in Gin: engine.Any("/blob/*key", gin.WrapH(store.Handler()))).
const PathPrefix = "/blob/"

const signatureVersion = "hustmusik-blob-v1"

// imageTypes are the Content-Types of public images by extension; nothing
// else under images/ is served without a signature.
var imageTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".avif": "image/avif",
	".webp": "image/webp",
}

// Config of a local store.
type Config struct {
	// Dir holds the objects (HUSTMUSIK_DATA_DIR/blobs); created if missing.
	Dir string
	// PublicURL is the service's base URL (PUBLIC_URL) that URLs start with.
	PublicURL string
	// Secret is the HMAC key, at least 32 bytes: DeriveSecret(JWT secret).
	Secret []byte
	// AllowedOrigins get CORS headers from Handler (FRONTEND_URL origins, or
	// "*"), so the browser can fetch() audio when the handler is used on
	// its own. Empty leaves CORS to the router it is mounted in.
	AllowedOrigins []string
	// MaxUploadBytes bounds a presigned PUT (default 50 MB; more is a 413).
	MaxUploadBytes int64
	// Now is the clock (default time.Now); tests move it to expire URLs.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = 50 << 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("localblob: Dir is required"))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("localblob: PublicURL %q must be an absolute http(s) URL", c.PublicURL))
	}
	if len(c.Secret) < 32 {
		errs = append(errs, errors.New("localblob: Secret must be at least 32 bytes"))
	}
	if c.MaxUploadBytes < 0 {
		errs = append(errs, errors.New("localblob: MaxUploadBytes must not be negative"))
	}
	for _, o := range c.AllowedOrigins {
		if _, err := normalizeOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeriveSecret makes the URL-signing key from the JWT secret, so the
// embedded default needs no extra configuration; the derivation keeps a
// blob signature from ever being usable as a token signature and back.
func DeriveSecret(jwtSecret string) []byte {
	m := hmac.New(sha256.New, []byte(jwtSecret))
	m.Write([]byte("hustmusik blob URL signing key v1"))
	return m.Sum(nil)
}

// Store is a directory of objects with HMAC-signed URLs.
type Store struct {
	cfg       Config
	logger    *slog.Logger
	origins   map[string]bool
	anyOrigin bool
}

var _ blob.Store = (*Store)(nil)

// New makes a store on cfg.Dir, creating the directory.
func New(cfg Config, logger *slog.Logger) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("localblob: create %s: %w", cfg.Dir, err)
	}
	s := &Store{cfg: cfg, logger: logger, origins: map[string]bool{}}
	for _, o := range cfg.AllowedOrigins {
		n, _ := normalizeOrigin(o) // checked by Validate
		if n == "*" {
			s.anyOrigin = true
		}
		s.origins[n] = true
	}
	return s, nil
}

func normalizeOrigin(o string) (string, error) {
	o = strings.TrimSpace(o)
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("localblob: allowed origin %q must be an http(s) URL", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func (s *Store) sign(method, key, ct, disp string, exp int64) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s\n%s\n%d", signatureVersion, method, key, ct, disp, exp)
	return m.Sum(nil)
}

func (s *Store) presign(method, key, ct, disp string, ttl time.Duration) (string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return "", err
	}
	if err := blob.ValidateContentType(ct); err != nil {
		return "", err
	}
	if method == http.MethodGet {
		if err := blob.ValidateDisposition(disp); err != nil {
			return "", err
		}
	}
	if err := blob.ValidateTTL(ttl); err != nil {
		return "", err
	}
	exp := s.cfg.Now().Add(ttl).Unix()
	q := url.Values{}
	q.Set("method", method)
	q.Set("ct", ct)
	if disp != "" {
		q.Set("disp", disp)
	}
	q.Set("exp", strconv.FormatInt(exp, 10))
	q.Set("sig", hex.EncodeToString(s.sign(method, key, ct, disp, exp)))
	return s.cfg.PublicURL + PathPrefix + key + "?" + q.Encode(), nil
}

// PresignPut signs a PUT of key that must carry Content-Type: contentType.
func (s *Store) PresignPut(_ context.Context, key, contentType string, ttl time.Duration) (string, error) {
	return s.presign(http.MethodPut, key, contentType, "", ttl)
}

// PresignGet signs a GET of key served as contentType with disposition.
func (s *Store) PresignGet(_ context.Context, key, contentType string, ttl time.Duration, disposition string) (string, error) {
	return s.presign(http.MethodGet, key, contentType, disposition, ttl)
}

// URL is the unsigned URL of key; only images/ keys are served through it.
func (s *Store) URL(key string) string { return s.cfg.PublicURL + PathPrefix + key }

// Put writes r under key atomically (a reader never sees half a file).
// The content type is not stored: signed GETs carry their own and public
// images take theirs from the extension.
func (s *Store) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := blob.ValidateContentType(contentType); err != nil {
		return err
	}
	n, err := s.write(ctx, key, r, size)
	if err != nil {
		return fmt.Errorf("localblob: put %s: %w", key, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("localblob: put %s: read %d bytes, expected %d", key, n, size)
	}
	return nil
}

// write streams r into a temporary file next to key and renames it into
// place. With size >= 0 it refuses a body of another length before the
// rename. Everything goes through an os.Root on the directory, so even a
// symlink planted inside it cannot lead a write outside.
func (s *Store) write(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	dir := path.Dir(key)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	tmp := path.Join(dir, ".upload-"+hex.EncodeToString(rnd[:])+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = f.Close()
			_ = root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, r)
	if err != nil {
		return n, err
	}
	if size >= 0 && n != size {
		return n, nil // the caller reports the mismatch; the temp file goes
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	if err := f.Close(); err != nil {
		return n, err
	}
	if err := ctx.Err(); err != nil {
		return n, err
	}
	if err := root.Rename(tmp, key); err != nil {
		return n, err
	}
	renamed = true
	return n, nil
}

// Stat reports the size of key; a missing key is domain.ErrNotFound.
func (s *Store) Stat(_ context.Context, key string) (blob.Info, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Info{}, err
	}
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		return blob.Info{}, fmt.Errorf("localblob: stat %s: %w", key, err)
	}
	defer root.Close()
	fi, err := root.Stat(key)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return blob.Info{}, fmt.Errorf("localblob: stat %s: %w", key, domain.NotFound("Object not found"))
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("localblob: stat %s: %w", key, err)
	}
	return blob.Info{Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes key; a missing key is fine.
func (s *Store) Delete(_ context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("localblob: delete %s: %w", key, err)
	}
	defer root.Close()
	if err := root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localblob: delete %s: %w", key, err)
	}
	return nil
}
