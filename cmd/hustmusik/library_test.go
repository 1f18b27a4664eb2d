package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// libWorld is a running service with an Admin (who adds the catalog) and a
// listener.
type libWorld struct {
	api      *testAPI
	admin    account
	listener account
}

func newLibWorld(t *testing.T) *libWorld {
	t.Helper()
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "thuvien@hust.vn"})
	return &libWorld{api: api, admin: api.signUp("thuvien@hust.vn", "Quản trị"), listener: api.signUp("nghe@hust.vn", "Người nghe")}
}

func (w *libWorld) artist(name, avatar string) string {
	w.api.t.Helper()
	r := w.api.expect(w.api.do("POST", "/v1/artist", w.admin.access, map[string]string{"name": name, "avatarurl": avatar}), 200)
	return libDataID(w.api.t, r)
}

func (w *libWorld) song(title string, duration int, thumb string, artists ...string) string {
	w.api.t.Helper()
	r := w.api.expect(w.api.do("POST", "/v1/song", w.admin.access, map[string]string{"title": title,
		"artists": strings.Join(artists, ","), "duration": fmt.Sprint(duration), "thumbnailurl": thumb}), 200)
	return libDataID(w.api.t, r)
}

func libDataID(t *testing.T, r answer) string {
	t.Helper()
	var m struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil || m.Data.ID == "" {
		t.Fatalf("no data.id in %s (%v)", r.body, err)
	}
	return m.Data.ID
}

// libData decodes {"data": [...]} into a list of objects, insisting on a
// list (never null) and on no other top-level key.
func libData(t *testing.T, r answer) []map[string]any {
	t.Helper()
	m := r.json(t)
	if len(m) != 1 {
		t.Fatalf("top-level keys of %s, want only data", r.body)
	}
	raw, ok := m["data"].([]any)
	if !ok {
		t.Fatalf("data is not a list: %s", r.body)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		if out[i], ok = v.(map[string]any); !ok {
			t.Fatalf("entry %d is not an object: %s", i, r.body)
		}
	}
	return out
}

// libExact checks that m has exactly these keys with these values (nested
// maps are compared key by key; a nil want value only checks presence).
func libExact(t *testing.T, what string, m map[string]any, want map[string]any) {
	t.Helper()
	var got, exp []string
	for k := range m {
		got = append(got, k)
	}
	for k := range want {
		exp = append(exp, k)
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, ",") != strings.Join(exp, ",") {
		t.Fatalf("%s: keys %v, want %v", what, got, exp)
	}
	for k, v := range want {
		switch v := v.(type) {
		case nil:
		case map[string]any:
			sub, ok := m[k].(map[string]any)
			if !ok {
				t.Fatalf("%s.%s is not an object: %v", what, k, m[k])
			}
			libExact(t, what+"."+k, sub, v)
		default:
			if m[k] != v {
				t.Fatalf("%s.%s = %#v, want %#v", what, k, m[k], v)
			}
		}
	}
}

