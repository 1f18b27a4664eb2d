package main

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hustmusik/backend/commands"
	"github.com/hustmusik/backend/domain"
)

// colWorld is a running service with the accounts the collection tests use:
// an Admin (ADMIN_EMAILS), an Artist Manager and two listeners.
type colWorld struct {
	api                       *testAPI
	admin, manager, lan, minh account
	artist                    string
	adminName, lanName        string
}

func newColWorld(t *testing.T) *colWorld {
	t.Helper()
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "quantri@hust.vn"})
	w := &colWorld{api: api, adminName: "Quản trị", lanName: "Lan Nguyễn"}
	w.admin = api.signUp("quantri@hust.vn", w.adminName)
	w.lan = api.signUp("lan@example.vn", w.lanName)
	w.minh = api.signUp("minh@example.vn", "Minh")
	mgr := api.signUp("quanly@example.vn", "Quản lý")
	api.expect(api.do("POST", "/v1/user/"+mgr.id+"/role", w.admin.access, map[string]string{"role": "Artist Manager"}), 200)
	// The new role is in the next token.
	w.manager = accountOf(t, api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{
		"email": "quanly@example.vn", "password": "mat-khau-1"}), 200))
	w.artist = colID(t, api.expect(api.do("POST", "/v1/artist", w.admin.access, map[string]string{"name": "Sơn Tùng M-TP"}), 200))
	return w
}

// colID is data.id of a write answer.
func colID(t *testing.T, r answer) string {
	t.Helper()
	d, _ := r.json(t)["data"].(map[string]any)
	id, _ := d["id"].(string)
	if id == "" {
		t.Fatalf("no data.id in %s", r.body)
	}
	return id
}

func (w *colWorld) song(t *testing.T, title string, duration int) string {
	t.Helper()
	return colID(t, w.api.expect(w.api.do("POST", "/v1/song", w.admin.access, map[string]any{
		"title": title, "artists": w.artist, "duration": duration, "thumbnailurl": "/img/" + title + ".png"}), 200))
}

func (w *colWorld) create(t *testing.T, tok string, body map[string]string) map[string]any {
	t.Helper()
	r := w.api.expect(w.api.do("POST", "/v1/collection", tok, body), 200)
	if r.header.Get("X-Position") == "" {
		t.Fatal("a write answers with X-Position")
	}
	d, ok := r.json(t)["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data object: %s", r.body)
	}
	return d
}

func (w *colWorld) get(t *testing.T, id, tok string) map[string]any {
	t.Helper()
	r := w.api.expect(w.api.do("GET", "/v1/collection/"+id, tok, nil), 200)
	return r.json(t)["data"].(map[string]any)
}

// colKeys are an object's keys, sorted.
func colKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func colExpectKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := colKeys(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s has keys %v, want %v: %v", what, got, want, m)
	}
}

// colDetail checks the whole shape of a collection answer, field by field.
func colDetail(t *testing.T, d map[string]any, id, title, description, typ, thumb string, owner account, ownerName string) {
	t.Helper()
	colExpectKeys(t, "collection", d, "id", "title", "description", "type", "thumbnailurl", "owner", "songs")
	if id != "" && d["id"] != id || d["title"] != title || d["description"] != description || d["type"] != typ || d["thumbnailurl"] != thumb {
		t.Fatalf("collection %v, want %s %q %q %s %q", d, id, title, description, typ, thumb)
	}
	o, ok := d["owner"].(map[string]any)
	if !ok {
		t.Fatalf("owner %v", d["owner"])
	}
	colExpectKeys(t, "owner", o, "id", "username", "avatarurl")
	if o["id"] != owner.id || o["username"] != ownerName || o["avatarurl"] != "" {
		t.Fatalf("owner %v, want %s %s", o, owner.id, ownerName)
	}
	if _, ok := d["songs"].([]any); !ok {
		t.Fatalf("songs must be a list, got %v", d["songs"])
	}
}

