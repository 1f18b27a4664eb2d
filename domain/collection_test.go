package domain

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func colText(s string) *string { return &s }

var (
	colOwner    = Principal{UserID: "owner", Role: RoleUser}
	colStranger = Principal{UserID: "stranger", Role: RoleUser}
	colManager  = Principal{UserID: "manager", Role: RoleArtistManager}
	colAdmin    = Principal{UserID: "admin", Role: RoleAdmin}
	colNobody   = Principal{}
)

func TestParseCollectionType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CollectionType
		ok   bool
	}{
		{"Album", CollectionAlbum, true},
		{"album", CollectionAlbum, true},
		{"ALBUM", CollectionAlbum, true},
		{"ep", CollectionEP, true},
		{"Ep", CollectionEP, true},
		{"single", CollectionSingle, true},
		{" Playlist ", CollectionPlaylist, true},
		{"pLaYlIsT", CollectionPlaylist, true},
		{"MIX", CollectionMix, true},
		{"", "", false},
		{"Podcast", "", false},
		{"playlists", "", false},
	} {
		got, err := ParseCollectionType(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ParseCollectionType(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if !tc.ok && (!errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "Album, Single, EP, Playlist, Mix")) {
			t.Errorf("ParseCollectionType(%q) = %q, %v; want a validation error naming the types", tc.in, got, err)
		}
	}
}

func TestParseVisibility(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Visibility
		ok   bool
	}{
		{"Public", Public, true},
		{"PUBLIC", Public, true},
		{"public", Public, true},
		{"private", Private, true},
		{"Private", Private, true},
		{" pRiVaTe", Private, true},
		{"secret", "", false},
		{"", "", false},
	} {
		got, err := ParseVisibility(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ParseVisibility(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if !tc.ok && (!errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "Public or Private")) {
			t.Errorf("ParseVisibility(%q) = %q, %v; want a validation error", tc.in, got, err)
		}
	}
}

func TestMayCreateCollection(t *testing.T) {
	for _, tc := range []struct {
		who  Principal
		typ  CollectionType
		want bool
	}{
		{colOwner, CollectionPlaylist, true},
		{colOwner, CollectionMix, true},
		{colOwner, CollectionAlbum, false},
		{colOwner, CollectionSingle, false},
		{colOwner, CollectionEP, false},
		{Principal{UserID: "a", Role: RoleAuditor}, CollectionAlbum, false},
		{colManager, CollectionAlbum, true},
		{colManager, CollectionEP, true},
		{colManager, CollectionPlaylist, true},
		{colAdmin, CollectionSingle, true},
		{colNobody, CollectionPlaylist, false},
	} {
		if got := MayCreateCollection(tc.who, tc.typ); got != tc.want {
			t.Errorf("MayCreateCollection(%v, %s) = %v, want %v", tc.who, tc.typ, got, tc.want)
		}
	}
}

func createdCollection(t *testing.T, by Principal, f CollectionFields) *Collection {
	t.Helper()
	c := NewCollection("c1")
	if err := c.Create(f, by); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCollectionCreateDefaultsAndValidation(t *testing.T) {
	c := createdCollection(t, colOwner, CollectionFields{Title: colText("  Nhạc chill  ")})
	ev, ok := c.Changes()[0].(CollectionCreated)
	if !ok || len(c.Changes()) != 1 {
		t.Fatalf("changes: %v", c.Changes())
	}
	want := CollectionCreated{CollectionID: "c1", Title: "Nhạc chill", Type: CollectionPlaylist, Visibility: Public, OwnerID: "owner"}
	if ev != want {
		t.Fatalf("event %+v, want %+v", ev, want)
	}
	c = createdCollection(t, colManager, CollectionFields{Title: colText("Album 1"), Type: colText("ALBUM"), Visibility: colText("private"),
		Description: colText(" d "), ThumbnailURL: colText("/img/a.png")})
	if c.Type != CollectionAlbum || c.Visibility != Private || c.Description != "d" || c.ThumbnailURL != "/img/a.png" || c.OwnerID != "manager" {
		t.Fatalf("state: %+v", c)
	}

	for _, tc := range []struct {
		name string
		by   Principal
		f    CollectionFields
		kind error
		msg  string
	}{
		{"no title", colOwner, CollectionFields{}, ErrValidation, "Payload must have field: title"},
		{"blank title", colOwner, CollectionFields{Title: colText("   ")}, ErrValidation, "Payload must have field: title"},
		{"long title", colOwner, CollectionFields{Title: colText(strings.Repeat("a", 201))}, ErrValidation, "title must be at most 200 characters"},
		{"bad type", colOwner, CollectionFields{Title: colText("x"), Type: colText("Podcast")}, ErrValidation, "Invalid type: must be one of Album, Single, EP, Playlist, Mix"},
		{"bad visibility", colOwner, CollectionFields{Title: colText("x"), Visibility: colText("hidden")}, ErrValidation, "Invalid visibility: must be Public or Private"},
		{"user album", colOwner, CollectionFields{Title: colText("x"), Type: colText("album")}, ErrForbidden, ""},
		{"user EP", colOwner, CollectionFields{Title: colText("x"), Type: colText("EP")}, ErrForbidden, ""},
		{"anonymous", colNobody, CollectionFields{Title: colText("x")}, ErrUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollection("c")
			err := c.Create(tc.f, tc.by)
			if !errors.Is(err, tc.kind) || tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("err = %v, want %v %q", err, tc.kind, tc.msg)
			}
			if len(c.Changes()) != 0 {
				t.Fatal("a refused create recorded events")
			}
		})
	}
	c = createdCollection(t, colOwner, CollectionFields{Title: colText("x")})
	if err := c.Create(CollectionFields{Title: colText("y")}, colOwner); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
}

