package main

import (
	"testing"
)

// GET /v1/song/:id and GET /v1/collection/:id keep rendered answers while
// their read models are unchanged: every write that changes what they
// show is visible in the very next read, and who may see a private
// collection is checked on every request.
func TestCachedAnswersFollowEveryWrite(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api
	artist := c.addArtist(c.mgr1, map[string]any{"name": "Mỹ Tâm"})["id"].(string)
	song := c.addSong(c.mgr1, map[string]any{"title": "Ước Gì", "artists": artist})["id"].(string)

	getSong := func() map[string]any {
		t.Helper()
		return api.expect(api.do("GET", "/v1/song/"+song, "", nil), 200).json(t)
	}
	first := api.expect(api.do("GET", "/v1/song/"+song, "", nil), 200)
	again := api.expect(api.do("GET", "/v1/song/"+song, "", nil), 200)
	if string(first.body) != string(again.body) || again.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("a repeated read differs: %s / %s (%s)", first.body, again.body, again.header.Get("Content-Type"))
	}

	// The song's own change.
	api.expect(api.do("POST", "/v1/song/"+song, c.mgr1.access, map[string]any{"title": "Ước Gì (Acoustic)"}), 200)
	if got := getSong()["title"]; got != "Ước Gì (Acoustic)" {
		t.Fatalf("title after the update: %v", got)
	}
	// Its artist's name, another aggregate.
	api.expect(api.do("POST", "/v1/artist/"+artist, c.mgr1.access, map[string]any{"name": "Mỹ Tâm (Official)"}), 200)
	artists := objects(t, getSong()["artists"])
	if len(artists) != 1 || artists[0]["name"] != "Mỹ Tâm (Official)" {
		t.Fatalf("artists after renaming: %v", artists)
	}
	// An album holding it, another projector.
	album := dataObject(t, api.expect(api.do("POST", "/v1/collection", c.mgr1.access,
		map[string]any{"title": "Tâm 9", "type": "Album", "visibility": "Public"}), 200))["id"].(string)
	api.expect(api.do("POST", "/v1/collection/"+album+"/songs/"+song, c.mgr1.access, nil), 204)
	if albums := objects(t, getSong()["albums"]); len(albums) != 1 {
		t.Fatalf("albums after adding the song to one: %v", albums)
	}

	// A private collection: its owner reads it (and it is kept), nobody
	// else but an Admin may.
	private := dataObject(t, api.expect(api.do("POST", "/v1/collection", c.user.access,
		map[string]any{"title": "Của riêng", "type": "Playlist", "visibility": "Private"}), 200))["id"].(string)
	api.expect(api.do("POST", "/v1/collection/"+private+"/songs/"+song, c.user.access, nil), 204)
	for range 2 {
		d := dataObject(t, api.expect(api.do("GET", "/v1/collection/"+private, c.user.access, nil), 200))
		if songs := objects(t, d["songs"]); len(songs) != 1 {
			t.Fatalf("songs of the private collection: %v", songs)
		}
	}
	c.expectError(api.do("GET", "/v1/collection/"+private, "", nil), 404, "Collection does not exist")
	c.expectError(api.do("GET", "/v1/collection/"+private, c.mgr2.access, nil), 404, "Collection does not exist")
	api.expect(api.do("GET", "/v1/collection/"+private, c.admin.access, nil), 200)

	// Changes of its songs and of its owner's profile show at once.
	api.expect(api.do("POST", "/v1/song/"+song, c.mgr1.access, map[string]any{"title": "Ước Gì 2"}), 200)
	d := dataObject(t, api.expect(api.do("GET", "/v1/collection/"+private, c.user.access, nil), 200))
	songs := objects(t, d["songs"])
	if inner, _ := songs[0]["song"].(map[string]any); inner == nil || inner["title"] != "Ước Gì 2" {
		t.Fatalf("collection songs after the song's update: %v", songs)
	}
	api.expect(api.do("POST", "/v1/user/me", c.user.access, map[string]any{"username": "Người nghe mới"}), 200)
	d = dataObject(t, api.expect(api.do("GET", "/v1/collection/"+private, c.user.access, nil), 200))
	if owner, _ := d["owner"].(map[string]any); owner == nil || owner["username"] != "Người nghe mới" {
		t.Fatalf("owner after the profile change: %v", d["owner"])
	}
	// Made public, anyone reads it; deleted, nobody.
	api.expect(api.do("POST", "/v1/collection/"+private, c.user.access, map[string]any{"visibility": "Public"}), 200)
	api.expect(api.do("GET", "/v1/collection/"+private, "", nil), 200)
	api.expect(api.do("DELETE", "/v1/collection/"+private, c.user.access, nil), 200)
	c.expectError(api.do("GET", "/v1/collection/"+private, c.user.access, nil), 404, "Collection does not exist")

	// And a deleted song is gone.
	api.expect(api.do("DELETE", "/v1/song/"+song, c.mgr1.access, nil), 204)
	c.expectError(api.do("GET", "/v1/song/"+song, "", nil), 404, "Song does not exist")
}

// Search answers are kept too, and follow every write of the search index.
func TestCachedSearchFollowsEveryWrite(t *testing.T) {
	c := newCatalogCast(t)
	api := c.api
	titles := func(path, token string) []string {
		t.Helper()
		d := dataObject(t, api.expect(api.do("GET", path, token, nil), 200))
		var out []string
		for _, kind := range []string{"songs", "playlists"} {
			if d[kind] == nil {
				continue
			}
			for _, o := range objects(t, d[kind]) {
				out = append(out, o["title"].(string))
			}
		}
		return out
	}
	artist := c.addArtist(c.mgr1, map[string]any{"name": "Vũ"})["id"].(string)
	if got := titles("/v1/search/l%C3%A1%20th%C6%B0/songs", ""); len(got) != 0 {
		t.Fatalf("songs before any: %v", got)
	}
	song := c.addSong(c.mgr1, map[string]any{"title": "Lá thư", "artists": artist})["id"].(string)
	for range 2 {
		if got := titles("/v1/search/l%C3%A1%20th%C6%B0/songs", ""); len(got) != 1 || got[0] != "Lá thư" {
			t.Fatalf("songs after adding one: %v", got)
		}
	}
	api.expect(api.do("POST", "/v1/song/"+song, c.mgr1.access, map[string]any{"title": "Lá thư cuối"}), 200)
	if got := titles("/v1/search/l%C3%A1%20th%C6%B0/songs", ""); len(got) != 1 || got[0] != "Lá thư cuối" {
		t.Fatalf("songs after renaming: %v", got)
	}

	// A private playlist is found by its owner only, cached or not.
	api.expect(api.do("POST", "/v1/collection", c.user.access,
		map[string]any{"title": "Lá thư riêng", "type": "Playlist", "visibility": "Private"}), 200)
	for range 2 {
		if got := titles("/v1/search/la%20thu/playlists", c.user.access); len(got) != 1 {
			t.Fatalf("owner's playlists: %v", got)
		}
		if got := titles("/v1/search/la%20thu/playlists", c.mgr2.access); len(got) != 0 {
			t.Fatalf("someone else found a private playlist: %v", got)
		}
		if got := titles("/v1/search/la%20thu/playlists", ""); len(got) != 0 {
			t.Fatalf("anonymous found a private playlist: %v", got)
		}
	}

	api.expect(api.do("DELETE", "/v1/song/"+song, c.mgr1.access, nil), 204)
	if got := titles("/v1/search/l%C3%A1%20th%C6%B0/songs", ""); len(got) != 0 {
		t.Fatalf("songs after deleting it: %v", got)
	}
}