// colSongIDs are the song ids of a collection answer, in order; each song
// is checked for its shape.
func colSongIDs(t *testing.T, d map[string]any) []string {
	t.Helper()
	ids := []string{}
	for _, item := range d["songs"].([]any) {
		m := item.(map[string]any)
		colExpectKeys(t, "song item", m, "song")
		s := m["song"].(map[string]any)
		colExpectKeys(t, "song", s, "id", "title", "thumbnailurl", "duration", "artists")
		if _, ok := s["duration"].(float64); !ok {
			t.Fatalf("duration must be a number: %v", s)
		}
		if _, ok := s["artists"].([]any); !ok {
			t.Fatalf("artists must be a list: %v", s)
		}
		ids = append(ids, s["id"].(string))
	}
	return ids
}

const colUnknownID = "0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

func TestCollectionCreateAndGet(t *testing.T) {
	w := newColWorld(t)
	api := w.api

	d := w.create(t, w.lan.access, map[string]string{"title": "  My Playlist #1 "})
	id := d["id"].(string)
	colDetail(t, d, "", "My Playlist #1", "", "Playlist", "", w.lan, w.lanName)
	r := api.expect(api.do("GET", "/v1/collection/"+id, "", nil), 200)
	if !bytes.Contains(r.body, []byte(`"songs":[]`)) {
		t.Fatalf("an empty songs list must be [], got %s", r.body)
	}
	// Public by default: anyone reads it.
	colDetail(t, r.json(t)["data"].(map[string]any), id, "My Playlist #1", "", "Playlist", "", w.lan, w.lanName)

	// Every field, in any letter case.
	d = w.create(t, w.lan.access, map[string]string{"title": "Chill", "description": "Nghe buổi tối",
		"thumbnailurl": "/img/chill.png", "type": "mix", "visibility": "private"})
	colDetail(t, d, "", "Chill", "Nghe buổi tối", "Mix", "/img/chill.png", w.lan, w.lanName)
	private := d["id"].(string)
	api.expect(api.do("GET", "/v1/collection/"+private, "", nil), 404)
	if msg := api.expect(api.do("GET", "/v1/collection/"+private, w.minh.access, nil), 404).errorMessage(t); msg != "Collection does not exist" {
		t.Fatalf("private to a stranger: %q", msg)
	}
	w.get(t, private, w.lan.access)
	w.get(t, private, w.admin.access)
	d = w.create(t, w.lan.access, map[string]string{"title": "Loud", "visibility": "PUBLIC", "type": "PLAYLIST"})
	w.get(t, d["id"].(string), "")

	// Catalog types: Artist Managers and Admins only.
	d = w.create(t, w.manager.access, map[string]string{"title": "Sky Tour", "type": "album"})
	colDetail(t, d, "", "Sky Tour", "", "Album", "", w.manager, "Quản lý")
	d = w.create(t, w.admin.access, map[string]string{"title": "Lạc Trôi", "type": "Single"})
	colDetail(t, d, "", "Lạc Trôi", "", "Single", "", w.admin, w.adminName)
	d = w.create(t, w.manager.access, map[string]string{"title": "Mini", "type": "ep"})
	if d["type"] != "EP" {
		t.Fatalf("ep -> %v", d["type"])
	}

	for _, tc := range []struct {
		name   string
		tok    string
		body   any
		status int
		msg    string
	}{
		{"no title", w.lan.access, map[string]string{"description": "x"}, 400, "Payload must have field: title"},
		{"blank title", w.lan.access, map[string]string{"title": "  "}, 400, "Payload must have field: title"},
		{"empty body", w.lan.access, nil, 400, "Payload must have field: title"},
		{"bad type", w.lan.access, map[string]string{"title": "x", "type": "Podcast"}, 400, "Invalid type: must be one of Album, Single, EP, Playlist, Mix"},
		{"bad visibility", w.lan.access, map[string]string{"title": "x", "visibility": "friends"}, 400, "Invalid visibility: must be Public or Private"},
		{"user album", w.lan.access, map[string]string{"title": "x", "type": "Album"}, 403, "Only an Artist Manager or an Admin can create an Album, Single or EP"},
		{"user single", w.lan.access, map[string]string{"title": "x", "type": "single"}, 403, ""},
		{"anonymous", "", map[string]string{"title": "x"}, 401, ""},
		{"bad token", "not-a-token", map[string]string{"title": "x"}, 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.expect(api.do("POST", "/v1/collection", tc.tok, tc.body), tc.status)
			if msg := r.errorMessage(t); msg == "" || tc.msg != "" && msg != tc.msg {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
		})
	}

	// Multipart, as the frontend sends it with a cover image: the image is
	// stored and its URL is the thumbnail (media_test.go checks the bytes).
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("title", "Với ảnh")
	mw.WriteField("visibility", "Private")
	fw, _ := mw.CreateFormFile("file", "cover.png")
	fw.Write(pngBytes(t, color.RGBA{0, 128, 0, 255}))
	mw.Close()
	r = api.expect(api.do("POST", "/v1/collection", w.lan.access, buf.Bytes(), "Content-Type", mw.FormDataContentType()), 200)
	withImage := r.json(t)["data"].(map[string]any)
	thumb, _ := withImage["thumbnailurl"].(string)
	if !strings.Contains(thumb, "/blob/images/collections/") {
		t.Fatalf("thumbnailurl %q is not the stored cover", thumb)
	}
	colDetail(t, withImage, "", "Với ảnh", "", "Playlist", thumb, w.lan, w.lanName)

	api.expect(api.do("GET", "/v1/collection/"+colUnknownID, "", nil), 404)
	if msg := api.expect(api.do("GET", "/v1/collection/12345", "", nil), 400).errorMessage(t); !strings.Contains(msg, "collection id") {
		t.Fatalf("malformed id: %q", msg)
	}
}

