package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hustmusik/backend/projections"
)

// TestReplayGivesIdenticalAnswers builds a varied catalog and library through
// the API, records the answer of every GET, then drops every read model and
// replays the whole log into it: every GET must answer byte for byte the same.
// The log is the truth; read models are only its consequences.
func TestReplayGivesIdenticalAnswers(t *testing.T) {
	api := newTestAPI(t, map[string]string{"ADMIN_EMAILS": "admin@hust.vn"})
	admin := api.signUp("admin@hust.vn", "Quản trị")
	lan := api.signUp("lan@example.vn", "Lan")
	minh := api.signUp("minh@example.vn", "Minh")
	api.expect(api.do("POST", "/v1/user/me", lan.access, map[string]string{"country": "Việt Nam"}), 200)

	artist := func(name string) string {
		r := api.expect(api.do("POST", "/v1/artist", admin.access, map[string]string{"name": name, "country": "VN"}), 200)
		return r.json(t)["data"].(map[string]any)["id"].(string)
	}
	song := func(title, artists string, duration int) string {
		r := api.expect(api.do("POST", "/v1/song", admin.access, map[string]any{
			"title": title, "artists": artists, "duration": duration, "genre": "V-Pop", "releasedate": "2024-05-31"}), 200)
		return r.json(t)["data"].(map[string]any)["id"].(string)
	}
	tung, den, hoa := artist("Sơn Tùng M-TP"), artist("Đen Vâu"), artist("Hòa Minzy")
	s1 := song("Chúng Ta Của Hiện Tại", tung, 301)
	s2 := song("Bài Này Chill Phết", den+","+tung, 276)
	s3 := song("Rời Bỏ", hoa, 245)
	s4 := song("Xoá", hoa, 200)
	api.expect(api.do("POST", "/v1/song/"+s3, admin.access, map[string]string{"title": "Rời Bỏ (Live)"}), 200)
	api.expect(api.do("DELETE", "/v1/song/"+s4, admin.access, nil), 204)

	album := api.expect(api.do("POST", "/v1/collection", admin.access, map[string]string{
		"title": "m-tp M-TP", "type": "album", "visibility": "public"}), 200).json(t)["data"].(map[string]any)["id"].(string)
	playlist := api.expect(api.do("POST", "/v1/collection", lan.access, map[string]string{
		"title": "Nhạc của Lan", "type": "Playlist", "visibility": "Private"}), 200).json(t)["data"].(map[string]any)["id"].(string)
	for _, s := range []string{s1, s2} {
		api.expect(api.do("POST", "/v1/collection/"+album+"/songs/"+s, admin.access, nil), 204)
	}
	for _, s := range []string{s2, s3, s1} {
		api.expect(api.do("POST", "/v1/collection/"+playlist+"/songs/"+s, lan.access, nil), 204)
	}
	api.expect(api.do("DELETE", "/v1/collection/"+playlist+"/songs/"+s3, lan.access, nil), 204)

	api.expect(api.do("POST", "/v1/user/me/following/"+tung, lan.access, nil), 204)
	api.expect(api.do("POST", "/v1/user/me/following/"+den, lan.access, nil), 204)
	api.expect(api.do("DELETE", "/v1/user/me/following/"+den, lan.access, nil), 204)
	for _, s := range []string{s1, s2, s3} {
		api.expect(api.do("POST", "/v1/user/me/history/"+s, lan.access, nil), 204)
	}
	api.expect(api.do("POST", "/v1/user/me/history/"+s1, minh.access, nil), 204)
	api.expect(api.do("DELETE", "/v1/user/"+minh.id, admin.access, nil), 204)

	type get struct{ path, token string }
	gets := []get{
		{"/v1/user", ""}, {"/v1/user/" + lan.id, ""}, {"/v1/user/" + minh.id, ""}, {"/v1/user/me", lan.access},
		{"/v1/user/me/playlists", lan.access}, {"/v1/user/me/history", lan.access}, {"/v1/user/me/following", lan.access},
		{"/v1/artist", ""}, {"/v1/artist?managed=true", admin.access}, {"/v1/artist/" + tung, ""}, {"/v1/artist/" + hoa, ""},
		{"/v1/artist/" + tung + "/songs", ""}, {"/v1/artist/" + tung + "/albums", ""},
		{"/v1/song", ""}, {"/v1/song?page=2&limit=2", ""}, {"/v1/song/" + s1, ""}, {"/v1/song/" + s2, ""}, {"/v1/song/" + s4, ""},
		{"/v1/collection", ""}, {"/v1/collection", lan.access}, {"/v1/collection/playlists", lan.access},
		{"/v1/collection/albums", ""}, {"/v1/collection/" + album, ""}, {"/v1/collection/" + playlist, lan.access},
		{"/v1/collection/" + playlist, ""},
		{"/v1/search/son%20tung", ""}, {"/v1/search/chung+ta/songs", ""}, {"/v1/search/nhac/playlists", lan.access},
	}
	capture := func() [][]byte {
		out := make([][]byte, len(gets))
		for i, g := range gets {
			r := api.do("GET", g.path, g.token, nil)
			out[i] = []byte(fmt.Sprintf("%d %s", r.status, r.body))
		}
		return out
	}
	before := capture()

	api.stopProjections()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, p := range everyProjector(api.app.search.projector) {
		if _, err := projections.Replay(ctx, api.app.env.pool, api.app.env.store, p, 7); err != nil {
			t.Fatalf("replay %s: %v", p.Name(), err)
		}
	}
	after := capture()
	for i := range gets {
		if !bytes.Equal(before[i], after[i]) {
			t.Errorf("GET %s differs after a replay:\nbefore: %s\nafter:  %s", gets[i].path, before[i], after[i])
		}
	}
	// The capture saw real answers: 200s, and 404 exactly where something
	// was deleted or is private.
	notFound := map[string]bool{"/v1/user/" + minh.id: true, "/v1/song/" + s4: true}
	for i, g := range gets {
		want := "200 "
		if notFound[g.path] || g.path == "/v1/collection/"+playlist && g.token == "" {
			want = "404 "
		}
		if !bytes.HasPrefix(before[i], []byte(want)) {
			t.Errorf("GET %s (token %v): %s, want %s", g.path, g.token != "", before[i], want)
		}
	}
	if !bytes.Contains(before[13], []byte("Chúng Ta Của Hiện Tại")) || !bytes.Contains(before[5], []byte("Rời Bỏ (Live)")) {
		t.Fatalf("the answers lack the data written: %s / %s", before[13], before[5])
	}
}
