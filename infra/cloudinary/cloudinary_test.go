package cloudinary

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/images"
)

const (
	apiKey    = "123456789012345"
	apiSecret = "s3cr3t-AbCdEf"
	cloud     = "hustmusik"
)

// fake is a Cloudinary Upload API that checks what the real one checks:
// the API key, a recent timestamp and the SHA-1 signature of the sorted
// parameters, answering errors in Cloudinary's {"error": {"message"}} shape.
type fake struct {
	mu      sync.Mutex
	objects map[string][]byte
	calls   int
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg}})
	}
	action, ok := strings.CutPrefix(r.URL.Path, "/v1_1/"+cloud+"/image/")
	if !ok || r.Method != http.MethodPost {
		fail(http.StatusNotFound, "Resource not found - "+r.URL.Path)
		return
	}
	var file []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			fail(http.StatusBadRequest, "Invalid multipart body")
			return
		}
		if fhs := r.MultipartForm.File["file"]; len(fhs) == 1 {
			fh, _ := fhs[0].Open()
			file, _ = io.ReadAll(fh)
			fh.Close()
		}
	} else if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "Invalid form")
		return
	}
	params := map[string]string{}
	for k, vs := range r.PostForm {
		params[k] = vs[0]
	}
	if params["api_key"] != apiKey {
		fail(http.StatusUnauthorized, "Unknown API key "+params["api_key"])
		return
	}
	ts, err := strconv.ParseInt(params["timestamp"], 10, 64)
	if err != nil {
		fail(http.StatusBadRequest, "Missing required parameter - timestamp")
		return
	}
	if age := time.Since(time.Unix(ts, 0)); age > time.Hour || age < -time.Hour {
		fail(http.StatusBadRequest, fmt.Sprintf("Stale request - reported time is %s which is more than 1 hour ago", time.Unix(ts, 0).UTC()))
		return
	}
	// The signature, recomputed here independently of the package.
	var names []string
	for k, v := range params {
		switch k {
		case "file", "cloud_name", "resource_type", "api_key", "signature":
			continue
		}
		if v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var toSign []string
	for _, k := range names {
		toSign = append(toSign, k+"="+params[k])
	}
	str := strings.Join(toSign, "&")
	sum := sha1.Sum([]byte(str + apiSecret))
	if params["signature"] != hex.EncodeToString(sum[:]) {
		fail(http.StatusUnauthorized, fmt.Sprintf("Invalid Signature %s. String to sign - '%s'.", params["signature"], str))
		return
	}
	publicID := params["public_id"]
	switch action {
	case "upload":
		img, ok := images.Detect(file)
		if !ok {
			fail(http.StatusBadRequest, "Invalid image file")
			return
		}
		if _, exists := f.objects[publicID]; exists && params["overwrite"] != "true" {
			fail(http.StatusBadRequest, "Resource already exists")
			return
		}
		f.objects[publicID] = file
		_ = json.NewEncoder(w).Encode(map[string]any{
			"public_id":  publicID,
			"version":    ts,
			"format":     img.Ext,
			"secure_url": fmt.Sprintf("https://res.cloudinary.com/%s/image/upload/v%d/%s.%s", cloud, ts, publicID, img.Ext),
		})
	case "destroy":
		result := "not found"
		if _, ok := f.objects[publicID]; ok {
			delete(f.objects, publicID)
			result = "ok"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"result": result})
	default:
		fail(http.StatusNotFound, "Unknown action "+action)
	}
}

