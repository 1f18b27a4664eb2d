package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSeedIsIdempotentAndServedByTheAPI(t *testing.T) {
	api := newTestAPI(t, nil)
	ctx := context.Background()
	var progress bytes.Buffer
	first, err := seedDemo(ctx, api.app, &progress)
	if err != nil {
		t.Fatal(err)
	}
	head1, err := api.app.env.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	artists := demoArtists()
	songs := 0
	for _, a := range artists {
		songs += len(a.songs)
	}
	if len(artists) < 24 || songs < 3*len(artists) {
		t.Fatalf("a thin demo: %d artists, %d songs", len(artists), songs)
	}
	// user + artists + songs + albums + playlists, plus the songs put in collections.
	if first.created < 1+len(artists)+songs+len(artists)+2+songs || first.existing != 0 {
		t.Fatalf("first run: %+v", first)
	}
	if first.position != head1 {
		t.Fatalf("first run ended at %d, the log at %d", first.position, head1)
	}
	for _, want := range []string{fmt.Sprintf("artists %d/%d\n", len(artists), len(artists)),
		fmt.Sprintf("songs %d/%d\n", songs, songs), "playlists 2/2\n"} {
		if !strings.Contains(progress.String(), want) {
			t.Fatalf("progress lacks %q", want)
		}
	}

	second, err := seedDemo(ctx, api.app, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	head2, err := api.app.env.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head2 != head1 || second.created != 0 || second.position != 0 {
		t.Fatalf("second run added events: head %d -> %d, %+v", head1, head2, second)
	}
	if !strings.Contains(second.String(), "nothing added") {
		t.Fatalf("summary %q", second)
	}

	// What the seed wrote reaches the read models through the log.
	minPos := fmt.Sprint(head1)
	names := map[string]bool{}
	total := -1
	for page := 1; ; page++ {
		var body struct {
			Count int `json:"count"`
			Data  []struct {
				ID, Name string
			} `json:"data"`
		}
		r := api.expect(api.do("GET", fmt.Sprintf("/v1/artist?limit=50&page=%d", page), "", nil, "X-Min-Position", minPos), 200)
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		total = body.Count
		for _, a := range body.Data {
			if a.ID != seedID("artist", a.Name) {
				t.Fatalf("artist %s has id %s, not its seed id", a.Name, a.ID)
			}
			names[a.Name] = true
		}
		if len(body.Data) < 50 {
			break
		}
	}
	if total != len(artists) || len(names) != len(artists) {
		t.Fatalf("GET /v1/artist: count %d, %d names; want %d", total, len(names), len(artists))
	}
	for _, n := range []string{"Sơn Tùng M-TP", "Đen Vâu", "Hòa Minzy", "Mỹ Tâm", "Hồ Ngọc Hà", "Vũ.", "Røyksopp", "Sigur Rós", "Beyoncé"} {
		if !names[n] {
			t.Fatalf("artist %q missing or mangled: %v", n, names)
		}
	}

	var songList struct {
		Count int `json:"count"`
	}
	r := api.expect(api.do("GET", "/v1/song?limit=50", "", nil, "X-Min-Position", minPos), 200)
	if err := json.Unmarshal(r.body, &songList); err != nil {
		t.Fatal(err)
	}
	if songList.Count != songs {
		t.Fatalf("GET /v1/song count %d, want %d", songList.Count, songs)
	}
	noiNay := seedID("song", "Sơn Tùng M-TP/Nơi Này Có Anh")
	var song struct {
		Title, Genre, Releasedate string
		Duration                  int
		Artists                   []struct{ Name string }
	}
	r = api.expect(api.do("GET", "/v1/song/"+noiNay, "", nil), 200)
	if err := json.Unmarshal(r.body, &song); err != nil {
		t.Fatal(err)
	}
	if song.Title != "Nơi Này Có Anh" || song.Duration != 260 || song.Genre != "V-Pop" || song.Releasedate != "2017-02-14" ||
		len(song.Artists) != 1 || song.Artists[0].Name != "Sơn Tùng M-TP" {
		t.Fatalf("song %+v from %s", song, r.body)
	}
	// A featured artist is credited after the primary one.
	r = api.expect(api.do("GET", "/v1/song/"+seedID("song", "Ed Sheeran/The Joker and the Queen"), "", nil), 200)
	if err := json.Unmarshal(r.body, &song); err != nil {
		t.Fatal(err)
	}
	if len(song.Artists) != 2 || song.Artists[0].Name != "Ed Sheeran" || song.Artists[1].Name != "Taylor Swift" {
		t.Fatalf("featured artists %+v", song.Artists)
	}

	var playlists struct {
		Count int                      `json:"count"`
		Data  []struct{ Title string } `json:"data"`
	}
	r = api.expect(api.do("GET", "/v1/collection/playlists", "", nil, "X-Min-Position", minPos), 200)
	if err := json.Unmarshal(r.body, &playlists); err != nil {
		t.Fatal(err)
	}
	if playlists.Count != 2 {
		t.Fatalf("playlists %s", r.body)
	}
	var detail struct {
		Data struct {
			Title string
			Songs []struct{ Song struct{ Title string } }
		}
	}
	r = api.expect(api.do("GET", "/v1/collection/"+seedID("playlist", "Nhạc Việt Hot Nhất"), "", nil), 200)
	if err := json.Unmarshal(r.body, &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Data.Title != "Nhạc Việt Hot Nhất" || len(detail.Data.Songs) < 20 || detail.Data.Songs[0].Song.Title != "Nơi Này Có Anh" {
		t.Fatalf("playlist %s", r.body)
	}
}