func TestCollectionLists(t *testing.T) {
	w := newColWorld(t)
	api := w.api
	// Oldest first; lists answer newest first.
	mk := func(tok, title, typ, vis string) string {
		return w.create(t, tok, map[string]string{"title": title, "type": typ, "visibility": vis})["id"].(string)
	}
	lanPub := mk(w.lan.access, "Lan public", "Playlist", "Public")
	lanPriv := mk(w.lan.access, "Lan private", "playlist", "private")
	lanMix := mk(w.lan.access, "Lan mix", "Mix", "Public")
	minhPriv := mk(w.minh.access, "Minh private", "Playlist", "Private")
	album := mk(w.manager.access, "Album", "Album", "Public")
	ep := mk(w.manager.access, "EP", "EP", "Public")
	single := mk(w.admin.access, "Single", "Single", "Public")
	hiddenAlbum := mk(w.manager.access, "Hidden album", "Album", "Private")

	list := func(path, tok string) (int, []string) {
		t.Helper()
		m := api.expect(api.do("GET", path, tok, nil), 200).json(t)
		colExpectKeys(t, "list", m, "count", "data")
		data, ok := m["data"].([]any)
		if !ok {
			t.Fatalf("data must be a list: %v", m)
		}
		ids := []string{}
		for _, item := range data {
			it := item.(map[string]any)
			colExpectKeys(t, "list item", it, "id", "title", "type", "thumbnailurl", "owner")
			o := it["owner"].(map[string]any)
			colExpectKeys(t, "list owner", o, "id", "username")
			if o["id"] == w.lan.id && o["username"] != w.lanName || o["username"] == "" || it["thumbnailurl"] != "" {
				t.Fatalf("list item %v", it)
			}
			ids = append(ids, it["id"].(string))
		}
		return int(m["count"].(float64)), ids
	}
	for _, tc := range []struct {
		name, path, tok string
		want            []string
	}{
		{"all, anonymous", "/v1/collection", "", []string{single, ep, album, lanMix, lanPub}},
		{"all, Lan sees her private one", "/v1/collection", w.lan.access, []string{single, ep, album, lanMix, lanPriv, lanPub}},
		{"all, Admin sees everything", "/v1/collection", w.admin.access, []string{hiddenAlbum, single, ep, album, minhPriv, lanMix, lanPriv, lanPub}},
		{"playlists, anonymous", "/v1/collection/playlists", "", []string{lanPub}},
		{"playlists, Minh", "/v1/collection/playlists", w.minh.access, []string{minhPriv, lanPub}},
		{"playlists, unusable token is anonymous", "/v1/collection/playlists", "undefined", []string{lanPub}},
		{"albums, anonymous", "/v1/collection/albums", "", []string{single, ep, album}},
		{"albums, their manager", "/v1/collection/albums", w.manager.access, []string{hiddenAlbum, single, ep, album}},
		{"page 2", "/v1/collection?page=2&limit=2", "", []string{album, lanMix}},
		{"page 3", "/v1/collection?page=3&limit=2", "", []string{lanPub}},
		{"past the end", "/v1/collection?page=9&limit=2", "", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			count, ids := list(tc.path, tc.tok)
			if !reflect.DeepEqual(ids, tc.want) {
				t.Fatalf("ids %v, want %v", ids, tc.want)
			}
			if !strings.Contains(tc.path, "page") && count != len(tc.want) || strings.Contains(tc.path, "page") && count != 5 {
				t.Fatalf("count %d", count)
			}
		})
	}
	api.expect(api.do("GET", "/v1/collection?page=abc", "", nil), 400)
	api.expect(api.do("GET", "/v1/collection/albums?limit=x", "", nil), 400)

	// The caller's own collections: any type or visibility, newest first.
	r := api.expect(api.do("GET", "/v1/user/me/playlists", w.lan.access, nil), 200)
	m := r.json(t)
	colExpectKeys(t, "my playlists", m, "data")
	var mine []string
	for _, item := range m["data"].([]any) {
		it := item.(map[string]any)
		colExpectKeys(t, "my playlist", it, "id", "title", "description", "thumbnailurl", "type")
		mine = append(mine, it["id"].(string))
	}
	if !reflect.DeepEqual(mine, []string{lanMix, lanPriv, lanPub}) {
		t.Fatalf("Lan's collections %v", mine)
	}
	stranger := api.signUp("khach@example.vn", "Khách")
	if r := api.expect(api.do("GET", "/v1/user/me/playlists", stranger.access, nil), 200); !bytes.Contains(r.body, []byte(`"data":[]`)) {
		t.Fatalf("no collections: data must be [], got %s", r.body)
	}
	api.expect(api.do("GET", "/v1/user/me/playlists", "", nil), 401)

	// A deleted user's collections leave the read model.
	api.expect(api.do("DELETE", "/v1/user/"+w.lan.id, w.admin.access, nil), 204)
	api.expect(api.do("GET", "/v1/collection/"+lanPub, w.admin.access, nil), 404)
	if _, ids := list("/v1/collection", w.admin.access); slices.Contains(ids, lanPub) || slices.Contains(ids, lanPriv) || len(ids) != 5 {
		t.Fatalf("after deleting Lan: %v", ids)
	}
	// Her still valid access token cannot create an ownerless collection.
	api.expect(api.do("POST", "/v1/collection", w.lan.access, map[string]string{"title": "Ghost"}), 401)
}

