package main

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/config"
)

// searchCast is the service with a small Vietnamese catalog, written through
// the API: artists, songs, albums and playlists of a few users.
type searchCast struct {
	api                  *testAPI
	admin, lan, minh     account
	tung, den, hoa, fans string // artist ids
	chungTa, chill, lac  string // song ids
	lacRemix, roiBo      string
	album, ep            string // collection ids
	lanPublic, lanSecret string
	minhMix              string
}

func newSearchCast(t *testing.T) *searchCast {
	t.Helper()
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "admin@hust.vn"})
	c := &searchCast{api: api, admin: api.signUp("admin@hust.vn", "Quản trị")}
	c.lan = api.signUp("lan@example.vn", "Lan Ngọc")
	c.minh = api.signUp("minh@example.vn", "Minh Béo")
	api.expect(api.do("POST", "/v1/user/me", c.lan.access, map[string]string{"avatarurl": "/lan.png"}), 200)

	c.tung = c.create("/v1/artist", c.admin, map[string]any{"name": "Sơn Tùng M-TP", "avatarurl": "/tung.png"})
	c.den = c.create("/v1/artist", c.admin, map[string]any{"name": "Đen Vâu"})
	c.hoa = c.create("/v1/artist", c.admin, map[string]any{"name": "Hòa Minzy"})
	c.fans = c.create("/v1/artist", c.admin, map[string]any{"name": "Son Tung Cover"})

	song := func(title, artists string, extra map[string]any) string {
		body := map[string]any{"title": title, "artists": artists}
		for k, v := range extra {
			body[k] = v
		}
		return c.create("/v1/song", c.admin, body)
	}
	c.chungTa = song("Chúng Ta Của Hiện Tại", c.tung, map[string]any{
		"duration": 301, "genre": "V-Pop", "releasedate": "2020-12-20", "thumbnailurl": "/ctcht.png"})
	c.chill = song("Bài Này Chill Phết", c.den+","+c.tung, nil)
	c.lac = song("Lạc Trôi", c.tung, nil)
	c.lacRemix = song("Lac Troi Remix", c.fans, nil)
	c.roiBo = song("Rời Bỏ", c.hoa, nil)

	collection := func(by account, title, typ, visibility string) string {
		return c.create("/v1/collection", by, map[string]any{"title": title, "type": typ, "visibility": visibility,
			"description": "về " + title})
	}
	c.album = collection(c.admin, "Sky Tour", "Album", "Public")
	c.ep = collection(c.admin, "Chill EP", "EP", "Public")
	c.lanPublic = collection(c.lan, "Nhạc Chill Của Lan", "Playlist", "Public")
	c.lanSecret = collection(c.lan, "Chill Bí Mật", "Playlist", "Private")
	c.minhMix = collection(c.minh, "Chill của Minh", "Mix", "Public")
	return c
}

// create POSTs a new object and returns its id.
func (c *searchCast) create(path string, by account, body map[string]any) string {
	c.api.t.Helper()
	r := c.api.expect(c.api.do("POST", path, by.access, body), 200)
	id, _ := r.json(c.api.t)["data"].(map[string]any)["id"].(string)
	if id == "" {
		c.api.t.Fatalf("POST %s: no id in %s", path, r.body)
	}
	return id
}

// search GETs a search path and returns its data object.
func (c *searchCast) search(path, token string) map[string]any {
	c.api.t.Helper()
	r := c.api.expect(c.api.do("GET", path, token, nil), 200)
	data, ok := r.json(c.api.t)["data"].(map[string]any)
	if !ok {
		c.api.t.Fatalf("GET %s: no data object: %s", path, r.body)
	}
	return data
}

// names lists the field of every item of a bucket (which must be a list).
func names(t *testing.T, data map[string]any, bucket, field string) []string {
	t.Helper()
	items, ok := data[bucket].([]any)
	if !ok {
		t.Fatalf("%q is not a list: %v", bucket, data[bucket])
	}
	out := []string{}
	for _, it := range items {
		out = append(out, it.(map[string]any)[field].(string))
	}
	return out
}

func wantNames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// exactKeys checks that an object has exactly these keys.
func exactKeys(t *testing.T, what string, v any, keys ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, v)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s has keys %v, want %v", what, got, keys)
	}
	return m
}

