package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The decoders of request fields never panic, and either succeed with a
// value that satisfies their contract or fail with a validation error (a
// 400), never another kind. `go test` runs the seeds and the corpus in
// testdata/fuzz; `go test -fuzz FuzzX` explores further.

func wantValidation(t *testing.T, err error) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, ErrValidation) {
		t.Fatalf("error %v (%T) is not a validation error", err, err)
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{idA, strings.ToUpper(idA), "", "not-a-uuid", idA + " ", "0b8f7a52_3c4d_4e5f_8a9b_0c1d2e3f4a5b",
		"0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5\u00e9", "../../etc/passwd", "' OR 1=1 --"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := ParseID(raw, "song")
		if err != nil {
			wantValidation(t, err)
			return
		}
		if len(id) != 36 || id != strings.ToLower(id) || !strings.EqualFold(id, raw) {
			t.Fatalf("ParseID(%q) = %q", raw, id)
		}
		if again, err := ParseID(id, "song"); err != nil || again != id {
			t.Fatalf("ParseID is not idempotent on %q: %q, %v", id, again, err)
		}
	})
}

func FuzzParseArtistIDs(f *testing.F) {
	for _, s := range []string{idA, idA + "," + idB, idA + " , " + idB + "," + idA, "", ",", idA + ",", "[\"" + idA + "\"]",
		strings.Repeat(idA+",", 25) + idB} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ids, err := ParseArtistIDs(raw)
		if err != nil {
			wantValidation(t, err)
			return
		}
		if len(ids) < 1 || len(ids) > 20 {
			t.Fatalf("%d ids from %q", len(ids), raw)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if _, err := ParseID(id, "artist"); err != nil || seen[id] {
				t.Fatalf("id %q from %q: invalid or repeated", id, raw)
			}
			seen[id] = true
		}
	})
}

func FuzzParseSongFields(f *testing.F) {
	f.Add("Lạc Trôi", "", "215", "2017-01-01", "V-Pop")
	f.Add("x", "d", "215.0", "2017-01-01T10:00:00Z", "")
	f.Add("", "", "-1", "2017-13-45", "")
	f.Add("t", "", "1e9", "yesterday", "g")
	f.Add("\x00", "\xff", "86401", "", "")
	f.Fuzz(func(t *testing.T, title, description, duration, release, genre string) {
		v, err := parseSongFields(SongFields{Title: &title, Description: &description, Duration: &duration, ReleaseDate: &release, Genre: &genre})
		if err != nil {
			wantValidation(t, err)
			return
		}
		if !utf8.ValidString(title) || strings.ContainsRune(title, 0) {
			t.Fatalf("title %q accepted", title)
		}
		if v.duration < 0 || v.duration > 86400 {
			t.Fatalf("duration %d from %q", v.duration, duration)
		}
		if v.releaseDate != "" {
			if _, err := time.Parse("2006-01-02", v.releaseDate); err != nil {
				t.Fatalf("release date %q from %q", v.releaseDate, release)
			}
		}
	})
}

func FuzzParseCollectionFields(f *testing.F) {
	f.Add("Chill", "", "playlist", "PRIVATE")
	f.Add("Album", "d", "Album", "public")
	f.Add("x", "", "albums", "secret")
	f.Add("", "", " EP ", "")
	f.Fuzz(func(t *testing.T, title, description, typ, visibility string) {
		s, err := parseCollectionFields(CollectionFields{Title: &title, Description: &description, Type: &typ, Visibility: &visibility})
		if err != nil {
			wantValidation(t, err)
			return
		}
		if s.typ != nil {
			if back, err := ParseCollectionType(string(*s.typ)); err != nil || back != *s.typ {
				t.Fatalf("type %q from %q is not canonical", *s.typ, typ)
			}
		}
		if s.visibility != nil && *s.visibility != Public && *s.visibility != Private {
			t.Fatalf("visibility %q from %q", *s.visibility, visibility)
		}
	})
}

func FuzzParseRole(f *testing.F) {
	for _, s := range []string{"User", "Artist Manager", "Admin", "Auditor", "admin", "Superuser", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := ParseRole(raw)
		if err != nil {
			return
		}
		if again, err := ParseRole(string(r)); err != nil || again != r {
			t.Fatalf("role %q from %q is not canonical", r, raw)
		}
	})
}
