package search

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize is the diacritics-kept form of a text: NFC, lower case, every run
// of characters that are neither letters, digits nor marks turned into one
// space, trimmed. Its words are what an "exact diacritics" match compares, so
// a query typed with the right tone marks ranks its hits first.
func Normalize(s string) string {
	s = strings.ToLower(norm.NFC.String(s))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if isWordRune(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

// Fold is the one normalisation every searchable text and every query goes
// through: Normalize, then strip combining marks (NFD, drop Mn) and replace
// the letters that have no Unicode decomposition but that people type plainly
// (đ has none, which is why naive accent stripping misses "Đen Vâu"). Words
// that fold to nothing (a lone combining mark) are dropped. The result is NFC
// again, so Hangul syllables survive the NFD step intact.
//
// Fold(s) is always the space-joined FoldWord of each word of Normalize(s):
// indexes rely on that to line up diacritics-kept and folded words.
func Fold(s string) string {
	words := strings.Fields(Normalize(s))
	var b strings.Builder
	for _, w := range words {
		f := FoldWord(w)
		if f == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String()
}

// FoldWord folds one word of Normalize's output (no separators inside).
func FoldWord(w string) string {
	var b strings.Builder
	b.Grow(len(w))
	for _, r := range norm.NFD.String(w) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if rep, ok := plainLetters[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// plainLetters maps lower-case letters without a canonical decomposition to
// what people type on a plain keyboard. They agree with Lucene's
// ASCIIFoldingFilter, so the Elasticsearch index folds them the same way.
var plainLetters = map[rune]string{
	'đ': "d", // Vietnamese d with stroke: the reason this table exists
	'ð': "d",
	'ø': "o",
	'ß': "ss",
	'æ': "ae",
	'œ': "oe",
	'ł': "l",
	'ı': "i",
	'þ': "th",
	'ħ': "h",
	'ŧ': "t",
	'ŀ': "l",
	'ƒ': "f",
	'ŋ': "n",
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