func TestSearchFoldsVietnamese(t *testing.T) {
	c := newSearchCast(t)
	t.Run("folded, exact, + and %2B as space", func(t *testing.T) {
		for _, term := range []string{"son%20tung", url.PathEscape("Sơn Tùng"), "SON+TUNG", "SON%2BTUNG", "s%C6%A1n+t%C3%B9ng"} {
			got := names(t, c.search("/v1/search/"+term+"/artists", ""), "artists", "name")
			if !slices.Contains(got, "Sơn Tùng M-TP") {
				t.Errorf("%s: %q lacks Sơn Tùng M-TP", term, got)
			}
		}
		wantNames(t, "den vau", names(t, c.search("/v1/search/den%20vau/artists", ""), "artists", "name"), "Đen Vâu")
		wantNames(t, "ĐEN", names(t, c.search("/v1/search/"+url.PathEscape("ĐEN")+"/artists", ""), "artists", "name"), "Đen Vâu")
		wantNames(t, "prefix chun", names(t, c.search("/v1/search/chun/songs", ""), "songs", "title"), "Chúng Ta Của Hiện Tại")
		wantNames(t, "prefix hien t", names(t, c.search("/v1/search/hien+t/songs", ""), "songs", "title"), "Chúng Ta Của Hiện Tại")
	})
	t.Run("a typo in a long word", func(t *testing.T) {
		wantNames(t, "chlil", names(t, c.search("/v1/search/chlil/songs", ""), "songs", "title"), "Bài Này Chill Phết")
		wantNames(t, "minzzy", names(t, c.search("/v1/search/minzzy/artists", ""), "artists", "name"), "Hòa Minzy")
		// Short words are not forgiven: "dne" is not "den".
		wantNames(t, "dne", names(t, c.search("/v1/search/dne/artists", ""), "artists", "name"))
	})
	t.Run("exact diacritics rank first", func(t *testing.T) {
		wantNames(t, "Sơn Tùng", names(t, c.search("/v1/search/"+url.PathEscape("Sơn Tùng")+"/artists", ""), "artists", "name"),
			"Sơn Tùng M-TP", "Son Tung Cover")
		wantNames(t, "son tung", names(t, c.search("/v1/search/son+tung/artists", ""), "artists", "name"),
			"Son Tung Cover", "Sơn Tùng M-TP")
		wantNames(t, "Lạc Trôi", names(t, c.search("/v1/search/"+url.PathEscape("Lạc Trôi")+"/songs", ""), "songs", "title"),
			"Lạc Trôi", "Lac Troi Remix")
		wantNames(t, "lac troi", names(t, c.search("/v1/search/lac%2Btroi/songs", ""), "songs", "title"),
			"Lac Troi Remix", "Lạc Trôi")
	})
	t.Run("views order equal hits and are shown", func(t *testing.T) {
		for range 2 {
			c.api.expect(c.api.do("GET", "/v1/song/"+c.lacRemix+"/presigned/stream", "", nil), 200)
		}
		c.api.expect(c.api.do("GET", "/v1/song/"+c.lac+"/presigned/stream", "", nil), 200)
		// "tr" is a prefix of both titles and nothing more: they score the
		// same, and the more played comes first (by title, it would be last).
		songs := c.search("/v1/search/tr/songs", "")["songs"].([]any)
		if len(songs) != 2 || songs[0].(map[string]any)["title"] != "Lac Troi Remix" ||
			songs[0].(map[string]any)["views"] != float64(2) || songs[1].(map[string]any)["views"] != float64(1) {
			t.Errorf("tr after 2 + 1 plays: %v", songs)
		}
	})
	t.Run("pages", func(t *testing.T) {
		wantNames(t, "page 1", names(t, c.search("/v1/search/lac+troi/songs?limit=1", ""), "songs", "title"), "Lac Troi Remix")
		wantNames(t, "page 2", names(t, c.search("/v1/search/lac+troi/songs?limit=1&page=2", ""), "songs", "title"), "Lạc Trôi")
		wantNames(t, "page 3", names(t, c.search("/v1/search/lac+troi/songs?limit=1&page=3", ""), "songs", "title"))
		c.api.expect(c.api.do("GET", "/v1/search/lac/songs?limit=many", "", nil), 400)
		c.api.expect(c.api.do("GET", "/v1/search/lac/users?page=x", "", nil), 400)
	})
}

