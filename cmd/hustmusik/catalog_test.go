package main

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hustmusik/backend/domain"
)

// catalogCast is a service with an Admin, two Artist Managers and a User.
type catalogCast struct {
	api                     *testAPI
	admin, mgr1, mgr2, user account
}

func newCatalogCast(t *testing.T) catalogCast {
	t.Helper()
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "admin@hust.vn"})
	c := catalogCast{api: api, admin: api.signUp("admin@hust.vn", "Quản trị")}
	c.mgr1 = c.manager("mgr1@hust.vn", "Quản lý Một")
	c.mgr2 = c.manager("mgr2@hust.vn", "Quản lý Hai")
	c.user = api.signUp("user@hust.vn", "Người nghe")
	return c
}

// manager signs up an account, has the Admin make it an Artist Manager,
// and signs in again for a token that carries the new role.
func (c catalogCast) manager(email, name string) account {
	c.api.t.Helper()
	acc := c.api.signUp(email, name)
	c.api.expect(c.api.do("POST", "/v1/user/"+acc.id+"/role", c.admin.access, map[string]string{"role": "Artist Manager"}), 200)
	r := c.api.expect(c.api.do("POST", "/v1/auth/signin", "", map[string]string{"email": email, "password": "mat-khau-1"}), 200)
	return accountOf(c.api.t, r)
}

func (c catalogCast) addArtist(by account, body map[string]any) map[string]any {
	c.api.t.Helper()
	return dataObject(c.api.t, c.api.expect(c.api.do("POST", "/v1/artist", by.access, body), 200))
}

func (c catalogCast) addSong(by account, body map[string]any) map[string]any {
	c.api.t.Helper()
	return dataObject(c.api.t, c.api.expect(c.api.do("POST", "/v1/song", by.access, body), 200))
}

func dataObject(t *testing.T, r answer) map[string]any {
	t.Helper()
	m := r.json(t)
	hasKeys(t, m, "data")
	d, ok := m["data"].(map[string]any)
	if !ok {
		t.Fatalf("data is not an object: %s", r.body)
	}
	return d
}

// list checks the {"count", "data": [...]} envelope and returns both.
func list(t *testing.T, r answer) (int, []map[string]any) {
	t.Helper()
	m := r.json(t)
	hasKeys(t, m, "count", "data")
	count, ok := m["count"].(float64)
	if !ok {
		t.Fatalf("count is not a number: %s", r.body)
	}
	raw, ok := m["data"].([]any)
	if !ok {
		t.Fatalf("data is not a list: %s", r.body)
	}
	return int(count), objects(t, raw)
}

func objects(t *testing.T, raw any) []map[string]any {
	t.Helper()
	items, ok := raw.([]any)
	if !ok {
		t.Fatalf("not a list: %#v", raw)
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		if out[i], ok = it.(map[string]any); !ok {
			t.Fatalf("item %d is not an object: %#v", i, it)
		}
	}
	return out
}

// hasKeys checks that m has exactly these keys.
func hasKeys(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want := slices.Clone(keys)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v in %v", got, want, m)
	}
}

// fields checks the values of some fields (numbers as float64).
func fields(t *testing.T, m map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v (in %v)", k, m[k], v, m)
		}
	}
}

func (c catalogCast) expectError(r answer, status int, msg string) {
	c.api.t.Helper()
	c.api.expect(r, status)
	if got := r.errorMessage(c.api.t); got != msg {
		c.api.t.Fatalf("error %q, want %q", got, msg)
	}
}

var artistKeys = []string{"id", "name", "description", "avatarurl", "country", "managerid"}

const unknownID = "0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

