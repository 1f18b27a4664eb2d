package search

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/hustmusik/backend/domain"
)

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"artist with hyphen", "Sơn Tùng M-TP", "son tung m tp"},
		{"d with stroke has no decomposition", "Đen Vâu", "den vau"},
		{"lower d with stroke", "đường đua", "duong dua"},
		{"tone mark on o (NFC)", "Hòa Minzy", "hoa minzy"},
		{"tone mark on a (NFC)", "Hoà Minzy", "hoa minzy"},
		{"tone mark on o (NFD)", norm.NFD.String("Hòa Minzy"), "hoa minzy"},
		{"tone mark on a (NFD)", norm.NFD.String("Hoà Minzy"), "hoa minzy"},
		{"tilde and circumflex", "Mỹ Tâm", "my tam"},
		{"stacked marks", "Hồ Ngọc Hà", "ho ngoc ha"},
		{"horn letters", "Người Ấy Ơi", "nguoi ay oi"},
		{"o with stroke", "Røyksopp", "royksopp"},
		{"sharp s", "Straße", "strasse"},
		{"capital sharp s", "STRAẞE", "strasse"},
		{"ae ligature", "Æther", "aether"},
		{"l with stroke", "Łódź", "lodz"},
		{"Hangul survives NFD", "BTS (방탄소년단)", "bts 방탄소년단"},
		{"Japanese kana survive", "Yoasobi 夜に駆ける", "yoasobi 夜に駆ける"},
		{"digits kept", "2 Phút Hơn", "2 phut hon"},
		{"punctuation and whitespace runs", "  Hello,   World!! — (Remix) ", "hello world remix"},
		{"apostrophe splits", "Don't Stop", "don t stop"},
		{"empty", "", ""},
		{"only punctuation", "?!… --- ()", ""},
		{"only whitespace", " \t\n ", ""},
		{"lone combining mark is dropped", "a \u0301 b", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeKeepsDiacritics(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Sơn Tùng M-TP", "sơn tùng m tp"},
		{norm.NFD.String("Đen Vâu"), "đen vâu"},
		{"Bạc  Phận!", "bạc phận"},
		{"", ""},
		{"...", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFoldIsFoldWordOfEachNormalizedWord(t *testing.T) {
	for _, s := range []string{"Sơn Tùng M-TP", "Straße Ærø", "BTS (방탄소년단)", "Hoà  Minzy"} {
		var parts []string
		for _, w := range strings.Fields(Normalize(s)) {
			parts = append(parts, FoldWord(w))
		}
		if got, want := Fold(s), strings.Join(parts, " "); got != want {
			t.Errorf("Fold(%q) = %q, per-word folding gives %q", s, got, want)
		}
		if again := Fold(Fold(s)); again != Fold(s) {
			t.Errorf("Fold is not idempotent on %q: %q then %q", s, Fold(s), again)
		}
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name     string
		term     string
		raw      string
		folded   string
		rawWords []string
	}{
		{"plus is a space", "son+tung", "son tung", "son tung", []string{"son", "tung"}},
		{"escaped plus from the frontend", "S%C6%A1n%2BT%C3%B9ng", "sơn tùng", "son tung", []string{"sơn", "tùng"}},
		{"diacritics kept in raw", "  Bạc ", "bạc", "bac", []string{"bạc"}},
		{"upper case", "DEN VAU", "den vau", "den vau", []string{"den", "vau"}},
		{"d with stroke", "Đen Vâu", "đen vâu", "den vau", []string{"đen", "vâu"}},
		{"NFD input becomes NFC", norm.NFD.String("Hoà"), "hoà", "hoa", []string{"hoà"}},
		{"invalid escape taken literally", "100%+hits", "100 hits", "100 hits", []string{"100", "hits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.term)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.term, err)
			}
			if q.Raw != tt.raw || q.Folded != tt.folded || strings.Join(q.RawWords, "|") != strings.Join(tt.rawWords, "|") {
				t.Errorf("ParseQuery(%q) = %+v, want raw %q folded %q raw words %q", tt.term, q, tt.raw, tt.folded, tt.rawWords)
			}
			if strings.Join(q.Words, " ") != q.Folded || len(q.Words) != len(q.RawWords) {
				t.Errorf("words %q and raw words %q do not line up with %q", q.Words, q.RawWords, q.Folded)
			}
		})
	}
}

func TestParseQueryRejects(t *testing.T) {
	for name, term := range map[string]string{
		"empty":            "",
		"only plus signs":  "+++",
		"only punctuation": "?!",
		"too long":         strings.Repeat("á", MaxQueryRunes+1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseQuery(term)
			if !errors.Is(err, domain.ErrValidation) {
				t.Fatalf("ParseQuery(%q) error = %v, want a validation error", term, err)
			}
		})
	}
	if _, err := ParseQuery(strings.Repeat("á", MaxQueryRunes)); err != nil {
		t.Errorf("a term of exactly %d runes: %v", MaxQueryRunes, err)
	}
}

func TestQueryFuzzy(t *testing.T) {
	q, err := ParseQuery("adel adele đường")
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, true, true} // "duong" has five letters once folded
	for i, w := range want {
		if q.Fuzzy(i) != w {
			t.Errorf("Fuzzy(%d) for %q = %v, want %v", i, q.Words[i], q.Fuzzy(i), w)
		}
	}
}

func TestWindow(t *testing.T) {
	tests := []struct{ page, limit, off, size int }{
		{1, 10, 0, 10},
		{3, 10, 20, 10},
		{0, 10, 0, 10},
		{-4, 5, 0, 5},
		{1, 0, 0, 0},
		{1000, 10, 9990, 10},
		{1001, 10, 0, 0},
		{2, 6000, 6000, 4000},
	}
	for _, tt := range tests {
		off, size := Window(tt.page, tt.limit)
		if off != tt.off || size != tt.size {
			t.Errorf("Window(%d, %d) = %d, %d; want %d, %d", tt.page, tt.limit, off, size, tt.off, tt.size)
		}
	}
}

func TestCanonicalChange(t *testing.T) {
	id := "8A1C5D3E-0000-4000-8000-000000000001"
	c, err := UpsertSong(SongDoc{ID: id, Title: "x"}, 3).Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != strings.ToLower(id) || c.Song.ID != c.ID || c.Song.Artists == nil {
		t.Errorf("canonical change = %+v, song %+v", c, c.Song)
	}
	bad := []Change{
		UpsertSong(SongDoc{ID: "not-a-uuid"}, 1),
		{Kind: KindSong, ID: id, Version: 1},
		UpsertCollection(CollectionDoc{ID: id, Type: "Album", Visibility: "public"}, 1),
		UpsertCollection(CollectionDoc{ID: id, Type: "Podcast", Visibility: "Public"}, 1),
		Delete("video", id, 1),
		Delete(KindSong, id, 1<<63),
	}
	for i, b := range bad {
		if _, err := b.Canonical(); !errors.Is(err, ErrInvalidChange) {
			t.Errorf("change %d (%+v): error %v, want ErrInvalidChange", i, b, err)
		}
	}
}