func TestSearchShapes(t *testing.T) {
	c := newSearchCast(t)
	// The default search: five lists, a few of each, [] when none.
	all := c.search("/v1/search/chill", "")
	exactKeys(t, "default search", all, "songs", "artists", "albums", "playlists", "users")
	wantNames(t, "default songs", names(t, all, "songs", "title"), "Bài Này Chill Phết")
	wantNames(t, "default artists", names(t, all, "artists", "name"))
	wantNames(t, "default albums", names(t, all, "albums", "title"), "Chill EP")
	wantNames(t, "default playlists", names(t, all, "playlists", "title"), "Chill của Minh", "Nhạc Chill Của Lan")
	wantNames(t, "default users", names(t, all, "users", "username"))
	none := c.api.expect(c.api.do("GET", "/v1/search/zzyzx", "", nil), 200)
	if want := `{"data":{"songs":[],"artists":[],"albums":[],"playlists":[],"users":[]}}`; string(none.body) != want {
		t.Errorf("nothing found: %s, want %s", none.body, want)
	}
	for _, kind := range []string{"songs", "artists", "albums", "playlists", "users"} {
		r := c.api.expect(c.api.do("GET", "/v1/search/zzyzx/"+kind, "", nil), 200)
		if want := `{"data":{"` + kind + `":[]}}`; string(r.body) != want {
			t.Errorf("nothing found: %s, want %s", r.body, want)
		}
	}
	many := 0
	for i := range 7 {
		c.create("/v1/artist", c.admin, map[string]any{"name": "Nhóm " + string(rune('A'+i))})
		many++
	}
	if got := len(c.search("/v1/search/nhom", "")["artists"].([]any)); got != 5 {
		t.Errorf("default search shows %d artists of %d, want a few (5)", got, many)
	}
	if got := len(c.search("/v1/search/nhom/artists", "")["artists"].([]any)); got != many {
		t.Errorf("artist search shows %d of %d", got, many)
	}

	// Songs, field by field.
	songs := c.search("/v1/search/chung+ta/songs", "")
	exactKeys(t, "songs answer", songs, "songs")
	s := exactKeys(t, "song", songs["songs"].([]any)[0], "id", "title", "thumbnailurl", "duration", "views", "releasedate", "genre", "artists")
	want := map[string]any{"id": c.chungTa, "title": "Chúng Ta Của Hiện Tại", "thumbnailurl": "/ctcht.png", "duration": float64(301),
		"views": float64(0), "releasedate": "2020-12-20", "genre": "V-Pop"}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("song %s = %#v, want %#v", k, s[k], v)
		}
	}
	artists := s["artists"].([]any)
	a := exactKeys(t, "song artist", artists[0], "id", "name")
	if len(artists) != 1 || a["id"] != c.tung || a["name"] != "Sơn Tùng M-TP" {
		t.Errorf("song artists: %v", artists)
	}
	// Defaults are "" and 0, never null; artists in credit order.
	s = exactKeys(t, "song", c.search("/v1/search/bai+nay/songs", "")["songs"].([]any)[0],
		"id", "title", "thumbnailurl", "duration", "views", "releasedate", "genre", "artists")
	if s["thumbnailurl"] != "" || s["releasedate"] != "" || s["genre"] != "" || s["duration"] != float64(0) {
		t.Errorf("song without details: %v", s)
	}
	if got := names(t, s, "artists", "name"); !slices.Equal(got, []string{"Đen Vâu", "Sơn Tùng M-TP"}) {
		t.Errorf("credits of a song of two artists: %q", got)
	}

	// Artists.
	ar := exactKeys(t, "artist", c.search("/v1/search/tung+m/artists", "")["artists"].([]any)[0], "id", "name", "avatarurl")
	if ar["id"] != c.tung || ar["name"] != "Sơn Tùng M-TP" || ar["avatarurl"] != "/tung.png" {
		t.Errorf("artist: %v", ar)
	}

	// Albums and playlists: one shape, with the owner.
	al := exactKeys(t, "album", c.search("/v1/search/sky/albums", "")["albums"].([]any)[0],
		"id", "title", "description", "thumbnailurl", "type", "owner")
	if al["id"] != c.album || al["title"] != "Sky Tour" || al["description"] != "về Sky Tour" || al["thumbnailurl"] != "" || al["type"] != "Album" {
		t.Errorf("album: %v", al)
	}
	owner := exactKeys(t, "album owner", al["owner"], "id", "username", "avatarurl")
	if owner["id"] != c.admin.id || owner["username"] != "Quản trị" || owner["avatarurl"] != "" {
		t.Errorf("album owner: %v", owner)
	}
	wantNames(t, "EP among albums", names(t, c.search("/v1/search/chill/albums", ""), "albums", "type"), "EP")
	pl := exactKeys(t, "playlist", c.search("/v1/search/nhac+chill/playlists", "")["playlists"].([]any)[0],
		"id", "title", "description", "thumbnailurl", "type", "owner")
	owner = exactKeys(t, "playlist owner", pl["owner"], "id", "username", "avatarurl")
	if pl["id"] != c.lanPublic || pl["type"] != "Playlist" || owner["id"] != c.lan.id || owner["username"] != "Lan Ngọc" || owner["avatarurl"] != "/lan.png" {
		t.Errorf("playlist: %v", pl)
	}

	// Users.
	u := exactKeys(t, "user", c.search("/v1/search/lan/users", "")["users"].([]any)[0], "id", "username", "avatarurl")
	if u["id"] != c.lan.id || u["username"] != "Lan Ngọc" || u["avatarurl"] != "/lan.png" {
		t.Errorf("user: %v", u)
	}
}