func newClient(t *testing.T, secret string, now func() time.Time) (*Client, *fake) {
	t.Helper()
	f := &fake{objects: map[string][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: "cloudinary://" + apiKey + ":" + secret + "@" + cloud, APIBaseURL: srv.URL, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSignKnownVector(t *testing.T) {
	// The example of Cloudinary's "Generating authentication signatures".
	params := map[string]string{
		"timestamp":  "1315060510",
		"public_id":  "sample_image",
		"eager":      "w_400,h_300,c_pad|w_260,h_200,c_crop",
		"api_key":    "ignored",
		"file":       "ignored",
		"cloud_name": "ignored",
	}
	if got, want := Sign(params, "abcd"), "bfd09f95f331f558cbd1320e67aa8d488770583e"; got != want {
		t.Errorf("Sign = %s, want %s (string %q)", got, want, StringToSign(params))
	}
}

func TestUploadAndDestroy(t *testing.T) {
	c, f := newClient(t, apiSecret, nil)
	ctx := context.Background()
	id := "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	data := pngBytes(t)
	u, err := c.SaveImage(ctx, images.KindSongs, id, images.PNG, data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "https://res.cloudinary.com/"+cloud+"/image/upload/v") || !strings.HasSuffix(u, "/songs/i-"+id+".png") {
		t.Errorf("secure_url = %q", u)
	}
	if !bytes.Equal(f.objects["songs/i-"+id], data) {
		t.Fatal("the fake did not receive the image bytes")
	}
	// A second upload overwrites.
	if _, err := c.SaveImage(ctx, images.KindSongs, id, images.PNG, data); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if err := c.DeleteImage(ctx, images.KindSongs, id); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.objects["songs/i-"+id]; ok {
		t.Error("destroy left the image")
	}
	if err := c.DeleteImage(ctx, images.KindSongs, id); err != nil {
		t.Errorf("destroying a missing image: %v", err)
	}
}

func TestWrongSecretSurfaces(t *testing.T) {
	c, f := newClient(t, "not-the-secret", nil)
	_, err := c.SaveImage(context.Background(), images.KindUsers, "42", images.PNG, pngBytes(t))
	if err == nil || !strings.Contains(err.Error(), "status 401") || !strings.Contains(err.Error(), "Invalid Signature") {
		t.Fatalf("upload with a wrong secret = %v, want the 401 Invalid Signature", err)
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Error("the error leaks the secret")
	}
	if len(f.objects) != 0 {
		t.Error("the fake stored an upload with a bad signature")
	}
	if err := c.DeleteImage(context.Background(), images.KindUsers, "42"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("destroy with a wrong secret = %v", err)
	}
}

func TestStaleTimestampSurfaces(t *testing.T) {
	c, _ := newClient(t, apiSecret, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	_, err := c.SaveImage(context.Background(), images.KindUsers, "42", images.PNG, pngBytes(t))
	if err == nil || !strings.Contains(err.Error(), "Stale request") {
		t.Fatalf("upload with an old clock = %v, want Stale request", err)
	}
}

func TestPublicID(t *testing.T) {
	tests := []struct {
		kind, id, want string
	}{
		{"users", "7", "users/i-7"},
		{"artists", "a-b", "artists/i-a-b"},
		{"songs", "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "songs/i-0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
		{"collections", "9", "collections/i-9"},
		{"admins", "1", ""},
		{"users", "../1", ""},
		{"users", "", ""},
	}
	for _, tt := range tests {
		got, err := PublicID(tt.kind, tt.id)
		if tt.want == "" {
			if err == nil {
				t.Errorf("PublicID(%q, %q) = %q, want an error", tt.kind, tt.id, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("PublicID(%q, %q) = %q, %v; want %q", tt.kind, tt.id, got, err, tt.want)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, bad := range []string{"", "https://k:s@cloud", "cloudinary://k@cloud", "cloudinary://:s@cloud", "cloudinary://k:s@"} {
		_, err := New(Config{URL: bad})
		if err == nil {
			t.Errorf("New accepted CLOUDINARY_URL %q", bad)
		}
		if err != nil && strings.Contains(bad, ":s@") && strings.Contains(err.Error(), ":s@") {
			t.Errorf("error %q prints the secret", err)
		}
	}
	if _, err := New(Config{URL: "cloudinary://k:s@cloud"}); err != nil {
		t.Errorf("a good CLOUDINARY_URL: %v", err)
	}
}