func TestCatalogArtistAddGetUpdateDelete(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api

	// Who may add.
	c.expectError(api.do("POST", "/v1/artist", "", map[string]any{"name": "x"}), 401, "Authentication required")
	api.expect(api.do("POST", "/v1/artist", c.user.access, map[string]any{"name": "x"}), 403)
	c.expectError(api.do("POST", "/v1/artist", c.mgr1.access, map[string]any{"country": "VN"}), 400, "Payload must have field: name")
	c.expectError(api.do("POST", "/v1/artist", c.mgr1.access, map[string]any{"name": "  "}), 400, "Payload must have field: name")

	// Only a name: every other string is "", never null.
	r := api.expect(api.do("POST", "/v1/artist", c.mgr1.access, map[string]any{"name": " Sơn Tùng M-TP "}), 200)
	if r.header.Get("X-Position") == "" {
		t.Fatal("a write answers with X-Position")
	}
	a := dataObject(t, r)
	hasKeys(t, a, artistKeys...)
	id, _ := a["id"].(string)
	if _, err := domain.ParseID(id, "artist"); err != nil {
		t.Fatalf("id %q: %v", id, err)
	}
	fields(t, a, map[string]any{"name": "Sơn Tùng M-TP", "description": "", "avatarurl": "", "country": "", "managerid": c.mgr1.id})

	// Read-your-writes, an array of one.
	got := api.expect(api.do("GET", "/v1/artist/"+id, "", nil), 200).json(t)
	hasKeys(t, got, "data")
	arr := objects(t, got["data"])
	if len(arr) != 1 {
		t.Fatalf("GET /v1/artist/:id data is not an array of one: %v", got)
	}
	hasKeys(t, arr[0], artistKeys...)
	fields(t, arr[0], map[string]any{"id": id, "name": "Sơn Tùng M-TP", "description": "", "avatarurl": "", "country": "", "managerid": c.mgr1.id})
	// Upper-case id is the same artist.
	api.expect(api.do("GET", "/v1/artist/"+strings.ToUpper(id), "", nil), 200)
	c.expectError(api.do("GET", "/v1/artist/"+unknownID, "", nil), 404, "Artist does not exist")
	api.expect(api.do("GET", "/v1/artist/not-a-uuid", "", nil), 400)

	// Update: its manager or an Admin; partial.
	body := map[string]any{"country": "Việt Nam"}
	api.expect(api.do("POST", "/v1/artist/"+id, "", body), 401)
	api.expect(api.do("POST", "/v1/artist/"+id, c.user.access, body), 403)
	api.expect(api.do("POST", "/v1/artist/"+id, c.mgr2.access, body), 403)
	api.expect(api.do("POST", "/v1/artist/"+unknownID, c.mgr1.access, body), 404)
	api.expect(api.do("POST", "/v1/artist/bad-id", c.mgr1.access, body), 400)
	c.expectError(api.do("POST", "/v1/artist/"+id, c.mgr1.access, map[string]any{}), 400, "Payload must have at least one field")
	api.expect(api.do("POST", "/v1/artist/"+id, c.mgr1.access, map[string]any{"name": ""}), 400)
	u := dataObject(t, api.expect(api.do("POST", "/v1/artist/"+id, c.mgr1.access, body), 200))
	hasKeys(t, u, artistKeys...)
	fields(t, u, map[string]any{"id": id, "name": "Sơn Tùng M-TP", "country": "Việt Nam", "description": "", "managerid": c.mgr1.id})
	u = dataObject(t, api.expect(api.do("POST", "/v1/artist/"+id, c.admin.access,
		map[string]any{"description": "Ca sĩ", "avatarurl": "https://res.cloudinary.com/x/a.png", "country": nil}), 200))
	fields(t, u, map[string]any{"description": "Ca sĩ", "country": "Việt Nam", "managerid": c.mgr1.id})
	arr = objects(t, api.expect(api.do("GET", "/v1/artist/"+id, "", nil), 200).json(t)["data"])
	fields(t, arr[0], map[string]any{"name": "Sơn Tùng M-TP", "description": "Ca sĩ",
		"avatarurl": "https://res.cloudinary.com/x/a.png", "country": "Việt Nam", "managerid": c.mgr1.id})

	// Delete: its manager or an Admin.
	api.expect(api.do("DELETE", "/v1/artist/"+id, "", nil), 401)
	api.expect(api.do("DELETE", "/v1/artist/"+id, c.user.access, nil), 403)
	api.expect(api.do("DELETE", "/v1/artist/"+id, c.mgr2.access, nil), 403)
	api.expect(api.do("DELETE", "/v1/artist/bad-id", c.mgr1.access, nil), 400)
	api.expect(api.do("DELETE", "/v1/artist/"+unknownID, c.mgr1.access, nil), 404)
	del := api.expect(api.do("DELETE", "/v1/artist/"+id, c.mgr1.access, nil), 204)
	if len(del.body) != 0 {
		t.Fatalf("204 with a body: %s", del.body)
	}
	c.expectError(api.do("GET", "/v1/artist/"+id, "", nil), 404, "Artist does not exist")
	api.expect(api.do("DELETE", "/v1/artist/"+id, c.mgr1.access, nil), 404)
	api.expect(api.do("POST", "/v1/artist/"+id, c.mgr1.access, body), 404)

	// An Admin adds and deletes any artist; the Admin is its manager.
	b := c.addArtist(c.admin, map[string]any{"name": "Đen Vâu", "country": "VN"})
	fields(t, b, map[string]any{"managerid": c.admin.id, "country": "VN"})
	api.expect(api.do("DELETE", "/v1/artist/"+b["id"].(string), c.admin.access, nil), 204)
}

