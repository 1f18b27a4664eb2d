// Package blob is the port for audio and image objects: presigned URLs that
// let clients move bytes without the API process in the middle, server-side
// uploads for images, and deletion. Its implementations are localblob (a
// directory, URLs signed with HMAC and served by the binary itself) and
// s3blob (any S3-compatible store, SigV4 presigned URLs); blobtest holds the
// conformance suite both pass.
package blob

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hustmusik/backend/domain"
)

// Store keeps objects under keys (see ValidateKey). Every method refuses a
// bad key with an error wrapping domain.ErrValidation before touching
// anything.
type Store interface {
	// PresignPut returns a URL a client PUTs the object's bytes to, valid
	// for ttl. The client must send exactly `Content-Type: contentType`;
	// any other type is refused by the store.
	PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (string, error)
	// PresignGet returns a URL that serves the object, valid for ttl, with
	// that Content-Type and Content-Disposition (e.g. "inline") whatever
	// the object was stored with. Ranges are supported.
	PresignGet(ctx context.Context, key, contentType string, ttl time.Duration, disposition string) (string, error)
	// Put stores r (size bytes, or -1 when unknown) under key, replacing
	// any object there. It is for server-side uploads (images).
	Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error
	// Stat reports an object's size; a missing object is domain.ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// URL is the stable, unsigned URL of a public object (images): for
	// localblob, the service's own /blob/<key>, served without a signature
	// under images/ only; for s3blob, the configured public base URL (a
	// CDN or a public-read bucket), by default the path-style object URL.
	URL(key string) string
}

// Info describes a stored object.
type Info struct {
	Size    int64
	ModTime time.Time
}

// MaxKeyLength bounds a key; S3 allows 1024 bytes, ours are far shorter.
const MaxKeyLength = 512

// ValidateKey is the one check of an object key: a relative path of
// non-empty segments made of [a-z0-9-_.], none of them "." or "..", no
// leading or trailing "/", at most MaxKeyLength bytes. Keys come from
// AudioKey and ImageKey, but local stores turn them into file paths, so
// this check is what makes path traversal impossible.
func ValidateKey(key string) error {
	if key == "" {
		return domain.Invalid("Invalid object key: empty")
	}
	if len(key) > MaxKeyLength {
		return domain.Invalid(fmt.Sprintf("Invalid object key: longer than %d bytes", MaxKeyLength))
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return domain.Invalid(fmt.Sprintf("Invalid object key %q: empty path segment", key))
		case ".", "..":
			return domain.Invalid(fmt.Sprintf("Invalid object key %q: relative path segment", key))
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return domain.Invalid(fmt.Sprintf("Invalid object key %q: character %q is not allowed", key, c))
			}
		}
	}
	return nil
}

// MaxTTL is the longest validity of a presigned URL: SigV4's limit, kept
// by every store so callers see one rule.
const MaxTTL = 7 * 24 * time.Hour

// ValidateTTL refuses a URL lifetime outside (0, MaxTTL].
func ValidateTTL(ttl time.Duration) error {
	if ttl < time.Second || ttl > MaxTTL {
		return domain.Invalid(fmt.Sprintf("URL lifetime must be between 1s and %s", MaxTTL))
	}
	return nil
}

// AudioContentType is what songs are uploaded and streamed as.
const AudioContentType = "audio/mpeg"

// AudioKey is where a song's audio lives. It is derived from the song id
// only, so re-titling a song or renaming its artist never orphans it.
func AudioKey(songID string) string { return "audio/" + songID + ".mp3" }

// ImagePrefix is the key prefix of images; localblob serves keys under it
// without a signature, because images are public.
const ImagePrefix = "images/"

// ImageKey is where an image of kind ("users", "artists", "songs",
// "collections") for id is kept, with its extension ("png", "jpg", ...).
func ImageKey(kind, id, ext string) string {
	return ImagePrefix + kind + "/" + id + "." + ext
}

// ValidateContentType refuses a content type that cannot be carried in a
// header or a signed string: empty, too long, or with control characters.
func ValidateContentType(ct string) error { return validateHeaderValue("content type", ct) }

// ValidateDisposition is ValidateContentType for a Content-Disposition.
func ValidateDisposition(d string) error { return validateHeaderValue("content disposition", d) }

func validateHeaderValue(what, v string) error {
	if v == "" || len(v) > 200 {
		return domain.Invalid("Invalid " + what)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return domain.Invalid("Invalid " + what)
		}
	}
	return nil
}
