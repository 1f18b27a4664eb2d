package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/blob"
	"github.com/hustmusik/backend/infra/blob/blobtest"
	"github.com/hustmusik/backend/infra/blob/localblob"
	"github.com/hustmusik/backend/infra/blob/s3blob"
	"github.com/hustmusik/backend/infra/cloudinary"
	"github.com/hustmusik/backend/infra/images"
)

// toTestServer sends requests for the configured PUBLIC_URL (where blob
// URLs point) to the httptest server that really serves the API, leaving
// the URLs themselves, signatures included, exactly as handed out.
type toTestServer struct {
	from, to *url.URL
}

func (rt toTestServer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == rt.from.Host {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = rt.to.Scheme, rt.to.Host, rt.to.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (api *testAPI) blobClient() *http.Client {
	api.t.Helper()
	from, err := url.Parse(api.cfg.PublicURL)
	if err != nil {
		api.t.Fatal(err)
	}
	to, err := url.Parse(api.url)
	if err != nil {
		api.t.Fatal(err)
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: toTestServer{from: from, to: to}}
}

// fetch sends a request to a blob URL as handed out by the API.
func (api *testAPI) fetch(method, u string, body []byte, headers ...string) answer {
	api.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		api.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := api.blobClient().Do(req)
	if err != nil {
		api.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: raw}
}

// urlOf is the {"url"} answer of a presigned endpoint: unwrapped, alone.
func urlOf(t *testing.T, r answer) string {
	t.Helper()
	m := r.json(t)
	u, ok := m["url"].(string)
	if !ok || u == "" || len(m) != 1 {
		t.Fatalf("want {\"url\"} unwrapped, got %s", r.body)
	}
	return u
}

// mp3Bytes looks like an mp3: an ID3v2 header, then n bytes of noise.
func mp3Bytes(t *testing.T, n int) []byte {
	t.Helper()
	b := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, n)...)
	_, _ = rand.Read(b[10:])
	return b
}

func pngBytes(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		for y := range 3 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// webpBytes is a WebP container header with one (empty) VP8 chunk: what
// images.Validate checks of a webp.
func webpBytes() []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8 \x04\x00\x00\x00\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)-8))
	return b
}

// fakePNG is text in a file named .png.
var fakePNG = []byte("<html><script>alert(1)</script></html>")

const badFileMsg = "File must be a png, jpg, jpeg, gif, avif or webp image"

