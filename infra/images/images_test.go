package images

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
	"github.com/hustmusik/backend/infra/blob/localblob"
)

func tiny() image.Image {
	m := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black, color.White})
	m.SetColorIndex(1, 1, 1)
	return m
}

func encode(t *testing.T, enc func(io.Writer, image.Image) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, tiny()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(t *testing.T) []byte { return encode(t, png.Encode) }

// webp builds a RIFF container holding one chunk of the given kind.
func webp(kind string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+len(payload)))
	b.WriteString("WEBP")
	b.WriteString(kind)
	binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	return b.Bytes()
}

// ftyp builds an ISO-BMFF file starting with an ftyp box of these brands,
// followed by an empty meta box.
func ftyp(major string, compatible ...string) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(16+4*len(compatible)))
	b.WriteString("ftyp")
	b.WriteString(major)
	b.Write([]byte{0, 0, 0, 0})
	for _, c := range compatible {
		b.WriteString(c)
	}
	b.Write([]byte{0, 0, 0, 8})
	b.WriteString("meta")
	return b.Bytes()
}

func TestValidate(t *testing.T) {
	pngData := pngBytes(t)
	jpegData := encode(t, func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) })
	gifData := encode(t, func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) })
	vp8l := webp("VP8L", []byte{0x2f, 0x02, 0x40, 0x00, 0x00, 0x07, 0x10})
	padded := append(append([]byte{}, pngData...), make([]byte, MaxSize-len(pngData))...)

	tests := []struct {
		name string
		data []byte
		want Image
		err  error // nil: accepted
	}{
		{"png", pngData, PNG, nil},
		{"jpeg", jpegData, JPEG, nil},
		{"gif", gifData, GIF, nil},
		{"webp lossless", vp8l, WEBP, nil},
		{"webp lossy", webp("VP8 ", make([]byte, 10)), WEBP, nil},
		{"webp extended", webp("VP8X", make([]byte, 10)), WEBP, nil},
		{"avif", ftyp("avif", "mif1", "miaf"), AVIF, nil},
		{"avif sequence", ftyp("avis", "msf1", "avis"), AVIF, nil},
		{"avif as compatible brand", ftyp("mif1", "avif", "miaf"), AVIF, nil},
		{"png exactly at the limit", padded, PNG, nil},

		{"over the limit", append(padded, 0), Image{}, ErrTooLarge},
		{"empty", nil, Image{}, domain.ErrValidation},
		{"exe renamed .png", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 100)...), Image{}, domain.ErrValidation},
		{"elf", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...), Image{}, domain.ErrValidation},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), Image{}, domain.ErrValidation},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), Image{}, domain.ErrValidation},
		{"png magic only", pngData[:8], Image{}, domain.ErrValidation},
		{"truncated png", pngData[:20], Image{}, domain.ErrValidation},
		{"png magic then html", append(append([]byte{}, pngData[:8]...), "<html>"...), Image{}, domain.ErrValidation},
		{"truncated jpeg", jpegData[:4], Image{}, domain.ErrValidation},
		{"truncated gif", gifData[:6], Image{}, domain.ErrValidation},
		{"webp size beyond the data", vp8l[:len(vp8l)-3], Image{}, domain.ErrValidation},
		{"riff that is a wav", append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 40)...), Image{}, domain.ErrValidation},
		{"webp with a foreign chunk", webp("ABCD", make([]byte, 10)), Image{}, domain.ErrValidation},
		{"heic", ftyp("heic", "mif1", "heic"), Image{}, domain.ErrValidation},
		{"mp4", ftyp("isom", "iso2", "mp41"), Image{}, domain.ErrValidation},
		{"ftyp box larger than the file", ftyp("avif", "mif1", "miaf")[:18], Image{}, domain.ErrValidation},
	}
	for _, tt := range tests {
		img, data, err := Validate(bytes.NewReader(tt.data))
		if tt.err == nil {
			if err != nil {
				t.Errorf("%s: refused: %v", tt.name, err)
				continue
			}
			if img != tt.want || !bytes.Equal(data, tt.data) {
				t.Errorf("%s: got %+v and %d bytes, want %+v and %d", tt.name, img, len(data), tt.want, len(tt.data))
			}
			continue
		}
		if !errors.Is(err, tt.err) || !errors.Is(err, domain.ErrValidation) {
			t.Errorf("%s: err = %v, want %v (a 400)", tt.name, err, tt.err)
		}
	}
}

