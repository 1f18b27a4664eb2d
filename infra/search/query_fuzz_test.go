package search

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hustmusik/backend/domain"
)

// FuzzParseQuery: any `:term` either parses into lined-up, non-empty folded
// words or is a 400; never a panic, never a word the fold did not make.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"son tung", "Sơn+Tùng+M-TP", "%C4%90en%20V%C3%A2u", "%zz", "%", "+++", "' OR 1=1 --",
		"../../etc/passwd", "\xff\xfe", "Hoà Minzy", "Røyksopp", "Straße", strings.Repeat("a", 101), "\u0000", "🎵"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, term string) {
		q, err := ParseQuery(term)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || !errors.Is(err, domain.ErrValidation) {
				t.Fatalf("ParseQuery(%q): %v is not a 400", term, err)
			}
			return
		}
		if len(q.Words) == 0 || len(q.Words) != len(q.RawWords) {
			t.Fatalf("ParseQuery(%q): words %q, raw words %q", term, q.Words, q.RawWords)
		}
		if q.Folded != strings.Join(q.Words, " ") {
			t.Fatalf("ParseQuery(%q): folded %q", term, q.Folded)
		}
		for i, w := range q.Words {
			if w == "" || strings.ContainsAny(w, " \t\n") || !utf8.ValidString(w) || FoldWord(w) != w {
				t.Fatalf("ParseQuery(%q): word %d %q is not a folded word", term, i, w)
			}
		}
	})
}