// multipartWith is a multipart body of text fields and, when file is not
// nil, a `file` part named name.
func multipartWith(t *testing.T, vals map[string]string, name string, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range vals {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func (api *testAPI) postForm(path, token string, vals map[string]string, name string, file []byte) answer {
	api.t.Helper()
	body, ct := multipartWith(api.t, vals, name, file)
	return api.do("POST", path, token, body, "Content-Type", ct)
}

func (api *testAPI) song(id string) map[string]any {
	api.t.Helper()
	return api.expect(api.do("GET", "/v1/song/"+id, "", nil), 200).json(api.t)
}

// mediaCast is a catalog cast with an artist of mgr1 and a song of it.
type mediaCast struct {
	catalogCast
	artist, song string
}

func newMediaCast(t *testing.T) mediaCast {
	t.Helper()
	c := mediaCast{catalogCast: newCatalogCast(t)}
	c.artist = c.addArtist(c.mgr1, map[string]any{"name": "Sơn Tùng M-TP"})["id"].(string)
	c.song = c.addSong(c.mgr1, map[string]any{"title": "Lạc Trôi", "artists": c.artist})["id"].(string)
	return c
}

func TestMediaUploadStreamAndViews(t *testing.T) {
	c := newMediaCast(t)
	api := c.api
	upload := "/v1/song/" + c.song + "/presigned/upload"
	stream := "/v1/song/" + c.song + "/presigned/stream"

	// Who may upload: the manager of the primary artist and Admins.
	api.expect(api.do("GET", upload, "", nil), 401)
	api.expect(api.do("GET", upload, c.user.access, nil), 403)
	api.expect(api.do("GET", upload, c.mgr2.access, nil), 403)
	api.expect(api.do("GET", "/v1/song/not-a-uuid/presigned/upload", c.mgr1.access, nil), 400)
	api.expect(api.do("GET", "/v1/song/"+unknownID+"/presigned/upload", c.mgr1.access, nil), 404)
	urlOf(t, api.expect(api.do("GET", upload, c.admin.access, nil), 200))
	put := urlOf(t, api.expect(api.do("GET", upload, c.mgr1.access, nil), 200))
	if !strings.HasPrefix(put, api.cfg.PublicURL+"/blob/audio/"+c.song+".mp3?") {
		t.Fatalf("upload URL %s: not this service's audio key of the song", put)
	}

	audio := mp3Bytes(t, 6000)
	api.expect(api.fetch("PUT", put, audio, "Content-Type", "image/png"), 403)
	api.expect(api.fetch("PUT", put, audio, "Content-Type", "audio/mpeg"), 200)

	if v := api.song(c.song)["views"]; v != float64(0) {
		t.Fatalf("views before any stream grant: %v", v)
	}
	api.expect(api.do("GET", "/v1/song/not-a-uuid/presigned/stream", "", nil), 400)
	api.expect(api.do("GET", "/v1/song/"+unknownID+"/presigned/stream", "", nil), 404)
	get := urlOf(t, api.expect(api.do("GET", stream, "", nil), 200)) // anonymous is fine
	if v := api.song(c.song)["views"]; v != float64(1) {
		t.Fatalf("views after one grant: %v", v)
	}
	origin := api.cfg.FrontendOrigins[0]
	r := api.expect(api.fetch("GET", get, nil, "Origin", origin), 200)
	if !bytes.Equal(r.body, audio) {
		t.Fatalf("streamed %d bytes, uploaded %d", len(r.body), len(audio))
	}
	for h, want := range map[string]string{"Content-Type": "audio/mpeg", "Content-Disposition": "inline",
		"Access-Control-Allow-Origin": origin} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	// Ranges, as an <audio> element asks.
	r = api.expect(api.fetch("GET", get, nil, "Range", "bytes=10-19"), 206)
	if !bytes.Equal(r.body, audio[10:20]) {
		t.Fatalf("range: %q", r.body)
	}

	urlOf(t, api.expect(api.do("GET", stream, c.user.access, nil), 200))
	if v := api.song(c.song)["views"]; v != float64(2) {
		t.Fatalf("views after two grants: %v", v)
	}

	// A tampered URL is refused: another signature, another key, a longer life.
	u, _ := url.Parse(get)
	q := u.Query()
	sig := q.Get("sig")
	for name, tamper := range map[string]func(q url.Values, u *url.URL){
		"signature": func(q url.Values, _ *url.URL) { q.Set("sig", strings.Repeat("0", len(sig))) },
		"expiry":    func(q url.Values, _ *url.URL) { q.Set("exp", fmt.Sprint(time.Now().Add(48*time.Hour).Unix())) },
		"key":       func(_ url.Values, u *url.URL) { u.Path = "/blob/audio/" + unknownID + ".mp3" },
		"type":      func(q url.Values, _ *url.URL) { q.Set("ct", "text/html") },
	} {
		t2, q2 := *u, url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		tamper(q2, &t2)
		t2.RawQuery = q2.Encode()
		if a := api.fetch("GET", t2.String(), nil); a.status != 403 {
			t.Errorf("tampered %s: %d %s", name, a.status, a.body)
		}
	}

	// A renamed song keeps its audio: the key is the song's id.
	api.expect(api.do("POST", "/v1/song/"+c.song, c.mgr1.access, map[string]any{"title": "Lạc Trôi (Remix)"}), 200)
	get2 := urlOf(t, api.expect(api.do("GET", stream, "", nil), 200))
	if r := api.expect(api.fetch("GET", get2, nil), 200); !bytes.Equal(r.body, audio) {
		t.Fatal("the renamed song streams other bytes")
	}

	// Deleting the song deletes its audio: even a still-valid URL finds nothing.
	api.expect(api.do("DELETE", "/v1/song/"+c.song, c.mgr1.access, nil), 204)
	api.expect(api.fetch("GET", get2, nil), 404)
	api.expect(api.do("GET", stream, "", nil), 404)
	api.expect(api.do("GET", upload, c.mgr1.access, nil), 404)
}

func TestMediaUploadGrantsAreLimitedPerSong(t *testing.T) {
	c := newMediaCast(t)
	api := c.api
	upload := "/v1/song/" + c.song + "/presigned/upload"
	for i := range 30 {
		if r := api.do("GET", upload, c.mgr1.access, nil); r.status != 200 {
			t.Fatalf("grant %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := api.expect(api.do("GET", upload, c.admin.access, nil), 429)
	if msg := r.errorMessage(t); !strings.Contains(msg, "at most 30 every 15 minutes") {
		t.Fatalf("429 message: %q", msg)
	}
	// The limit is per song.
	other := c.addSong(c.mgr1, map[string]any{"title": "Chúng ta của hiện tại", "artists": c.artist})["id"].(string)
	api.expect(api.do("GET", "/v1/song/"+other+"/presigned/upload", c.mgr1.access, nil), 200)
}

// A 20 MB mp3 goes through the real server: the API's 11 MiB body limit
// does not apply to /blob/, whose handler bounds uploads at 50 MB.
func TestMediaLargeUploadThroughTheServer(t *testing.T) {
	c := newMediaCast(t)
	api := c.api
	put := urlOf(t, api.expect(api.do("GET", "/v1/song/"+c.song+"/presigned/upload", c.mgr1.access, nil), 200))
	audio := mp3Bytes(t, 20<<20)
	api.expect(api.fetch("PUT", put, audio, "Content-Type", "audio/mpeg"), 200)
	info, err := api.app.mediaStores.blobs.Stat(context.Background(), blob.AudioKey(c.song))
	if err != nil || info.Size != int64(len(audio)) {
		t.Fatalf("stored %d bytes (%v), want %d", info.Size, err, len(audio))
	}
	get := urlOf(t, api.expect(api.do("GET", "/v1/song/"+c.song+"/presigned/stream", "", nil), 200))
	if r := api.expect(api.fetch("GET", get, nil), 200); !bytes.Equal(r.body, audio) {
		t.Fatal("streamed bytes differ")
	}
	// Over 50 MB is refused by the blob handler.
	big := make([]byte, 51<<20)
	if r := api.fetch("PUT", put, big, "Content-Type", "audio/mpeg"); r.status != 413 {
		t.Fatalf("51 MB upload: %d", r.status)
	}
	// The API's own limit still holds everywhere else.
	if r := api.do("POST", "/v1/artist", c.mgr1.access, big[:12<<20], "Content-Type", "application/json"); r.status != 413 {
		t.Fatalf("12 MB API body: %d", r.status)
	}
}

// imageAt fetches a stored image URL and checks it serves want.
func (api *testAPI) imageAt(u string, want []byte, contentType string) {
	api.t.Helper()
	if u == "" {
		api.t.Fatal("no image URL stored")
	}
	r := api.expect(api.fetch("GET", u, nil), 200)
	if !bytes.Equal(r.body, want) {
		api.t.Fatalf("%s serves %d other bytes", u, len(r.body))
	}
	if got := r.header.Get("Content-Type"); got != contentType {
		api.t.Fatalf("%s Content-Type %q, want %q", u, got, contentType)
	}
}

func TestMediaImagesOnSignupAndProfile(t *testing.T) {
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "admin@hust.vn"})
	admin := api.signUp("admin@hust.vn", "Quản trị")
	red := pngBytes(t, color.RGBA{200, 0, 0, 255})

	// A bad file: 400 with the images message, and no account.
	r := api.expect(api.postForm("/v1/auth/signup", "", map[string]string{"email": "lan@hust.vn",
		"password": "mat-khau-1", "username": "Lan"}, "avatar.png", fakePNG), 400)
	if msg := r.errorMessage(t); msg != badFileMsg {
		t.Fatalf("message %q", msg)
	}
	api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": "lan@hust.vn", "password": "mat-khau-1"}), 400)

	// A png avatar: stored, its URL is avatarurl (over a text avatarurl).
	lan := accountOf(t, api.expect(api.postForm("/v1/auth/signup", "", map[string]string{"email": "lan@hust.vn",
		"password": "mat-khau-1", "username": "Lan", "avatarurl": "https://elsewhere.example/a.png"}, "avatar.png", red), 200))
	me := dataObject(t, api.expect(api.do("GET", "/v1/user/me", lan.access, nil), 200))
	avatar := me["avatarurl"].(string)
	if strings.Contains(avatar, "elsewhere") {
		t.Fatalf("the file must override the text avatarurl: %q", avatar)
	}
	api.imageAt(avatar, red, "image/png")

	// A bad file on a profile update changes nothing, not even the other fields.
	api.expect(api.postForm("/v1/user/me", lan.access, map[string]string{"username": "Lan Mới", "country": "VN"}, "x.png", fakePNG), 400)
	me = dataObject(t, api.expect(api.do("GET", "/v1/user/me", lan.access, nil), 200))
	fields(t, me, map[string]any{"username": "Lan", "country": "", "avatarurl": avatar})
	api.imageAt(avatar, red, "image/png")

	// file=null is no file; the other fields apply.
	p := dataObject(t, api.expect(api.postForm("/v1/user/me", lan.access, map[string]string{"country": "VN", "file": "null"}, "", nil), 200))
	fields(t, p, map[string]any{"country": "VN", "avatarurl": avatar})

	// A webp alone is a valid update.
	webp := webpBytes()
	p = dataObject(t, api.expect(api.postForm("/v1/user/me", lan.access, nil, "me.webp", webp), 200))
	newAvatar := p["avatarurl"].(string)
	if newAvatar == avatar {
		t.Fatal("a new image must get a new URL")
	}
	api.imageAt(newAvatar, webp, "image/webp")
	fields(t, dataObject(t, api.expect(api.do("GET", "/v1/user/"+lan.id, "", nil), 200)), map[string]any{"avatarurl": newAvatar})
	// The png it replaced is gone (one image per owner).
	api.expect(api.fetch("GET", avatar, nil), 404)

	// Deleting the user deletes the avatar.
	api.expect(api.do("DELETE", "/v1/user/"+lan.id, admin.access, nil), 204)
	api.expect(api.fetch("GET", newAvatar, nil), 404)
}

func TestMediaImagesOnCatalogWrites(t *testing.T) {
	c := newMediaCast(t)
	api := c.api
	red, blue := pngBytes(t, color.RGBA{200, 0, 0, 255}), pngBytes(t, color.RGBA{0, 0, 200, 255})
	countOf := func(path string) int {
		n, _ := list(t, api.expect(api.do("GET", path, "", nil), 200))
		return n
	}

	// Artists: a bad file adds nothing.
	before := countOf("/v1/artist")
	r := api.expect(api.postForm("/v1/artist", c.mgr1.access, map[string]string{"name": "Hòa Minzy"}, "a.png", fakePNG), 400)
	if msg := r.errorMessage(t); msg != badFileMsg {
		t.Fatalf("message %q", msg)
	}
	if n := countOf("/v1/artist"); n != before {
		t.Fatalf("a refused artist was added: %d artists, %d before", n, before)
	}
	a := dataObject(t, api.expect(api.postForm("/v1/artist", c.mgr1.access, map[string]string{"name": "Hòa Minzy",
		"avatarurl": "/text.png"}, "a.png", red), 200))
	aid, aURL := a["id"].(string), a["avatarurl"].(string)
	api.imageAt(aURL, red, "image/png")
	// A stranger's file is refused before it is stored: the image stays.
	api.expect(api.postForm("/v1/artist/"+aid, c.mgr2.access, map[string]string{"name": "X"}, "b.png", blue), 403)
	api.imageAt(aURL, red, "image/png")
	api.expect(api.postForm("/v1/artist/"+aid, c.mgr1.access, map[string]string{"name": "Hòa Minzy 2"}, "b.png", fakePNG), 400)
	byID := api.expect(api.do("GET", "/v1/artist/"+aid, "", nil), 200).json(t)["data"].([]any)
	fields(t, byID[0].(map[string]any), map[string]any{"name": "Hòa Minzy", "avatarurl": aURL})
	u := dataObject(t, api.expect(api.postForm("/v1/artist/"+aid, c.mgr1.access, nil, "b.png", blue), 200))
	if u["name"] != "Hòa Minzy" {
		t.Fatalf("the refused rename was applied: %v", u)
	}
	aURL = u["avatarurl"].(string)
	api.imageAt(aURL, blue, "image/png")

	// Songs.
	before = countOf("/v1/song")
	api.expect(api.postForm("/v1/song", c.mgr1.access, map[string]string{"title": "Bật tình yêu lên", "artists": aid}, "s.png", fakePNG), 400)
	if n := countOf("/v1/song"); n != before {
		t.Fatalf("a refused song was added")
	}
	api.expect(api.postForm("/v1/song", c.mgr2.access, map[string]string{"title": "Not mine", "artists": aid}, "s.png", red), 403)
	s := dataObject(t, api.expect(api.postForm("/v1/song", c.mgr1.access, map[string]string{"title": "Bật tình yêu lên",
		"artists": aid, "thumbnailurl": "/text.png"}, "s.png", red), 200))
	sid, sURL := s["id"].(string), s["thumbnailurl"].(string)
	api.imageAt(sURL, red, "image/png")
	if got := api.song(sid)["thumbnailurl"]; got != sURL {
		t.Fatalf("GET song thumbnailurl %v, want %s", got, sURL)
	}
	api.expect(api.postForm("/v1/song/"+sid, c.mgr1.access, map[string]string{"genre": "V-Pop"}, "s.png", fakePNG), 400)
	if g := api.song(sid)["genre"]; g != "" {
		t.Fatalf("the refused genre was applied: %v", g)
	}
	webp := webpBytes()
	s = dataObject(t, api.expect(api.postForm("/v1/song/"+sid, c.mgr1.access, map[string]string{"genre": "V-Pop"}, "s.webp", webp), 200))
	fields(t, s, map[string]any{"genre": "V-Pop"})
	sURL = s["thumbnailurl"].(string)
	api.imageAt(sURL, webp, "image/webp")

	// Deleting the song and the artist deletes their images.
	api.expect(api.do("DELETE", "/v1/song/"+sid, c.mgr1.access, nil), 204)
	api.expect(api.fetch("GET", sURL, nil), 404)
	api.expect(api.do("DELETE", "/v1/artist/"+aid, c.mgr1.access, nil), 204)
	api.expect(api.fetch("GET", aURL, nil), 404)
}

func TestMediaImagesOnCollections(t *testing.T) {
	api := newTestAPI(t, nil)
	lan, minh := api.signUp("lan@hust.vn", "Lan"), api.signUp("minh@hust.vn", "Minh")
	red, blue := pngBytes(t, color.RGBA{200, 0, 0, 255}), pngBytes(t, color.RGBA{0, 0, 200, 255})

	api.expect(api.postForm("/v1/collection", lan.access, map[string]string{"title": "Chill"}, "c.png", fakePNG), 400)
	mine := api.expect(api.do("GET", "/v1/user/me/playlists", lan.access, nil), 200).json(t)["data"].([]any)
	if len(mine) != 0 {
		t.Fatalf("a refused collection was created: %v", mine)
	}
	col := dataObject(t, api.expect(api.postForm("/v1/collection", lan.access, map[string]string{"title": "Chill",
		"file": "null"}, "", nil), 200))
	cid := col["id"].(string)
	if col["thumbnailurl"] != "" {
		t.Fatalf("file=null stored something: %v", col)
	}
	api.expect(api.postForm("/v1/collection/"+cid, minh.access, nil, "c.png", red), 403)
	api.expect(api.postForm("/v1/collection/"+cid, lan.access, map[string]string{"title": "Đêm"}, "c.png", fakePNG), 400)
	col = dataObject(t, api.expect(api.postForm("/v1/collection/"+cid, lan.access, nil, "c.png", red), 200))
	fields(t, col, map[string]any{"title": "Chill"})
	cURL := col["thumbnailurl"].(string)
	api.imageAt(cURL, red, "image/png")

	other := dataObject(t, api.expect(api.postForm("/v1/collection", minh.access, map[string]string{"title": "Rock"}, "c.png", blue), 200))
	api.imageAt(other["thumbnailurl"].(string), blue, "image/png")

	api.expect(api.do("DELETE", "/v1/collection/"+cid, lan.access, nil), 200)
	api.expect(api.fetch("GET", cURL, nil), 404)
	api.imageAt(other["thumbnailurl"].(string), blue, "image/png")
}

// The local blob store passes the blob conformance suite through the
// running service: its URLs are served by the API's own engine.
func TestMediaBlobConformanceThroughTheService(t *testing.T) {
	api := newTestAPI(t, nil)
	if api.app.mediaStores.local == nil {
		t.Fatal("the embedded default must be the local blob store")
	}
	blobtest.Run(t, func(t *testing.T) (blob.Store, *http.Client) {
		return api.app.mediaStores.blobs, api.blobClient()
	})
}

func TestMediaBackendSelection(t *testing.T) {
	api := newTestAPI(t, map[string]string{"S3_ENDPOINT": "http://127.0.0.1:1", "S3_BUCKET": "hustmusik",
		"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "CLOUDINARY_URL": "cloudinary://key:secret@demo"})
	if _, ok := api.app.mediaStores.blobs.(*s3blob.Store); !ok || api.app.mediaStores.local != nil {
		t.Fatalf("S3_ENDPOINT set: blobs are %T", api.app.mediaStores.blobs)
	}
	if _, ok := api.app.mediaStores.images.(*cloudinary.Client); !ok {
		t.Fatalf("CLOUDINARY_URL set: images are %T", api.app.mediaStores.images)
	}
	// No local store, so nothing is served at /blob/.
	api.expect(api.do("GET", "/blob/images/users/x.png", "", nil), 404)

	local := newTestAPI(t, nil)
	if _, ok := local.app.mediaStores.blobs.(*localblob.Store); !ok {
		t.Fatalf("default blobs are %T", local.app.mediaStores.blobs)
	}
	if _, ok := local.app.mediaStores.images.(*images.BlobStore); !ok {
		t.Fatalf("default images are %T", local.app.mediaStores.images)
	}
}