func (w *libWorld) streamTypes(stream string) []string {
	w.api.t.Helper()
	events, err := w.api.app.env.store.ReadStream(context.Background(), stream, 0, 10000)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		w.api.t.Fatal(err)
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

func libCount(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func TestLibraryFollowUnfollowAndList(t *testing.T) {
	w := newLibWorld(t)
	api, tok := w.api, w.listener.access
	son := w.artist("Sơn Tùng M-TP", "https://res.cloudinary.com/demo/sontung.jpg")
	den := w.artist("Đen Vâu", "")

	// Nothing followed yet: an empty list, not null.
	if got := libData(t, api.expect(api.do("GET", "/v1/user/me/following", tok, nil), 200)); len(got) != 0 {
		t.Fatalf("following %v", got)
	}
	api.expect(api.do("POST", "/v1/user/me/following/"+son, tok, nil), 204)
	api.expect(api.do("POST", "/v1/user/me/following/"+strings.ToUpper(den), tok, nil), 204)
	r := api.expect(api.do("POST", "/v1/user/me/following/"+son, tok, nil), 204) // twice: not an error
	if len(r.body) != 0 {
		t.Fatalf("204 with a body: %s", r.body)
	}
	if n := libCount(w.streamTypes(domain.UserStream(w.listener.id)), "ArtistFollowed"); n != 2 {
		t.Fatalf("%d ArtistFollowed events, want 2", n)
	}
	got := libData(t, api.expect(api.do("GET", "/v1/user/me/following", tok, nil), 200))
	if len(got) != 2 {
		t.Fatalf("following %v", got)
	}
	// Newest follow first.
	libExact(t, "following[0]", got[0], map[string]any{"artist": map[string]any{"id": den, "name": "Đen Vâu", "avatarurl": ""}})
	libExact(t, "following[1]", got[1], map[string]any{"artist": map[string]any{"id": son, "name": "Sơn Tùng M-TP",
		"avatarurl": "https://res.cloudinary.com/demo/sontung.jpg"}})

	api.expect(api.do("DELETE", "/v1/user/me/following/"+son, tok, nil), 204)
	api.expect(api.do("DELETE", "/v1/user/me/following/"+son, tok, nil), 204) // idempotent
	if n := libCount(w.streamTypes(domain.UserStream(w.listener.id)), "ArtistUnfollowed"); n != 1 {
		t.Fatalf("%d ArtistUnfollowed events, want 1", n)
	}
	got = libData(t, api.expect(api.do("GET", "/v1/user/me/following", tok, nil), 200))
	if len(got) != 1 || got[0]["artist"].(map[string]any)["id"] != den {
		t.Fatalf("following after unfollow %v", got)
	}
	// Another listener's follows are their own.
	other := api.signUp("khac@hust.vn", "Khác")
	if got := libData(t, api.expect(api.do("GET", "/v1/user/me/following", other.access, nil), 200)); len(got) != 0 {
		t.Fatalf("another user sees %v", got)
	}

	// A deleted artist leaves every following list.
	api.expect(api.do("DELETE", "/v1/artist/"+den, w.admin.access, nil), 204)
	if got := libData(t, api.expect(api.do("GET", "/v1/user/me/following", tok, nil), 200)); len(got) != 0 {
		t.Fatalf("a deleted artist is still followed: %v", got)
	}
	var rows int
	if err := api.app.env.pool.QueryRow(context.Background(), `SELECT count(*) FROM follows WHERE artist_id = $1`, den).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("follows rows of a deleted artist: %d %v", rows, err)
	}
}

func TestLibraryFollowFailures(t *testing.T) {
	w := newLibWorld(t)
	api, tok := w.api, w.listener.access
	for _, tc := range []struct {
		name, method, path, token string
		status                    int
		msg                       string
	}{
		{"unknown artist", "POST", "/v1/user/me/following/0b5a3c4e-1111-4222-8333-944455556666", tok, 404, "Artist does not exist"},
		{"malformed id", "POST", "/v1/user/me/following/not-a-uuid", tok, 400, "Invalid artist id: must be a UUID"},
		{"malformed id on delete", "DELETE", "/v1/user/me/following/123", tok, 400, "Invalid artist id: must be a UUID"},
		{"anonymous follow", "POST", "/v1/user/me/following/0b5a3c4e-1111-4222-8333-944455556666", "", 401, "Authentication required"},
		{"anonymous unfollow", "DELETE", "/v1/user/me/following/0b5a3c4e-1111-4222-8333-944455556666", "", 401, "Authentication required"},
		{"anonymous list", "GET", "/v1/user/me/following", "", 401, "Authentication required"},
		{"bad token", "GET", "/v1/user/me/following", "abc.def.ghi", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.expect(api.do(tc.method, tc.path, tc.token, nil), tc.status)
			if msg := r.errorMessage(t); msg == "" || tc.msg != "" && msg != tc.msg {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
		})
	}
	if types := w.streamTypes(domain.UserStream(w.listener.id)); libCount(types, "ArtistFollowed") != 0 {
		t.Fatalf("a failed follow appended: %v", types)
	}
}

func TestLibraryListenAndHistoryShape(t *testing.T) {
	w := newLibWorld(t)
	api, tok := w.api, w.listener.access
	den, minID := w.artist("Đen Vâu", ""), w.artist("MIN", "")
	chill := w.song("Bài Này Chill Phết", 276, "https://res.cloudinary.com/demo/chill.jpg", den, minID)
	loi := w.song("Lối Nhỏ", 284, "", den)
	stream := domain.ListensStream(w.listener.id)

	// No listens: [].
	if got := libData(t, api.expect(api.do("GET", "/v1/user/me/history", tok, nil), 200)); len(got) != 0 {
		t.Fatalf("history %v", got)
	}
	r := api.expect(api.do("POST", "/v1/user/me/history/"+chill, tok, map[string]any{"ignored": true}), 204)
	if len(r.body) != 0 || r.header.Get("X-Position") == "" {
		t.Fatalf("listen answer: %q, X-Position %q", r.body, r.header.Get("X-Position"))
	}
	// The same song again within 30 seconds is the same listen.
	api.expect(api.do("POST", "/v1/user/me/history/"+chill, tok, nil), 204)
	if types := w.streamTypes(stream); len(types) != 1 || types[0] != "ListenRecorded" {
		t.Fatalf("listens stream %v, want one ListenRecorded", types)
	}
	api.expect(api.do("POST", "/v1/user/me/history/"+loi, tok, "not json at all"), 204)
	if n := len(w.streamTypes(stream)); n != 2 {
		t.Fatalf("%d listens after two songs, want 2", n)
	}

	events, err := api.app.env.store.ReadStream(context.Background(), stream, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var first, second domain.ListenRecorded
	if json.Unmarshal(events[0].Data, &first) != nil || json.Unmarshal(events[1].Data, &second) != nil {
		t.Fatal("undecodable ListenRecorded")
	}
	if first.UserID != w.listener.id || first.SongID != chill || time.Since(first.ListenedAt) > time.Minute {
		t.Fatalf("event %+v", first)
	}

	got := libData(t, api.expect(api.do("GET", "/v1/user/me/history", tok, nil), 200))
	if len(got) != 2 {
		t.Fatalf("history %v", got)
	}
	libExact(t, "history[0]", got[0], map[string]any{
		"last_listened": second.ListenedAt.Format(time.RFC3339Nano),
		"songs":         map[string]any{"id": loi, "title": "Lối Nhỏ", "duration": float64(284), "thumbnailurl": "", "artists": nil},
	})
	libExact(t, "history[1]", got[1], map[string]any{
		"last_listened": first.ListenedAt.Format(time.RFC3339Nano),
		"songs": map[string]any{"id": chill, "title": "Bài Này Chill Phết", "duration": float64(276),
			"thumbnailurl": "https://res.cloudinary.com/demo/chill.jpg", "artists": nil},
	})
	artists := got[1]["songs"].(map[string]any)["artists"].([]any)
	if len(artists) != 2 {
		t.Fatalf("artists %v", artists)
	}
	for i, want := range []struct{ id, name string }{{den, "Đen Vâu"}, {minID, "MIN"}} {
		libExact(t, fmt.Sprintf("artists[%d]", i), artists[i].(map[string]any), map[string]any{
			"id": want.id, "name": want.name, "artist": map[string]any{"id": want.id, "name": want.name}})
	}

	for _, tc := range []struct {
		name, method, path, token string
		status                    int
		msg                       string
	}{
		{"unknown song", "POST", "/v1/user/me/history/0b5a3c4e-1111-4222-8333-944455556666", tok, 404, "Song does not exist"},
		{"malformed song", "POST", "/v1/user/me/history/xyz", tok, 400, "Invalid song id: must be a UUID"},
		{"anonymous listen", "POST", "/v1/user/me/history/" + loi, "", 401, "Authentication required"},
		{"anonymous history", "GET", "/v1/user/me/history", "", 401, "Authentication required"},
		{"bad cursor", "GET", "/v1/user/me/history?before=yesterday", tok, 400, ""},
		{"bad limit", "GET", "/v1/user/me/history?limit=ten", tok, 400, "limit must be a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.expect(api.do(tc.method, tc.path, tc.token, nil), tc.status)
			if msg := r.errorMessage(t); msg == "" || tc.msg != "" && msg != tc.msg {
				t.Fatalf("error %q, want %q", msg, tc.msg)
			}
		})
	}
	if n := len(w.streamTypes(stream)); n != 2 {
		t.Fatalf("failed listens appended: %d events", n)
	}
}

func TestLibraryHistoryPaging(t *testing.T) {
	w := newLibWorld(t)
	api, tok := w.api, w.listener.access
	vu := w.artist("Vũ.", "")
	var listened []string // in listen order
	for i := 0; i < 45; i++ {
		id := w.song(fmt.Sprintf("Bài hát số %02d", i), 200+i, "", vu)
		api.expect(api.do("POST", "/v1/user/me/history/"+id, tok, nil), 204)
		listened = append(listened, id)
	}
	// Default page: 20.
	if got := libData(t, api.expect(api.do("GET", "/v1/user/me/history", tok, nil), 200)); len(got) != 20 {
		t.Fatalf("default page of %d", len(got))
	}
	if got := libData(t, api.expect(api.do("GET", "/v1/user/me/history?limit=500", tok, nil), 200)); len(got) != 45 {
		t.Fatalf("limit 500 gave %d (at most 50 of 45)", len(got))
	}
	var seen []string
	before := ""
	for page := 0; ; page++ {
		path := "/v1/user/me/history?limit=20"
		if before != "" {
			path += "&before=" + url.QueryEscape(before)
		}
		got := libData(t, api.expect(api.do("GET", path, tok, nil), 200))
		if want := []int{20, 20, 5, 0}[page]; len(got) != want {
			t.Fatalf("page %d has %d entries, want %d", page, len(got), want)
		}
		if len(got) == 0 {
			break
		}
		for _, e := range got {
			seen = append(seen, e["songs"].(map[string]any)["id"].(string))
		}
		before = got[len(got)-1]["last_listened"].(string)
	}
	if len(seen) != 45 {
		t.Fatalf("paged through %d entries", len(seen))
	}
	for i, id := range seen {
		if want := listened[44-i]; id != want {
			t.Fatalf("entry %d is %s, want %s (newest first, none skipped or repeated)", i, id, want)
		}
	}
	// An unescaped "+" offset reads as a space; it still works.
	t0 := time.Now().Add(time.Hour).In(time.FixedZone("ICT", 7*3600)).Format(time.RFC3339Nano)
	if got := libData(t, api.expect(api.do("GET", "/v1/user/me/history?limit=3&before="+t0, tok, nil), 200)); len(got) != 3 {
		t.Fatalf("cursor with a + offset gave %d entries", len(got))
	}
}

func TestLibraryHistoryForgetsDeletedSongsAndUsers(t *testing.T) {
	w := newLibWorld(t)
	api, tok := w.api, w.listener.access
	my := w.artist("Mỹ Tâm", "")
	uoc, dau := w.song("Ước Gì", 272, "", my), w.song("Đâu Chỉ Riêng Em", 300, "", my)
	api.expect(api.do("POST", "/v1/user/me/history/"+uoc, tok, nil), 204)
	api.expect(api.do("POST", "/v1/user/me/history/"+dau, tok, nil), 204)
	api.expect(api.do("POST", "/v1/user/me/following/"+my, tok, nil), 204)

	api.expect(api.do("DELETE", "/v1/song/"+uoc, w.admin.access, nil), 204)
	got := libData(t, api.expect(api.do("GET", "/v1/user/me/history", tok, nil), 200))
	if len(got) != 1 || got[0]["songs"].(map[string]any)["id"] != dau {
		t.Fatalf("history after the song's deletion: %v", got)
	}
	api.expect(api.do("POST", "/v1/user/me/history/"+uoc, tok, nil), 404)

	ctx := context.Background()
	rowsOf := func(table string) int {
		var n int
		if err := api.app.env.pool.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE user_id = $1`, w.listener.id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if rowsOf("listen_history") != 1 || rowsOf("follows") != 1 {
		t.Fatalf("rows before the user's deletion: %d history, %d follows", rowsOf("listen_history"), rowsOf("follows"))
	}
	api.expect(api.do("DELETE", "/v1/user/"+w.listener.id, w.admin.access, nil), 204)
	if rowsOf("listen_history") != 0 || rowsOf("follows") != 0 {
		t.Fatalf("a deleted user's rows stayed: %d history, %d follows", rowsOf("listen_history"), rowsOf("follows"))
	}
	// Their still-valid access token cannot bring the history back.
	api.expect(api.do("POST", "/v1/user/me/history/"+dau, tok, nil), 401)
	if rowsOf("listen_history") != 0 {
		t.Fatal("a deleted user's listen was recorded")
	}
}