func TestMessages(t *testing.T) {
	_, _, err := Validate(strings.NewReader("<html>"))
	var de *domain.Error
	if !errors.As(err, &de) || de.Msg != "File must be a png, jpg, jpeg, gif, avif or webp image" {
		t.Errorf("wrong type message: %v", err)
	}
	_, _, err = Validate(io.LimitReader(zeros{}, MaxSize+100))
	if !errors.As(err, &de) || de.Msg != "Image must be at most 10 MB" {
		t.Errorf("too large message: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestValidateReadsAtMostTheLimit: an endless upload is cut at MaxSize+1.
func TestValidateReadsAtMostTheLimit(t *testing.T) {
	var n countingReader
	_, _, err := Validate(&n)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless upload: %v", err)
	}
	if n > MaxSize+1 {
		t.Errorf("read %d bytes of an endless upload", n)
	}
}

type countingReader int64

func (c *countingReader) Read(p []byte) (int, error) {
	clear(p)
	*c += countingReader(len(p))
	return len(p), nil
}

func TestCheckOwner(t *testing.T) {
	for _, ok := range [][2]string{{"users", "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}, {"collections", "42"}} {
		if err := CheckOwner(ok[0], ok[1]); err != nil {
			t.Errorf("CheckOwner(%q, %q) = %v", ok[0], ok[1], err)
		}
	}
	for _, bad := range [][2]string{{"admins", "1"}, {"users", ""}, {"users", "../x"}, {"users", "a/b"}, {"users", "a.png"}, {"users", "A"}} {
		if err := CheckOwner(bad[0], bad[1]); err == nil {
			t.Errorf("CheckOwner(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestBlobStore(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	blobs, err := localblob.New(localblob.Config{Dir: t.TempDir(), PublicURL: srv.URL, Secret: localblob.DeriveSecret("a jwt secret long enough for tests")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h = blobs.Handler()
	ctx := context.Background()
	s := NewBlobStore(blobs)
	id := "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

	pngData := pngBytes(t)
	u1, err := s.SaveImage(ctx, KindArtists, id, PNG, pngData)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u1, srv.URL+"/blob/images/artists/"+id+".png?v=") {
		t.Errorf("URL = %q", u1)
	}
	resp, err := http.Get(u1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pngData) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET saved image: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// A replacement in another format removes the old file.
	gifData := encode(t, func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) })
	u2, err := s.SaveImage(ctx, KindArtists, id, GIF, gifData)
	if err != nil {
		t.Fatal(err)
	}
	if u2 == u1 {
		t.Error("a replaced image kept its URL")
	}
	if _, err := blobs.Stat(ctx, blob.ImageKey(KindArtists, id, "png")); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the replaced png is still there: %v", err)
	}
	if err := s.DeleteImage(ctx, KindArtists, id); err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Stat(ctx, blob.ImageKey(KindArtists, id, "gif")); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the deleted gif is still there: %v", err)
	}
	if err := s.DeleteImage(ctx, KindArtists, id); err != nil {
		t.Errorf("deleting no image: %v", err)
	}
	if _, err := s.SaveImage(ctx, "admins", id, PNG, pngData); err == nil {
		t.Error("an unknown kind was accepted")
	}
	if _, err := s.SaveImage(ctx, KindUsers, id, Image{"image/svg+xml", "svg"}, []byte("<svg/>")); err == nil {
		t.Error("an svg was saved")
	}
}