func TestSearchPrivacyAndDeletion(t *testing.T) {
	c := newSearchCast(t)
	api := c.api
	playlists := func(token string) []string {
		t.Helper()
		return names(t, c.search("/v1/search/chill/playlists", token), "playlists", "title")
	}
	// Someone else's private playlist never appears; its owner finds it.
	wantNames(t, "anonymous", playlists(""), "Chill của Minh", "Nhạc Chill Của Lan")
	wantNames(t, "an unusable token is anonymous", names(t, c.search("/v1/search/chill/playlists", "undefined"), "playlists", "title"),
		"Chill của Minh", "Nhạc Chill Của Lan")
	wantNames(t, "minh", playlists(c.minh.access), "Chill của Minh", "Nhạc Chill Của Lan")
	wantNames(t, "lan", playlists(c.lan.access), "Chill Bí Mật", "Chill của Minh", "Nhạc Chill Của Lan")
	wantNames(t, "default search, minh", names(t, c.search("/v1/search/bi+mat", c.minh.access), "playlists", "title"))
	wantNames(t, "default search, lan", names(t, c.search("/v1/search/bi+mat", c.lan.access), "playlists", "title"), "Chill Bí Mật")
	wantNames(t, "playlists are not albums", names(t, c.search("/v1/search/chill/albums", c.lan.access), "albums", "title"), "Chill EP")

	// Made private: gone for the others at once; made public again: back.
	api.expect(api.do("POST", "/v1/collection/"+c.minhMix, c.minh.access, map[string]string{"visibility": "private"}), 200)
	wantNames(t, "lan after minh's went private", playlists(c.lan.access), "Chill Bí Mật", "Nhạc Chill Của Lan")
	wantNames(t, "minh after minh's went private", playlists(c.minh.access), "Chill của Minh", "Nhạc Chill Của Lan")
	api.expect(api.do("POST", "/v1/collection/"+c.lanSecret, c.lan.access, map[string]string{"visibility": "public"}), 200)
	wantNames(t, "anonymous after lan's went public", playlists(""), "Chill Bí Mật", "Nhạc Chill Của Lan")
	api.expect(api.do("POST", "/v1/collection/"+c.minhMix, c.minh.access, map[string]string{"visibility": "Public"}), 200)
	wantNames(t, "anonymous after minh's went public again", playlists(""), "Chill Bí Mật", "Chill của Minh", "Nhạc Chill Của Lan")

	// Renames reach the documents that show them, right after the write.
	api.expect(api.do("POST", "/v1/artist/"+c.den, c.admin.access, map[string]string{"name": "Đen"}), 200)
	chill := c.search("/v1/search/chill/songs", "")["songs"].([]any)[0].(map[string]any)
	wantNames(t, "credits after a rename", names(t, chill, "artists", "name"), "Đen", "Sơn Tùng M-TP")
	api.expect(api.do("POST", "/v1/user/me", c.lan.access, map[string]string{"username": "Lan Chi"}), 200)
	pl := c.search("/v1/search/nhac+chill/playlists", "")["playlists"].([]any)[0].(map[string]any)
	if pl["owner"].(map[string]any)["username"] != "Lan Chi" {
		t.Errorf("owner after a rename: %v", pl["owner"])
	}
	api.expect(api.do("POST", "/v1/song/"+c.roiBo, c.admin.access, map[string]string{"title": "Rời Bỏ (Live)"}), 200)
	wantNames(t, "re-titled", names(t, c.search("/v1/search/live/songs", ""), "songs", "title"), "Rời Bỏ (Live)")

	// Deleted things leave search as soon as the DELETE has answered.
	api.expect(api.do("DELETE", "/v1/song/"+c.lac, c.admin.access, nil), 204)
	wantNames(t, "song deleted", names(t, c.search("/v1/search/lac+troi/songs", ""), "songs", "title"), "Lac Troi Remix")
	api.expect(api.do("DELETE", "/v1/song/"+c.roiBo, c.admin.access, nil), 204)
	api.expect(api.do("DELETE", "/v1/artist/"+c.hoa, c.admin.access, nil), 204)
	wantNames(t, "artist deleted", names(t, c.search("/v1/search/minzy/artists", ""), "artists", "name"))
	api.expect(api.do("DELETE", "/v1/collection/"+c.album, c.admin.access, nil), 200)
	wantNames(t, "album deleted", names(t, c.search("/v1/search/sky/albums", ""), "albums", "title"))
	api.expect(api.do("DELETE", "/v1/user/"+c.minh.id, c.admin.access, nil), 204)
	wantNames(t, "user deleted", names(t, c.search("/v1/search/minh/users", ""), "users", "username"))
	wantNames(t, "a deleted user's playlists", names(t, c.search("/v1/search/minh/playlists", ""), "playlists", "title"))
	wantNames(t, "playlists at the end", playlists(""), "Chill Bí Mật", "Nhạc Chill Của Lan")
}

