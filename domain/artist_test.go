package domain

import (
	"errors"
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

var (
	admin    = Principal{UserID: "admin-1", Role: RoleAdmin}
	manager  = Principal{UserID: "manager-1", Role: RoleArtistManager}
	manager2 = Principal{UserID: "manager-2", Role: RoleArtistManager}
	listener = Principal{UserID: "user-1", Role: RoleUser}
	auditor  = Principal{UserID: "auditor-1", Role: RoleAuditor}
)

func addedArtist(t *testing.T, by Principal) *Artist {
	t.Helper()
	a := NewArtist("a1")
	if err := a.Add(ArtistFields{Name: strp("Sơn Tùng M-TP")}, by); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestArtistAddRecordsTrimmedFieldsAndCaller(t *testing.T) {
	a := NewArtist("a1")
	err := a.Add(ArtistFields{Name: strp("  Đen Vâu "), Country: strp(" Việt Nam")}, manager)
	if err != nil {
		t.Fatal(err)
	}
	ch := a.Changes()
	if len(ch) != 1 {
		t.Fatalf("changes: %v", ch)
	}
	want := ArtistAdded{ArtistID: "a1", Name: "Đen Vâu", Country: "Việt Nam", ManagerID: "manager-1"}
	if ch[0] != want {
		t.Fatalf("event %+v, want %+v", ch[0], want)
	}
	if !a.Exists() || a.ManagerID != "manager-1" || a.Description != "" || a.AvatarURL != "" {
		t.Fatalf("state: %+v", a)
	}
}

func TestArtistAddValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    ArtistFields
		by   Principal
		kind error
		msg  string
	}{
		{"no name", ArtistFields{}, manager, ErrValidation, "Payload must have field: name"},
		{"blank name", ArtistFields{Name: strp("   ")}, admin, ErrValidation, "Payload must have field: name"},
		{"long name", ArtistFields{Name: strp(strings.Repeat("á", 201))}, manager, ErrValidation, "name must be at most 200 characters"},
		{"bad UTF-8", ArtistFields{Name: strp("ok"), Description: strp("\xff")}, manager, ErrValidation, "description must be valid UTF-8"},
		{"long country", ArtistFields{Name: strp("ok"), Country: strp(strings.Repeat("x", 65))}, manager, ErrValidation, ""},
		{"a User", ArtistFields{Name: strp("ok")}, listener, ErrForbidden, ""},
		{"an Auditor", ArtistFields{Name: strp("ok")}, auditor, ErrForbidden, ""},
		{"anonymous", ArtistFields{Name: strp("ok")}, Principal{}, ErrForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewArtist("a1")
			err := a.Add(tc.f, tc.by)
			if !errors.Is(err, tc.kind) || tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("err = %v, want %v %q", err, tc.kind, tc.msg)
			}
			if len(a.Changes()) != 0 {
				t.Fatal("a refused add recorded an event")
			}
		})
	}
	a := addedArtist(t, manager)
	if err := a.Add(ArtistFields{Name: strp("again")}, manager); !errors.Is(err, ErrConflict) {
		t.Fatalf("second add: %v", err)
	}
}

func TestArtistPermissions(t *testing.T) {
	a := addedArtist(t, manager)
	for _, tc := range []struct {
		name    string
		by      Principal
		catalog bool // CanManageCatalog
		manages bool // ManagedBy
	}{
		{"its manager", manager, true, true},
		{"another manager", manager2, true, false},
		{"an Admin", admin, true, true},
		{"a User with the manager's id", Principal{UserID: "manager-1", Role: RoleUser}, false, false},
		{"an Auditor", auditor, false, false},
		{"anonymous", Principal{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanManageCatalog(tc.by); got != tc.catalog {
				t.Errorf("CanManageCatalog = %v", got)
			}
			if got := a.ManagedBy(tc.by); got != tc.manages {
				t.Errorf("ManagedBy = %v", got)
			}
			upd := a.Update(ArtistFields{Description: strp("new " + tc.name)}, tc.by)
			if tc.manages != (upd == nil) || !tc.manages && !errors.Is(upd, ErrForbidden) {
				t.Errorf("Update: %v", upd)
			}
		})
	}
	// An artist whose manager field is empty (an operator's import) is no
	// manager's: an empty caller id must never match it.
	orphan := NewArtist("a2")
	orphan.Apply(ArtistAdded{ArtistID: "a2", Name: "x"})
	if orphan.ManagedBy(Principal{Role: RoleArtistManager}) {
		t.Fatal("an anonymous Artist Manager principal manages an artist without manager")
	}
}