func multipartBody(t *testing.T, vals map[string]string, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range vals {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("file", "cover.png")
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

// Multipart writes: file=null is no file; a file that is not a whole image
// is a 400 and nothing of the request is applied (media_test.go stores
// real images).
func TestCatalogMultipartFileNullAndBadFiles(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api
	body, ct := multipartBody(t, map[string]string{"name": "Hòa Minzy", "country": "VN", "file": "null"}, nil)
	a := dataObject(t, api.expect(api.do("POST", "/v1/artist", c.mgr1.access, body, "Content-Type", ct), 200))
	fields(t, a, map[string]any{"name": "Hòa Minzy", "country": "VN", "avatarurl": ""})
	body, ct = multipartBody(t, map[string]string{"title": "Rời bỏ", "artists": a["id"].(string), "duration": "245"},
		[]byte("\x89PNG\r\n\x1a\nnot really"))
	api.expect(api.do("POST", "/v1/song", c.mgr1.access, body, "Content-Type", ct), 400)
	if n, _ := list(t, api.expect(api.do("GET", "/v1/song", "", nil), 200)); n != 0 {
		t.Fatalf("a song with a bad file was added: %d songs", n)
	}
	body, ct = multipartBody(t, map[string]string{"description": "Bản gốc"}, []byte("GIF89a"))
	api.expect(api.do("POST", "/v1/artist/"+a["id"].(string), c.mgr1.access, body, "Content-Type", ct), 400)
	got := api.expect(api.do("GET", "/v1/artist/"+a["id"].(string), "", nil), 200).json(t)["data"].([]any)
	fields(t, got[0].(map[string]any), map[string]any{"description": "", "avatarurl": ""})
}

func TestCatalogArtistListingPagesAndManaged(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api
	var mine, theirs []string
	for i := range 3 {
		mine = append(mine, c.addArtist(c.mgr1, map[string]any{"name": fmt.Sprintf("Một %d", i)})["id"].(string))
	}
	for i := range 2 {
		theirs = append(theirs, c.addArtist(c.mgr2, map[string]any{"name": fmt.Sprintf("Hai %d", i),
			"avatarurl": fmt.Sprintf("https://img/%d.png", i)})["id"].(string))
	}
	all := append(slices.Clone(mine), theirs...)

	count, items := list(t, api.expect(api.do("GET", "/v1/artist", "", nil), 200))
	if count != 5 || len(items) != 5 {
		t.Fatalf("count %d, %d items", count, len(items))
	}
	for i, it := range items {
		hasKeys(t, it, "id", "name", "avatarurl")
		if it["id"] != all[i] {
			t.Fatalf("item %d is %v, want %s (oldest first)", i, it["id"], all[i])
		}
	}
	fields(t, items[0], map[string]any{"name": "Một 0", "avatarurl": ""})
	fields(t, items[4], map[string]any{"name": "Hai 1", "avatarurl": "https://img/1.png"})

	count, items = list(t, api.expect(api.do("GET", "/v1/artist?page=2&limit=2", "", nil), 200))
	if count != 5 || len(items) != 2 || items[0]["id"] != all[2] || items[1]["id"] != all[3] {
		t.Fatalf("page 2: count %d, %v", count, items)
	}
	count, items = list(t, api.expect(api.do("GET", "/v1/artist?page=9&limit=2", "", nil), 200))
	if count != 5 || len(items) != 0 {
		t.Fatalf("past the end: count %d, %v", count, items)
	}
	api.expect(api.do("GET", "/v1/artist?limit=abc", "", nil), 400)

	// managed=true: an Artist Manager sees only their own.
	count, items = list(t, api.expect(api.do("GET", "/v1/artist?managed=true", c.mgr2.access, nil), 200))
	if count != 2 || len(items) != 2 || items[0]["id"] != theirs[0] || items[1]["id"] != theirs[1] {
		t.Fatalf("managed by mgr2: %d %v", count, items)
	}
	count, _ = list(t, api.expect(api.do("GET", "/v1/artist?managed=true&limit=1", c.mgr1.access, nil), 200))
	if count != 3 {
		t.Fatalf("managed by mgr1: count %d", count)
	}
	// Anyone else, or without managed=true: every artist.
	for _, tc := range []struct{ name, path, token string }{
		{"anonymous", "/v1/artist?managed=true", ""},
		{"a User", "/v1/artist?managed=true", c.user.access},
		{"no managed", "/v1/artist", c.mgr1.access},
		{"a bad token", "/v1/artist?managed=true", "undefined"},
	} {
		if count, _ := list(t, api.expect(api.do("GET", tc.path, tc.token, nil), 200)); count != 5 {
			t.Errorf("%s: count %d", tc.name, count)
		}
	}
}

var songListKeys = []string{"id", "title", "thumbnailurl", "duration", "releasedate", "genre", "views", "artists"}

func TestCatalogSongs(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api
	primary := c.addArtist(c.mgr1, map[string]any{"name": "Sơn Tùng M-TP", "avatarurl": "https://img/st.png"})["id"].(string)
	feat1 := c.addArtist(c.mgr2, map[string]any{"name": "Snoop Dogg"})["id"].(string)
	feat2 := c.addArtist(c.mgr1, map[string]any{"name": "Đen Vâu"})["id"].(string)

	// Who may add, and what a request must hold.
	full := map[string]any{"title": "Hãy Trao Cho Anh", "artists": primary + ", " + feat1 + "," + feat2,
		"duration": 245, "releasedate": "2019-07-01", "genre": "V-Pop", "thumbnailurl": "https://img/htca.png",
		"description": "MV"}
	api.expect(api.do("POST", "/v1/song", "", full), 401)
	api.expect(api.do("POST", "/v1/song", c.user.access, full), 403)
	api.expect(api.do("POST", "/v1/song", c.mgr2.access, full), 403) // manages a featured artist only
	c.expectError(api.do("POST", "/v1/song", c.mgr1.access, map[string]any{"artists": primary}), 400, "Payload must have field: title")
	badArtists := "Invalid payload request: artists must be a string separated by ','"
	c.expectError(api.do("POST", "/v1/song", c.mgr1.access, map[string]any{"title": "x"}), 400, badArtists)
	c.expectError(api.do("POST", "/v1/song", c.mgr1.access, map[string]any{"title": "x", "artists": "a;b"}), 400, badArtists)
	c.expectError(api.do("POST", "/v1/song", c.mgr1.access, map[string]any{"title": "x", "artists": primary + ";" + feat1}), 400, badArtists)
	c.expectError(api.do("POST", "/v1/song", c.mgr1.access, map[string]any{"title": "x", "artists": primary, "duration": "ba phút"}),
		400, "duration must be a whole number of seconds")
	c.expectError(api.do("POST", "/v1/song", c.mgr1.access, map[string]any{"title": "x", "artists": primary, "releasedate": "01/07/2019"}),
		400, "releasedate must be a date like 2024-05-31")
	api.expect(api.do("POST", "/v1/song", c.mgr1.access, map[string]any{"title": "x", "artists": primary + "," + unknownID}), 404)
	api.expect(api.do("POST", "/v1/song", c.admin.access, map[string]any{"title": "x", "artists": unknownID}), 404)

	// A full song: the answer and every read see it at once.
	s := c.addSong(c.mgr1, full)
	hasKeys(t, s, "id", "title", "description", "thumbnailurl", "duration", "releasedate", "genre", "artists")
	songID := s["id"].(string)
	fields(t, s, map[string]any{"title": "Hãy Trao Cho Anh", "duration": float64(245), "releasedate": "2019-07-01",
		"genre": "V-Pop", "thumbnailurl": "https://img/htca.png", "description": "MV"})
	if as := objects(t, s["artists"]); len(as) != 3 || as[0]["id"] != primary || as[1]["id"] != feat1 || as[2]["id"] != feat2 {
		t.Fatalf("answer artists %v", as)
	}

	r := api.expect(api.do("GET", "/v1/song/"+songID, "", nil), 200)
	got := r.json(t)
	hasKeys(t, got, "id", "title", "thumbnailurl", "duration", "releasedate", "genre", "views", "artists", "albums") // unwrapped
	fields(t, got, map[string]any{"id": songID, "title": "Hãy Trao Cho Anh", "thumbnailurl": "https://img/htca.png",
		"duration": float64(245), "releasedate": "2019-07-01", "genre": "V-Pop", "views": float64(0)})
	as := objects(t, got["artists"])
	if len(as) != 3 {
		t.Fatalf("artists %v", as)
	}
	for i, want := range []map[string]any{
		{"id": primary, "name": "Sơn Tùng M-TP", "avatarurl": "https://img/st.png"},
		{"id": feat1, "name": "Snoop Dogg", "avatarurl": ""},
		{"id": feat2, "name": "Đen Vâu", "avatarurl": ""},
	} {
		hasKeys(t, as[i], "id", "name", "avatarurl")
		fields(t, as[i], want)
	}
	if albums := objects(t, got["albums"]); len(albums) != 0 {
		t.Fatalf("albums %v", albums)
	}
	c.expectError(api.do("GET", "/v1/song/"+unknownID, "", nil), 404, "Song does not exist")
	api.expect(api.do("GET", "/v1/song/123", "", nil), 400)

	// A minimal song: numbers 0 and strings "", never null.
	m := c.addSong(c.mgr1, map[string]any{"title": "Chúng Ta Của Hiện Tại", "artists": primary})
	minID := m["id"].(string)
	fields(t, m, map[string]any{"duration": float64(0), "releasedate": "", "genre": "", "thumbnailurl": "", "description": ""})
	got = api.expect(api.do("GET", "/v1/song/"+minID, "", nil), 200).json(t)
	fields(t, got, map[string]any{"duration": float64(0), "views": float64(0), "releasedate": "", "genre": "", "thumbnailurl": ""})

	// Get All Songs: both artist forms, in credit order.
	count, items := list(t, api.expect(api.do("GET", "/v1/song", "", nil), 200))
	if count != 2 || len(items) != 2 || items[0]["id"] != songID || items[1]["id"] != minID {
		t.Fatalf("song list %d %v", count, items)
	}
	hasKeys(t, items[0], songListKeys...)
	fields(t, items[0], map[string]any{"title": "Hãy Trao Cho Anh", "thumbnailurl": "https://img/htca.png",
		"duration": float64(245), "releasedate": "2019-07-01", "genre": "V-Pop", "views": float64(0)})
	fields(t, items[1], map[string]any{"duration": float64(0), "releasedate": "", "genre": "", "views": float64(0)})
	la := objects(t, items[0]["artists"])
	for i, want := range [][2]string{{primary, "Sơn Tùng M-TP"}, {feat1, "Snoop Dogg"}, {feat2, "Đen Vâu"}} {
		hasKeys(t, la[i], "id", "name", "artist")
		fields(t, la[i], map[string]any{"id": want[0], "name": want[1]})
		nested, _ := la[i]["artist"].(map[string]any)
		hasKeys(t, nested, "id", "name")
		fields(t, nested, map[string]any{"id": want[0], "name": want[1]})
	}
	count, items = list(t, api.expect(api.do("GET", "/v1/song?page=2&limit=1", "", nil), 200))
	if count != 2 || len(items) != 1 || items[0]["id"] != minID {
		t.Fatalf("page 2: %d %v", count, items)
	}

	// An artist's songs, Primary or Featured.
	count, items = list(t, api.expect(api.do("GET", "/v1/artist/"+feat1+"/songs", "", nil), 200))
	if count != 1 || len(items) != 1 {
		t.Fatalf("featured artist's songs %d %v", count, items)
	}
	hasKeys(t, items[0], "song")
	inner := items[0]["song"].(map[string]any)
	hasKeys(t, inner, "id", "title", "thumbnailurl")
	fields(t, inner, map[string]any{"id": songID, "title": "Hãy Trao Cho Anh", "thumbnailurl": "https://img/htca.png"})
	count, items = list(t, api.expect(api.do("GET", "/v1/artist/"+primary+"/songs", "", nil), 200))
	if count != 2 || len(items) != 2 || items[0]["song"].(map[string]any)["id"] != minID {
		t.Fatalf("primary's songs, newest first: %d %v", count, items)
	}
	c.expectError(api.do("GET", "/v1/artist/"+unknownID+"/songs", "", nil), 404, "Artist does not exist")
	api.expect(api.do("GET", "/v1/artist/x/songs", "", nil), 400)

	// Update: judged on the Primary artist.
	upd := map[string]any{"genre": "Pop", "duration": "250"}
	api.expect(api.do("POST", "/v1/song/"+songID, "", upd), 401)
	api.expect(api.do("POST", "/v1/song/"+songID, c.user.access, upd), 403)
	api.expect(api.do("POST", "/v1/song/"+songID, c.mgr2.access, upd), 403)
	api.expect(api.do("POST", "/v1/song/"+unknownID, c.mgr1.access, upd), 404)
	api.expect(api.do("POST", "/v1/song/nope", c.mgr1.access, upd), 400)
	c.expectError(api.do("POST", "/v1/song/"+songID, c.mgr1.access, map[string]any{}), 400, "Payload must have at least one field")
	api.expect(api.do("POST", "/v1/song/"+songID, c.mgr1.access, map[string]any{"duration": -3}), 400)
	u := dataObject(t, api.expect(api.do("POST", "/v1/song/"+songID, c.mgr1.access, upd), 200))
	fields(t, u, map[string]any{"id": songID, "title": "Hãy Trao Cho Anh", "genre": "Pop", "duration": float64(250), "releasedate": "2019-07-01"})
	u = dataObject(t, api.expect(api.do("POST", "/v1/song/"+songID, c.admin.access, map[string]any{"title": "HTCA"}), 200))
	fields(t, u, map[string]any{"title": "HTCA", "genre": "Pop"})
	got = api.expect(api.do("GET", "/v1/song/"+songID, "", nil), 200).json(t)
	fields(t, got, map[string]any{"title": "HTCA", "genre": "Pop", "duration": float64(250), "releasedate": "2019-07-01"})

	// An artist that songs credit cannot be deleted (409), until they are gone.
	c.expectError(api.do("DELETE", "/v1/artist/"+primary, c.mgr1.access, nil), 409, "Artist still has 2 song(s): delete them first")
	c.expectError(api.do("DELETE", "/v1/artist/"+feat1, c.mgr2.access, nil), 409, "Artist still has 1 song(s): delete them first")
	api.expect(api.do("DELETE", "/v1/song/"+songID, "", nil), 401)
	api.expect(api.do("DELETE", "/v1/song/"+songID, c.user.access, nil), 403)
	api.expect(api.do("DELETE", "/v1/song/"+songID, c.mgr2.access, nil), 403)
	api.expect(api.do("DELETE", "/v1/song/bad", c.mgr1.access, nil), 400)
	api.expect(api.do("DELETE", "/v1/song/"+unknownID, c.mgr1.access, nil), 404)
	api.expect(api.do("DELETE", "/v1/song/"+songID, c.mgr1.access, nil), 204)
	c.expectError(api.do("GET", "/v1/song/"+songID, "", nil), 404, "Song does not exist")
	api.expect(api.do("DELETE", "/v1/song/"+songID, c.mgr1.access, nil), 404)
	api.expect(api.do("POST", "/v1/song/"+songID, c.mgr1.access, upd), 404)
	count, items = list(t, api.expect(api.do("GET", "/v1/song", "", nil), 200))
	if count != 1 || items[0]["id"] != minID {
		t.Fatalf("after delete: %d %v", count, items)
	}
	if count, _ := list(t, api.expect(api.do("GET", "/v1/artist/"+feat1+"/songs", "", nil), 200)); count != 0 {
		t.Fatalf("deleted song still among the featured artist's: %d", count)
	}
	api.expect(api.do("DELETE", "/v1/artist/"+feat1, c.mgr2.access, nil), 204)
	c.expectError(api.do("DELETE", "/v1/artist/"+primary, c.mgr1.access, nil), 409, "Artist still has 1 song(s): delete them first")
	api.expect(api.do("DELETE", "/v1/song/"+minID, c.admin.access, nil), 204)
	api.expect(api.do("DELETE", "/v1/artist/"+primary, c.mgr1.access, nil), 204)

	// A deleted artist cannot be credited.
	c.expectError(api.do("POST", "/v1/song", c.admin.access, map[string]any{"title": "x", "artists": feat2 + "," + primary}),
		404, "Artist "+primary+" does not exist")
	if count, _ := list(t, api.expect(api.do("GET", "/v1/song", "", nil), 200)); count != 0 {
		t.Fatalf("songs left: %d", count)
	}
	// Nothing half-written: feat2 credits no song, so it can go.
	api.expect(api.do("DELETE", "/v1/artist/"+feat2, c.mgr1.access, nil), 204)
}

func TestCatalogAdminAddsSongsForAnyArtist(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api
	a := c.addArtist(c.mgr2, map[string]any{"name": "Mỹ Tâm"})["id"].(string)
	s := c.addSong(c.admin, map[string]any{"title": "Đâu Chỉ Riêng Em", "artists": strings.ToUpper(a)})
	if as := objects(t, s["artists"]); len(as) != 1 || as[0]["id"] != a || as[0]["name"] != "Mỹ Tâm" {
		t.Fatalf("artists %v", as)
	}
	// The primary artist's manager may change a song an Admin added.
	api.expect(api.do("POST", "/v1/song/"+s["id"].(string), c.mgr2.access, map[string]any{"genre": "Ballad"}), 200)
	api.expect(api.do("POST", "/v1/song/"+s["id"].(string), c.mgr1.access, map[string]any{"genre": "Rock"}), 403)
	got := api.expect(api.do("GET", "/v1/song/"+s["id"].(string), "", nil), 200).json(t)
	fields(t, got, map[string]any{"genre": "Ballad"})
	if r := api.do("GET", "/v1/song/"+s["id"].(string), "", nil); r.header.Get("Content-Type") != "application/json; charset=utf-8" || r.status != http.StatusOK {
		t.Fatalf("content type %q", r.header.Get("Content-Type"))
	}
}

func TestCatalogAlbumsOfSongsAndArtists(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api
	a := c.addArtist(c.mgr1, map[string]any{"name": "Hồ Ngọc Hà"})["id"].(string)
	b := c.addArtist(c.mgr2, map[string]any{"name": "Noo Phước Thịnh"})["id"].(string)
	s1 := c.addSong(c.mgr1, map[string]any{"title": "Cả Một Trời Thương Nhớ", "artists": a + "," + b})["id"].(string)
	s2 := c.addSong(c.mgr1, map[string]any{"title": "Em Muốn Anh Đưa Em Về", "artists": a})["id"].(string)

	collection := func(by account, body map[string]any, songs ...string) string {
		t.Helper()
		id := dataObject(t, api.expect(api.do("POST", "/v1/collection", by.access, body), 200))["id"].(string)
		for _, s := range songs {
			api.expect(api.do("POST", "/v1/collection/"+id+"/songs/"+s, by.access, nil), 204)
		}
		return id
	}
	album := collection(c.mgr1, map[string]any{"title": "Love Songs", "type": "Album", "visibility": "Public",
		"thumbnailurl": "https://img/love.png"}, s1)
	ep := collection(c.mgr1, map[string]any{"title": "Về", "type": "ep", "visibility": "public"}, s2)
	collection(c.mgr1, map[string]any{"title": "Secret", "type": "Album", "visibility": "Private"}, s1, s2)
	collection(c.user, map[string]any{"title": "My mix", "type": "Playlist", "visibility": "Public"}, s1, s2)
	collection(c.mgr1, map[string]any{"title": "Empty single", "type": "Single", "visibility": "Public"})

	// A song's public Albums, EPs and Singles.
	got := api.expect(api.do("GET", "/v1/song/"+s1, "", nil), 200).json(t)
	albums := objects(t, got["albums"])
	if len(albums) != 1 {
		t.Fatalf("albums of s1: %v", albums)
	}
	hasKeys(t, albums[0], "album")
	inner := albums[0]["album"].(map[string]any)
	hasKeys(t, inner, "id", "title", "type", "thumbnailurl")
	fields(t, inner, map[string]any{"id": album, "title": "Love Songs", "type": "Album", "thumbnailurl": "https://img/love.png"})

	// An artist's albums: those holding a song that credits the artist, newest first.
	count, items := list(t, api.expect(api.do("GET", "/v1/artist/"+a+"/albums", "", nil), 200))
	if count != 2 || len(items) != 2 || items[0]["id"] != ep || items[1]["id"] != album {
		t.Fatalf("albums of a: %d %v", count, items)
	}
	for _, it := range items {
		hasKeys(t, it, "id", "title", "thumbnailurl", "created_at", "type")
		if ts, _ := it["created_at"].(string); !strings.HasPrefix(ts, "20") || !strings.Contains(ts, "T") {
			t.Fatalf("created_at %v", it["created_at"])
		}
	}
	fields(t, items[0], map[string]any{"title": "Về", "type": "EP", "thumbnailurl": ""})
	count, items = list(t, api.expect(api.do("GET", "/v1/artist/"+a+"/albums?limit=1&page=2", "", nil), 200))
	if count != 2 || len(items) != 1 || items[0]["id"] != album {
		t.Fatalf("page 2 of a's albums: %d %v", count, items)
	}
	count, items = list(t, api.expect(api.do("GET", "/v1/artist/"+b+"/albums", "", nil), 200))
	if count != 1 || items[0]["id"] != album {
		t.Fatalf("albums of featured b: %d %v", count, items)
	}
	c.expectError(api.do("GET", "/v1/artist/"+unknownID+"/albums", "", nil), 404, "Artist does not exist")
	api.expect(api.do("GET", "/v1/artist/x/albums", "", nil), 400)

	// A deleted song leaves the albums of its artists.
	api.expect(api.do("DELETE", "/v1/song/"+s1, c.mgr1.access, nil), 204)
	if count, _ := list(t, api.expect(api.do("GET", "/v1/artist/"+b+"/albums", "", nil), 200)); count != 0 {
		t.Fatalf("b still has %d albums", count)
	}
	if count, _ := list(t, api.expect(api.do("GET", "/v1/artist/"+a+"/albums", "", nil), 200)); count != 1 {
		t.Fatalf("a has %d albums", count)
	}
}