func TestCollectionUpdateAndDelete(t *testing.T) {
	w := newColWorld(t)
	api := w.api
	pub := w.create(t, w.lan.access, map[string]string{"title": "Mine", "description": "old"})["id"].(string)
	priv := w.create(t, w.lan.access, map[string]string{"title": "Secret", "visibility": "Private"})["id"].(string)

	r := api.expect(api.do("POST", "/v1/collection/"+pub, w.lan.access, map[string]string{"title": "Mine, renamed", "visibility": "private"}), 200)
	if r.header.Get("X-Position") == "" {
		t.Fatal("a write answers with X-Position")
	}
	colDetail(t, r.json(t)["data"].(map[string]any), pub, "Mine, renamed", "old", "Playlist", "", w.lan, w.lanName)
	api.expect(api.do("GET", "/v1/collection/"+pub, "", nil), 404) // now private
	r = api.expect(api.do("POST", "/v1/collection/"+pub, w.lan.access, map[string]string{"visibility": "Public", "thumbnailurl": "/img/x.png", "type": "MIX"}), 200)
	colDetail(t, r.json(t)["data"].(map[string]any), pub, "Mine, renamed", "old", "Mix", "/img/x.png", w.lan, w.lanName)
	colDetail(t, w.get(t, pub, ""), pub, "Mine, renamed", "old", "Mix", "/img/x.png", w.lan, w.lanName)
	// An Admin changes anyone's collection, even into an album.
	r = api.expect(api.do("POST", "/v1/collection/"+pub, w.admin.access, map[string]string{"description": "", "type": "Album"}), 200)
	colDetail(t, r.json(t)["data"].(map[string]any), pub, "Mine, renamed", "", "Album", "/img/x.png", w.lan, w.lanName)

	for _, tc := range []struct {
		name, id, tok string
		body          any
		status        int
		msg           string
	}{
		{"nothing to change", priv, w.lan.access, map[string]string{}, 400, "Payload must have at least one field"},
		{"blank title", priv, w.lan.access, map[string]string{"title": ""}, 400, "title cannot be empty"},
		{"bad visibility", priv, w.lan.access, map[string]string{"visibility": "hidden"}, 400, "Invalid visibility: must be Public or Private"},
		{"user makes an album", priv, w.lan.access, map[string]string{"type": "Album"}, 403, ""},
		{"stranger, public", pub, w.minh.access, map[string]string{"title": "mine now"}, 403, "Only the collection's owner or an Admin can change it"},
		{"manager, public", pub, w.manager.access, map[string]string{"title": "mine now"}, 403, ""},
		{"stranger, private", priv, w.minh.access, map[string]string{"title": "mine now"}, 404, "Collection does not exist"},
		{"anonymous", pub, "", map[string]string{"title": "x"}, 401, ""},
		{"unknown", colUnknownID, w.admin.access, map[string]string{"title": "x"}, 404, "Collection does not exist"},
		{"malformed", "abc", w.lan.access, map[string]string{"title": "x"}, 400, ""},
	} {
		t.Run("update "+tc.name, func(t *testing.T) {
			r := api.expect(api.do("POST", "/v1/collection/"+tc.id, tc.tok, tc.body), tc.status)
			if msg := r.errorMessage(t); msg == "" || tc.msg != "" && msg != tc.msg {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
		})
	}
	colDetail(t, w.get(t, priv, w.lan.access), priv, "Secret", "", "Playlist", "", w.lan, w.lanName)

	for _, tc := range []struct {
		name, id, tok string
		status        int
	}{
		{"stranger, public", pub, w.minh.access, 403},
		{"stranger, private", priv, w.minh.access, 404},
		{"anonymous", pub, "", 401},
		{"unknown", colUnknownID, w.lan.access, 404},
		{"malformed", "not-a-uuid", w.lan.access, 400},
	} {
		t.Run("delete "+tc.name, func(t *testing.T) {
			api.expect(api.do("DELETE", "/v1/collection/"+tc.id, tc.tok, nil), tc.status)
		})
	}
	for id, tok := range map[string]string{priv: w.lan.access, pub: w.admin.access} {
		m := api.expect(api.do("DELETE", "/v1/collection/"+id, tok, nil), 200).json(t)
		colExpectKeys(t, "delete answer", m, "message")
		if m["message"] != "Collection "+id+" is being deleted" {
			t.Fatalf("delete answer %v", m)
		}
		api.expect(api.do("GET", "/v1/collection/"+id, w.admin.access, nil), 404)
		api.expect(api.do("DELETE", "/v1/collection/"+id, tok, nil), 404)
		api.expect(api.do("POST", "/v1/collection/"+id, tok, map[string]string{"title": "back"}), 404)
	}
	if r := api.expect(api.do("GET", "/v1/user/me/playlists", w.lan.access, nil), 200); !bytes.Contains(r.body, []byte(`"data":[]`)) {
		t.Fatalf("deleted collections still listed: %s", r.body)
	}
}

func TestCollectionSongs(t *testing.T) {
	w := newColWorld(t)
	api := w.api
	s1, s2, s3 := w.song(t, "Lạc Trôi", 233), w.song(t, "Chúng Ta Không Thuộc Về Nhau", 0), w.song(t, "Hãy Trao Cho Anh", 245)
	feat := colID(t, api.expect(api.do("POST", "/v1/artist", w.admin.access, map[string]string{"name": "Snoop Dogg"}), 200))
	s4 := colID(t, api.expect(api.do("POST", "/v1/song", w.admin.access, map[string]any{"title": "Feat", "artists": w.artist + "," + feat}), 200))
	pub := w.create(t, w.lan.access, map[string]string{"title": "Mine"})["id"].(string)
	priv := w.create(t, w.lan.access, map[string]string{"title": "Secret", "visibility": "private"})["id"].(string)
	path := func(id, song string) string { return "/v1/collection/" + id + "/songs/" + song }

	for _, s := range []string{s2, s4, s1, s3} {
		r := api.expect(api.do("POST", path(pub, s), w.lan.access, nil), 204)
		if len(r.body) != 0 || r.header.Get("X-Position") == "" {
			t.Fatalf("add answer: %q %v", r.body, r.header)
		}
	}
	d := w.get(t, pub, "")
	if ids := colSongIDs(t, d); !reflect.DeepEqual(ids, []string{s2, s4, s1, s3}) {
		t.Fatalf("order %v", ids)
	}
	first := d["songs"].([]any)[0].(map[string]any)["song"].(map[string]any)
	if first["title"] != "Chúng Ta Không Thuộc Về Nhau" || first["duration"] != 0.0 || first["thumbnailurl"] != "/img/Chúng Ta Không Thuộc Về Nhau.png" {
		t.Fatalf("song %v", first)
	}
	arts := d["songs"].([]any)[1].(map[string]any)["song"].(map[string]any)["artists"].([]any)
	if len(arts) != 2 {
		t.Fatalf("artists %v", arts)
	}
	for i, want := range [][2]string{{w.artist, "Sơn Tùng M-TP"}, {feat, "Snoop Dogg"}} {
		a := arts[i].(map[string]any)
		colExpectKeys(t, "artist", a, "id", "name")
		if a["id"] != want[0] || a["name"] != want[1] {
			t.Fatalf("artist %d: %v, want %v", i, a, want)
		}
	}

	// Adding a song that is there, or removing one that is not, changes nothing.
	api.expect(api.do("POST", path(pub, s1), w.lan.access, nil), 204)
	api.expect(api.do("DELETE", path(priv, s1), w.lan.access, nil), 204)
	if ids := colSongIDs(t, w.get(t, pub, "")); !reflect.DeepEqual(ids, []string{s2, s4, s1, s3}) {
		t.Fatalf("a repeated add moved or doubled a song: %v", ids)
	}
	// Removed, then added again: at the end.
	api.expect(api.do("DELETE", path(pub, s2), w.lan.access, nil), 204)
	if ids := colSongIDs(t, w.get(t, pub, "")); !reflect.DeepEqual(ids, []string{s4, s1, s3}) {
		t.Fatalf("after removing: %v", ids)
	}
	api.expect(api.do("POST", path(pub, s2), w.admin.access, nil), 204)
	if ids := colSongIDs(t, w.get(t, pub, "")); !reflect.DeepEqual(ids, []string{s4, s1, s3, s2}) {
		t.Fatalf("after adding again: %v", ids)
	}

	for _, tc := range []struct {
		name, method, path, tok string
		status                  int
		msg                     string
	}{
		{"unknown song", "POST", path(pub, colUnknownID), w.lan.access, 404, "Song does not exist"},
		{"malformed song", "POST", path(pub, "xyz"), w.lan.access, 400, ""},
		{"malformed collection", "POST", path("xyz", s1), w.lan.access, 400, ""},
		{"unknown collection", "POST", path(colUnknownID, s1), w.lan.access, 404, "Collection does not exist"},
		{"stranger adds, public", "POST", path(pub, s1), w.minh.access, 403, ""},
		// The permission check comes before the song's: 403, not 404.
		{"stranger adds an unknown song, public", "POST", path(pub, colUnknownID), w.minh.access, 403, ""},
		{"stranger adds, private", "POST", path(priv, s1), w.minh.access, 404, "Collection does not exist"},
		{"stranger removes, public", "DELETE", path(pub, s1), w.minh.access, 403, ""},
		{"stranger removes, private", "DELETE", path(priv, s1), w.minh.access, 404, ""},
		{"anonymous adds", "POST", path(pub, s1), "", 401, ""},
		{"anonymous removes", "DELETE", path(pub, s1), "", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.expect(api.do(tc.method, tc.path, tc.tok, nil), tc.status)
			if msg := r.errorMessage(t); msg == "" || tc.msg != "" && msg != tc.msg {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
		})
	}

	// A private collection's owner adds songs as usual.
	api.expect(api.do("POST", path(priv, s3), w.lan.access, nil), 204)
	if ids := colSongIDs(t, w.get(t, priv, w.lan.access)); !reflect.DeepEqual(ids, []string{s3}) {
		t.Fatalf("private: %v", ids)
	}

	// A deleted song leaves every collection, and cannot be added again.
	api.expect(api.do("DELETE", "/v1/song/"+s3, w.admin.access, nil), 204)
	if ids := colSongIDs(t, w.get(t, pub, "")); !reflect.DeepEqual(ids, []string{s4, s1, s2}) {
		t.Fatalf("after deleting a song: %v", ids)
	}
	if r := api.expect(api.do("GET", "/v1/collection/"+priv, w.lan.access, nil), 200); !bytes.Contains(r.body, []byte(`"songs":[]`)) {
		t.Fatalf("songs must be [] once the last one is deleted: %s", r.body)
	}
	if msg := api.expect(api.do("POST", path(pub, s3), w.lan.access, nil), 404).errorMessage(t); msg != "Song does not exist" {
		t.Fatalf("adding a deleted song: %q", msg)
	}
	// Removing it is harmless.
	api.expect(api.do("DELETE", path(pub, s3), w.lan.access, nil), 204)
}

// colRequest is a goroutine-safe request: it reports failures instead of
// stopping the test.
func colRequest(url, method, path, tok string) (int, string, error) {
	req, err := http.NewRequest(method, url+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := &http.Client{Timeout: 60 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

func TestCollectionConcurrentAddsAllLand(t *testing.T) {
	w := newColWorld(t)
	api := w.api
	id := w.create(t, w.lan.access, map[string]string{"title": "Fifty"})["id"].(string)
	songs := make([]string, 50)
	for i := range songs {
		songs[i] = w.song(t, fmt.Sprintf("Bài %02d", i), i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(songs))
	start := make(chan struct{})
	for _, s := range songs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, body, err := colRequest(api.url, "POST", "/v1/collection/"+id+"/songs/"+s, w.lan.access)
			if err == nil && status != 204 {
				err = fmt.Errorf("add %s: %d %s", s, status, body)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := colSongIDs(t, w.get(t, id, ""))
	if len(got) != len(songs) {
		t.Fatalf("%d songs in the playlist, want %d", len(got), len(songs))
	}
	gotSorted, want := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(songs))
	if !reflect.DeepEqual(gotSorted, want) {
		t.Fatalf("songs %v, want %v", gotSorted, want)
	}
	// The read model's order is the order in which the adds were appended:
	// the aggregate, replayed, agrees.
	repo := commands.NewRepository(api.app.env.store, domain.CollectionStream, domain.NewCollection)
	c, err := repo.Load(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Songs, got) {
		t.Fatalf("read model order %v, aggregate order %v", got, c.Songs)
	}
}

func TestCollectionTrailingSlash(t *testing.T) {
	w := newColWorld(t)
	api := w.api
	s := w.song(t, "Nơi Này Có Anh", 260)
	r := api.expect(api.do("POST", "/v1/collection/", w.lan.access, map[string]string{"title": "Slash"}), 200)
	id := colID(t, r)
	api.expect(api.do("POST", "/v1/collection/"+id+"/songs/"+s+"/", w.lan.access, nil), 204)
	for _, p := range []string{"/v1/collection/", "/v1/collection/playlists/", "/v1/collection/albums/", "/v1/collection/" + id + "/", "/v1/user/me/playlists/"} {
		r := api.expect(api.do("GET", p, w.lan.access, nil), 200)
		if r.header.Get("Location") != "" {
			t.Fatalf("%s redirects", p)
		}
	}
	if ids := colSongIDs(t, w.get(t, id, "")); !reflect.DeepEqual(ids, []string{s}) {
		t.Fatalf("songs %v", ids)
	}
	api.expect(api.do("POST", "/v1/collection/"+id+"/", w.lan.access, map[string]string{"title": "Slash 2"}), 200)
	api.expect(api.do("DELETE", "/v1/collection/"+id+"/songs/"+s+"/", w.lan.access, nil), 204)
	api.expect(api.do("DELETE", "/v1/collection/"+id+"/", w.lan.access, nil), 200)
	// The static siblings of :id are not read as ids.
	api.expect(api.do("POST", "/v1/collection/playlists", w.lan.access, map[string]string{"title": "x"}), 400)
}
