package domain

import (
	"errors"
	"reflect"
	"testing"
)

const (
	idA = "0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	idB = "1c9f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	idC = "2d0f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
)

func TestParseArtistIDs(t *testing.T) {
	bad := "Invalid payload request: artists must be a string separated by ','"
	many := idA
	for i := 0; i < 20; i++ {
		many += "," + idA[:34] + string("0123456789abcdef"[i%16]) + string("0123456789abcdef"[i/16])
	}
	for _, tc := range []struct {
		name, in string
		want     []string
		msg      string
	}{
		{"one", idA, []string{idA}, ""},
		{"primary first, featured in order", idB + "," + idA + "," + idC, []string{idB, idA, idC}, ""},
		{"spaces and upper case", " " + idA + " ,  0B8F7A52-3C4D-4E5F-8A9B-0C1D2E3F4A5C", []string{idA, idA[:35] + "c"}, ""},
		{"repeats dropped, first place kept", idA + "," + idB + "," + idA, []string{idA, idB}, ""},
		{"empty", "", nil, bad},
		{"blank", "   ", nil, bad},
		{"not a uuid", "son-tung", nil, bad},
		{"trailing comma", idA + ",", nil, bad},
		{"semicolons", idA + ";" + idB, nil, bad},
		{"JSON array text", `["` + idA + `"]`, nil, bad},
		{"21 artists", many, nil, "A song credits at most 20 artists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseArtistIDs(tc.in)
			if tc.msg != "" {
				if !errors.Is(err, ErrValidation) || err.Error() != tc.msg {
					t.Fatalf("err = %v, want %q", err, tc.msg)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestSongFieldParsing(t *testing.T) {
	for _, tc := range []struct {
		name              string
		duration, release *string
		wantDur           int
		wantRel           string
		ok                bool
	}{
		{"nothing", nil, nil, 0, "", true},
		{"seconds", strp("215"), nil, 215, "", true},
		{"spaces", strp(" 215 "), nil, 215, "", true},
		{"whole float", strp("215.0"), nil, 215, "", true},
		{"fraction", strp("215.5"), nil, 0, "", false},
		{"negative", strp("-1"), nil, 0, "", false},
		{"over a day", strp("86401"), nil, 0, "", false},
		{"a day", strp("86400"), nil, 86400, "", true},
		{"words", strp("three minutes"), nil, 0, "", false},
		{"empty duration is none", strp(""), nil, 0, "", true},
		{"date", nil, strp("2024-05-31"), 0, "2024-05-31", true},
		{"timestamp keeps the date", nil, strp("2024-05-31T10:00:00Z"), 0, "2024-05-31", true},
		{"impossible date", nil, strp("2024-02-30"), 0, "", false},
		{"other format", nil, strp("31/05/2024"), 0, "", false},
		{"short", nil, strp("2024"), 0, "", false},
		{"empty date is none", nil, strp(" "), 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := parseSongFields(SongFields{Duration: tc.duration, ReleaseDate: tc.release})
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrValidation) {
					t.Fatalf("err %v is not a validation error", err)
				}
				return
			}
			if v.duration != tc.wantDur || v.releaseDate != tc.wantRel {
				t.Fatalf("got %+v", v)
			}
		})
	}
}

func TestCheckNewSongReportsInOrder(t *testing.T) {
	badArtists := "Invalid payload request: artists must be a string separated by ','"
	for _, tc := range []struct {
		name    string
		f       SongFields
		artists *string
		msg     string
	}{
		{"no title, no artists", SongFields{}, nil, "Payload must have field: title"},
		{"blank title, bad artists", SongFields{Title: strp(" ")}, strp("x"), "Payload must have field: title"},
		{"no artists", SongFields{Title: strp("Lạc Trôi")}, nil, badArtists},
		{"bad artists, bad duration", SongFields{Title: strp("Lạc Trôi"), Duration: strp("x")}, strp("x"), badArtists},
		{"bad duration", SongFields{Title: strp("Lạc Trôi"), Duration: strp("x")}, strp(idA), "duration must be a whole number of seconds"},
		{"ok", SongFields{Title: strp("Lạc Trôi"), Duration: strp("233")}, strp(idA + "," + idB), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, err := CheckNewSong(tc.f, tc.artists)
			if tc.msg == "" {
				if err != nil || len(ids) != 2 {
					t.Fatalf("%v %v", ids, err)
				}
				return
			}
			if !errors.Is(err, ErrValidation) || err.Error() != tc.msg {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestAuthorizeSongChange(t *testing.T) {
	primary := addedArtist(t, manager)
	for _, tc := range []struct {
		name    string
		primary *Artist
		by      Principal
		ok      bool
	}{
		{"primary's manager", primary, manager, true},
		{"Admin", primary, admin, true},
		{"Admin, primary unknown", nil, admin, true},
		{"another manager", primary, manager2, false},
		{"a User", primary, listener, false},
		{"an Auditor", primary, auditor, false},
		{"anonymous", primary, Principal{}, false},
		{"manager, primary unknown", nil, manager, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := AuthorizeSongChange(tc.primary, tc.by)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrForbidden) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestSongLifecycle(t *testing.T) {
	s := NewSong("s1")
	if err := s.Add(SongFields{Title: strp(" Lạc Trôi "), ReleaseDate: strp("2017-01-01")}, []string{idA, idB}); err != nil {
		t.Fatal(err)
	}
	added := s.Changes()[0].(SongAdded)
	if added.Title != "Lạc Trôi" || added.Duration != 0 || added.ReleaseDate != "2017-01-01" || !reflect.DeepEqual(added.ArtistIDs, []string{idA, idB}) {
		t.Fatalf("SongAdded %+v", added)
	}
	if s.PrimaryArtist() != idA {
		t.Fatalf("primary %q", s.PrimaryArtist())
	}
	s.Committed(0)
	if err := s.Update(SongFields{Duration: strp("233"), ReleaseDate: strp("2017-01-01"), Genre: strp("V-Pop")}); err != nil {
		t.Fatal(err)
	}
	upd := s.Changes()[0].(SongUpdated)
	if upd.Duration == nil || *upd.Duration != 233 || upd.ReleaseDate != nil || upd.Genre == nil || upd.Title != nil {
		t.Fatalf("SongUpdated %+v", upd)
	}
	s.Committed(1)
	for _, tc := range []struct {
		f    SongFields
		kind error
	}{
		{SongFields{}, ErrValidation},
		{SongFields{Title: strp("")}, ErrValidation},
		{SongFields{Duration: strp("1.5")}, ErrValidation},
	} {
		if err := s.Update(tc.f); !errors.Is(err, tc.kind) {
			t.Errorf("Update(%+v): %v", tc.f, err)
		}
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	del := s.Changes()[0].(SongDeleted)
	if !reflect.DeepEqual(del.ArtistIDs, []string{idA, idB}) {
		t.Fatalf("SongDeleted %+v", del)
	}
	if err := s.Delete(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.Update(SongFields{Title: strp("x")}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update deleted: %v", err)
	}
	if err := NewSong("s1").Add(SongFields{Title: strp("x")}, nil); !errors.Is(err, ErrValidation) {
		t.Fatalf("add without artists: %v", err)
	}
}