func TestArtistUpdateRecordsOnlyChanges(t *testing.T) {
	a := addedArtist(t, manager)
	a.Committed(0)
	if err := a.Update(ArtistFields{Name: strp(" Sơn Tùng M-TP "), Country: strp("VN")}, manager); err != nil {
		t.Fatal(err)
	}
	ch := a.Changes()
	if len(ch) != 1 {
		t.Fatalf("changes %v", ch)
	}
	ev := ch[0].(ArtistUpdated)
	if ev.Name != nil || ev.Country == nil || *ev.Country != "VN" || ev.Description != nil {
		t.Fatalf("event %+v", ev)
	}
	a.Committed(1)
	if err := a.Update(ArtistFields{Country: strp("VN")}, manager); err != nil || len(a.Changes()) != 0 {
		t.Fatalf("an update that changes nothing: %v %v", err, a.Changes())
	}
	for _, tc := range []struct {
		name string
		f    ArtistFields
		kind error
	}{
		{"nothing given", ArtistFields{}, ErrValidation},
		{"blank name", ArtistFields{Name: strp(" ")}, ErrValidation},
	} {
		if err := a.Update(tc.f, manager); !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := NewArtist("nobody").Update(ArtistFields{Name: strp("x")}, admin); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown artist: %v", err)
	}
}

func TestArtistCannotBeDeletedWhileCredited(t *testing.T) {
	a := addedArtist(t, manager)
	if err := a.Credit("s1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Credit("s1"); err != nil || len(a.Changes()) != 2 {
		t.Fatalf("crediting twice records once: %v %v", err, a.Changes())
	}
	if err := a.Credit("s2"); err != nil {
		t.Fatal(err)
	}
	if got := a.SongIDs(); len(got) != 2 || got[0] != "s1" || got[1] != "s2" {
		t.Fatalf("SongIDs %v", got)
	}
	if err := a.Delete(manager2); !errors.Is(err, ErrForbidden) {
		t.Fatalf("another manager deletes: %v", err)
	}
	err := a.Delete(manager)
	if !errors.Is(err, ErrConflict) || err.Error() != "Artist still has 2 song(s): delete them first" {
		t.Fatalf("delete with songs: %v", err)
	}
	a.Uncredit("s1")
	a.Uncredit("s2")
	a.Uncredit("s2") // not credited any more: nothing recorded
	if n := len(a.Changes()); n != 5 {
		t.Fatalf("%d changes", n)
	}
	if err := a.Delete(admin); err != nil {
		t.Fatal(err)
	}
	if a.Exists() {
		t.Fatal("deleted artist exists")
	}
	if err := a.Credit("s3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("crediting a deleted artist: %v", err)
	}
	if err := a.Delete(admin); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestArtistEventsRoundTrip(t *testing.T) {
	for _, e := range []Event{
		ArtistAdded{ArtistID: "a", Name: "n", ManagerID: "m"},
		ArtistUpdated{ArtistID: "a", Country: strp("VN")},
		ArtistDeleted{ArtistID: "a"},
		ArtistSongCredited{ArtistID: "a", SongID: "s"},
		ArtistSongUncredited{ArtistID: "a", SongID: "s"},
	} {
		raw, err := jsonMarshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEvent(e.EventType(), raw)
		if err != nil {
			t.Fatal(err)
		}
		a, b := NewArtist("a"), NewArtist("a")
		a.Apply(e)
		b.Apply(back)
		if a.Name != b.Name || a.Country != b.Country || a.Deleted != b.Deleted || len(a.Songs) != len(b.Songs) {
			t.Errorf("%s does not round-trip: %s", e.EventType(), raw)
		}
	}
}
