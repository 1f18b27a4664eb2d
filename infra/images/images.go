// Package images checks uploaded images (by their bytes, never by their
// name) and declares Store, where the writes keep them: the blob store
// (BlobStore, the embedded default) or Cloudinary (package cloudinary).
package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // DecodeConfig of the formats below
	_ "image/jpeg"
	_ "image/png"
	"io"
	"slices"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
)

// MaxSize is the largest image accepted.
const MaxSize = 10 << 20

// The client messages of a refused image (API.md: a bad file is a 400).
const (
	msgType     = "File must be a png, jpg, jpeg, gif, avif or webp image"
	msgTooLarge = "Image must be at most 10 MB"
)

// ErrTooLarge is an image over MaxSize. It is a validation error (400, as
// every bad file is), not a 413: the request itself was acceptable.
var ErrTooLarge error = &domain.Error{Kind: domain.ErrValidation, Msg: msgTooLarge}

// Image is what an upload turned out to be.
type Image struct {
	ContentType string // image/png, image/jpeg, image/gif, image/avif, image/webp
	Ext         string // png, jpg, gif, avif, webp
}

// Formats, in the order Detect tries them.
var (
	PNG  = Image{"image/png", "png"}
	JPEG = Image{"image/jpeg", "jpg"}
	GIF  = Image{"image/gif", "gif"}
	AVIF = Image{"image/avif", "avif"}
	WEBP = Image{"image/webp", "webp"}
)

// Exts are the extensions of every accepted format.
var Exts = []string{PNG.Ext, JPEG.Ext, GIF.Ext, AVIF.Ext, WEBP.Ext}

// Validate reads at most MaxSize bytes of r and returns the image's format
// and bytes. The type is decided by content: a file named .png that is an
// executable, HTML or a truncated image is refused with a 400 whose
// message lists the accepted types; one over MaxSize is ErrTooLarge.
func Validate(r io.Reader) (Image, []byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return Image{}, nil, fmt.Errorf("images: read upload: %w", err)
	}
	if len(data) > MaxSize {
		return Image{}, nil, ErrTooLarge
	}
	img, ok := Detect(data)
	if !ok {
		return Image{}, nil, domain.Invalid(msgType)
	}
	return img, data, nil
}

// Detect names the format of data from its magic bytes and checks that
// its header is whole: png, jpeg and gif by decoding their header with
// the standard library (which reads the dimensions); avif and webp, which
// it cannot decode, by their container structure.
func Detect(data []byte) (Image, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return decodable(data, PNG)
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return decodable(data, JPEG)
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return decodable(data, GIF)
	case isWebP(data):
		return WEBP, true
	case isAVIF(data):
		return AVIF, true
	}
	return Image{}, false
}

func decodable(data []byte, img Image) (Image, bool) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return Image{}, false
	}
	return img, true
}

// isWebP: "RIFF", a little-endian size that fits the data, "WEBP", then a
// first chunk of a WebP kind (VP8, VP8L or VP8X).
func isWebP(data []byte) bool {
	if len(data) < 20 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return false
	}
	size := binary.LittleEndian.Uint32(data[4:8])
	if size < 12 || uint64(size)+8 > uint64(len(data)) {
		return false
	}
	switch string(data[12:16]) {
	case "VP8 ", "VP8L", "VP8X":
		return true
	}
	return false
}

// isAVIF: an ISO-BMFF "ftyp" box first whose major or compatible brands
// include avif (still image) or avis (image sequence).
func isAVIF(data []byte) bool {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return false
	}
	size := binary.BigEndian.Uint32(data[0:4])
	if size < 16 || size%4 != 0 || uint64(size) > uint64(len(data)) {
		return false
	}
	brands := [][]byte{data[8:12]} // major brand; data[12:16] is its version
	for i := 16; i+4 <= int(size); i += 4 {
		brands = append(brands, data[i:i+4])
	}
	return slices.ContainsFunc(brands, func(b []byte) bool {
		return string(b) == "avif" || string(b) == "avis"
	})
}

// The kinds of owners images belong to; they name Cloudinary folders and
// blob key prefixes.
const (
	KindUsers       = "users"
	KindArtists     = "artists"
	KindSongs       = "songs"
	KindCollections = "collections"
)

// CheckOwner refuses an unknown kind or an id that could not be part of
// a key or public id (ids are UUIDs).
func CheckOwner(kind, id string) error {
	switch kind {
	case KindUsers, KindArtists, KindSongs, KindCollections:
	default:
		return fmt.Errorf("images: unknown owner kind %q", kind)
	}
	if id == "" || blob.ValidateKey(id) != nil || bytes.ContainsAny([]byte(id), "/.") {
		return fmt.Errorf("images: owner id %q is not a plain id", id)
	}
	return nil
}

// Store keeps the one image of an owner (a user's avatar, an artist's,
// song's or collection's thumbnail). SaveImage replaces any previous image
// of that owner and returns the URL clients display; DeleteImage removes
// it (nothing there is fine).
type Store interface {
	SaveImage(ctx context.Context, kind, id string, img Image, data []byte) (url string, err error)
	DeleteImage(ctx context.Context, kind, id string) error
}

// BlobStore keeps images in a blob store under blob.ImageKey, served at
// the store's public URL (localblob serves images/ without a signature).
type BlobStore struct {
	blobs blob.Store
}

var _ Store = (*BlobStore)(nil)

// NewBlobStore keeps images in blobs.
func NewBlobStore(blobs blob.Store) *BlobStore { return &BlobStore{blobs: blobs} }

// SaveImage stores data and removes the owner's image in any other format,
// so a png replacing a jpg leaves no orphan. The URL carries a version
// from the content: a replaced image gets a new URL, which no browser or
// CDN cache can hold a stale copy of.
func (s *BlobStore) SaveImage(ctx context.Context, kind, id string, img Image, data []byte) (string, error) {
	if err := CheckOwner(kind, id); err != nil {
		return "", err
	}
	if !slices.Contains(Exts, img.Ext) {
		return "", fmt.Errorf("images: unknown image extension %q", img.Ext)
	}
	key := blob.ImageKey(kind, id, img.Ext)
	if err := s.blobs.Put(ctx, key, img.ContentType, bytes.NewReader(data), int64(len(data))); err != nil {
		return "", fmt.Errorf("images: save %s: %w", key, err)
	}
	if err := s.deleteExcept(ctx, kind, id, img.Ext); err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return s.blobs.URL(key) + "?v=" + hex.EncodeToString(sum[:6]), nil
}

// DeleteImage removes the owner's image whatever its format.
func (s *BlobStore) DeleteImage(ctx context.Context, kind, id string) error {
	if err := CheckOwner(kind, id); err != nil {
		return err
	}
	return s.deleteExcept(ctx, kind, id, "")
}

func (s *BlobStore) deleteExcept(ctx context.Context, kind, id, keep string) error {
	var errs []error
	for _, ext := range Exts {
		if ext == keep {
			continue
		}
		if err := s.blobs.Delete(ctx, blob.ImageKey(kind, id, ext)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("images: delete %s/%s: %w", kind, id, err)
	}
	return nil
}