func TestCollectionPermissions(t *testing.T) {
	public := createdCollection(t, colOwner, CollectionFields{Title: colText("pub")})
	private := createdCollection(t, colOwner, CollectionFields{Title: colText("priv"), Visibility: colText("Private")})
	deleted := createdCollection(t, colOwner, CollectionFields{Title: colText("gone")})
	if err := deleted.Delete(colOwner); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *Collection
		by   Principal
		kind error // nil: allowed
	}{
		{"owner, public", public, colOwner, nil},
		{"owner, private", private, colOwner, nil},
		{"admin, public", public, colAdmin, nil},
		{"admin, private", private, colAdmin, nil},
		{"stranger, public", public, colStranger, ErrForbidden},
		{"manager, public", public, colManager, ErrForbidden},
		{"stranger, private", private, colStranger, ErrNotFound},
		{"anonymous, public", public, colNobody, ErrForbidden},
		{"anonymous, private", private, colNobody, ErrNotFound},
		{"owner, deleted", deleted, colOwner, ErrNotFound},
		{"admin, never created", NewCollection("x"), colAdmin, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.CheckChange(tc.by)
			if tc.kind == nil && err != nil || tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Fatalf("CheckChange = %v, want %v", err, tc.kind)
			}
			// Every change goes through the same check.
			before := len(tc.c.Changes())
			for name, change := range map[string]func() error{
				"update": func() error { return tc.c.Update(CollectionFields{Title: colText("new " + tc.name)}, tc.by) },
				"add":    func() error { return tc.c.AddSong("s-"+tc.name, tc.by) },
				"remove": func() error { return tc.c.RemoveSong("s-none", tc.by) },
			} {
				if err := change(); tc.kind != nil && !errors.Is(err, tc.kind) || tc.kind == nil && err != nil {
					t.Fatalf("%s: %v, want %v", name, err, tc.kind)
				}
			}
			if tc.kind != nil && len(tc.c.Changes()) != before {
				t.Fatal("a refused change recorded events")
			}
		})
	}
	if !private.VisibleTo(colAdmin) || private.VisibleTo(colStranger) || !public.VisibleTo(colNobody) {
		t.Fatal("VisibleTo")
	}
}