func TestSearchRefusesEmptyTerms(t *testing.T) {
	api := newTestAPI(t, nil)
	for _, path := range []string{"/v1/search", "/v1/search/", "/v1/search/%20", "/v1/search/+", "/v1/search/%2B%2B",
		"/v1/search/%21%40%23", "/v1/search/%20/songs", "/v1/search/-/artists", "/v1/search/%E2%80%94/users",
		"/v1/search/" + strings.Repeat("a", 101), "/v1/search/" + strings.Repeat("a", 101) + "/playlists"} {
		r := api.do("GET", path, "", nil)
		if r.status != 400 {
			t.Errorf("GET %s: %d %s, want 400", path, r.status, r.body)
			continue
		}
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil || body["error"] == "" || body["error"] == nil {
			t.Errorf("GET %s: no error message: %s", path, r.body)
		}
	}
	api.expect(api.do("GET", "/v1/search/"+strings.Repeat("a", 100), "", nil), 200)
}

// An Elasticsearch URL that answers nothing stops serve with a clear error.
func TestSearchElasticsearchUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	vars := map[string]string{"ELASTICSEARCH_URL": "http://elastic:s3cret@" + addr, "JWT_SECRET": "test-secret-test-secret-test-secret-0123",
		"HUSTMUSIK_DATA_DIR": t.TempDir(), "DATABASE_URL": "postgres://unused@127.0.0.1:1/unused"}
	cfg, err := config.FromEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	b, err := newSearchBackend(cfg, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if b.es == nil {
		t.Fatal("ELASTICSEARCH_URL set, yet not the Elasticsearch index")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = b.prepare(ctx, cfg)
	if err == nil {
		t.Fatal("prepare succeeded against a closed port")
	}
	if msg := err.Error(); !strings.Contains(msg, "ELASTICSEARCH_URL") || !strings.Contains(msg, addr) || strings.Contains(msg, "s3cret") {
		t.Errorf("error %q: should name ELASTICSEARCH_URL and the address, without the password", msg)
	}
}