func TestCollectionUpdate(t *testing.T) {
	c := createdCollection(t, colOwner, CollectionFields{Title: colText("Mine"), Description: colText("old")})
	if err := c.Update(CollectionFields{}, colOwner); !errors.Is(err, ErrValidation) || err.Error() != "Payload must have at least one field" {
		t.Fatalf("empty update: %v", err)
	}
	if err := c.Update(CollectionFields{Title: colText(" ")}, colOwner); !errors.Is(err, ErrValidation) {
		t.Fatalf("blank title: %v", err)
	}
	if err := c.Update(CollectionFields{Type: colText("Album")}, colOwner); !errors.Is(err, ErrForbidden) {
		t.Fatalf("user makes an album: %v", err)
	}
	if err := c.Update(CollectionFields{Visibility: colText("nope")}, colOwner); !errors.Is(err, ErrValidation) {
		t.Fatalf("bad visibility: %v", err)
	}
	n := len(c.Changes())
	// Same values: nothing recorded.
	if err := c.Update(CollectionFields{Title: colText("Mine"), Visibility: colText("PUBLIC"), Type: colText("playlist")}, colOwner); err != nil || len(c.Changes()) != n {
		t.Fatalf("no-op update: %v, %d changes", err, len(c.Changes())-n)
	}
	if err := c.Update(CollectionFields{Description: colText("new"), Visibility: colText("private"), Type: colText("mix")}, colOwner); err != nil {
		t.Fatal(err)
	}
	ev := c.Changes()[len(c.Changes())-1].(CollectionUpdated)
	if ev.Title != nil || *ev.Description != "new" || *ev.Visibility != Private || *ev.Type != CollectionMix || ev.ThumbnailURL != nil {
		t.Fatalf("partial event: %+v", ev)
	}
	if c.Visibility != Private || c.Type != CollectionMix || c.Description != "new" {
		t.Fatalf("state: %+v", c)
	}
	// An Admin may turn it into an album.
	if err := c.Update(CollectionFields{Type: colText("ep")}, colAdmin); err != nil || c.Type != CollectionEP {
		t.Fatalf("admin: %v %s", err, c.Type)
	}
}

func TestCollectionSongsKeepOrderAndIgnoreRepeats(t *testing.T) {
	c := createdCollection(t, colOwner, CollectionFields{Title: colText("Mine")})
	for _, s := range []string{"s3", "s1", "s2", "s1"} {
		if err := c.AddSong(s, colOwner); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(c.Songs, []string{"s3", "s1", "s2"}) {
		t.Fatalf("songs %v", c.Songs)
	}
	if n := len(c.Changes()); n != 4 { // createdCollection + 3 adds; the repeat recorded nothing
		t.Fatalf("%d changes", n)
	}
	if err := c.RemoveSong("s9", colOwner); err != nil || len(c.Changes()) != 4 {
		t.Fatalf("removing an absent song: %v", err)
	}
	if err := c.RemoveSong("s1", colAdmin); err != nil {
		t.Fatal(err)
	}
	if err := c.AddSong("s1", colOwner); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Songs, []string{"s3", "s2", "s1"}) {
		t.Fatalf("songs after remove and re-add %v", c.Songs)
	}
	// Replaying the recorded events gives the same state.
	again := NewCollection("c1")
	for i, e := range c.Changes() {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := DecodeEvent(e.EventType(), raw)
		if err != nil {
			t.Fatal(err)
		}
		again.Replay(again, decoded, uint64(i))
	}
	if !reflect.DeepEqual(again.Songs, c.Songs) || again.Title != c.Title || again.OwnerID != c.OwnerID || again.Version() != int64(len(c.Changes())-1) {
		t.Fatalf("replayed %+v, want %+v", again, c)
	}
}

func TestCollectionSongLimit(t *testing.T) {
	c := createdCollection(t, colOwner, CollectionFields{Title: colText("Big")})
	for i := range MaxCollectionSongs {
		c.Songs = append(c.Songs, string(rune('a'+i%26))+strings.Repeat("x", i/26))
	}
	if err := c.AddSong("one-more", colOwner); !errors.Is(err, ErrConflict) {
		t.Fatalf("over the limit: %v", err)
	}
}

func TestCollectionDelete(t *testing.T) {
	c := createdCollection(t, colOwner, CollectionFields{Title: colText("Mine")})
	if err := c.Delete(colStranger); !errors.Is(err, ErrForbidden) {
		t.Fatalf("stranger: %v", err)
	}
	if err := c.Delete(colOwner); err != nil || c.Exists() {
		t.Fatalf("delete: %v", err)
	}
	if err := c.Delete(colOwner); !errors.Is(err, ErrNotFound) {
		t.Fatalf("twice: %v", err)
	}
}

func TestCollectionEventsCarryNothingPersonal(t *testing.T) {
	for _, e := range []Event{CollectionCreated{}, CollectionUpdated{}, CollectionDeleted{}, SongAddedToCollection{}, SongRemovedFromCollection{}} {
		raw, _ := json.Marshal(e)
		for _, bad := range []string{"email", "password", "token", "username"} {
			if strings.Contains(string(raw), bad) {
				t.Errorf("%s carries %s: %s", e.EventType(), bad, raw)
			}
		}
	}
}
