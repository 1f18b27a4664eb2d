package search

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hustmusik/backend/domain"
)

// MaxQueryRunes bounds a search term: longer ones are a client error, and
// they would only make the typo expansion slower.
const MaxQueryRunes = 100

// MinFuzzyRunes is the shortest query word forgiven one typo (an insertion,
// deletion, substitution or transposition of adjacent letters). Shorter words
// match only as typed or as a prefix: "adle" finding "Adele" would be noise.
const MinFuzzyRunes = 5

// Query is a parsed search term. Words and RawWords line up: RawWords[i] is
// the diacritics-kept form (Normalize) of the word whose folded form is
// Words[i].
type Query struct {
	Raw      string   // Normalize(term): NFC, lower case, diacritics kept
	Folded   string   // the folded words joined by one space
	Words    []string // folded words, in the order typed
	RawWords []string // diacritics-kept words
}

// Fuzzy says whether word i of the query is long enough to forgive a typo.
func (q Query) Fuzzy(i int) bool { return utf8.RuneCountInString(q.Words[i]) >= MinFuzzyRunes }

// ParseQuery turns the `:term` of a search URL into a Query. The frontend
// sends spaces as %2B, so after URL decoding a '+' means a space; a term that
// still holds %-escapes (a raw path segment) is decoded here, and one that is
// not valid escaping is taken literally. An empty term, or one without a
// single letter or digit, is 400; so is one longer than MaxQueryRunes.
func ParseQuery(term string) (Query, error) {
	if strings.Contains(term, "%") {
		if dec, err := url.PathUnescape(term); err == nil {
			term = dec
		}
	}
	term = strings.TrimSpace(strings.ReplaceAll(term, "+", " "))
	if term == "" {
		return Query{}, domain.Invalid("Search term must not be empty")
	}
	if n := utf8.RuneCountInString(term); n > MaxQueryRunes {
		return Query{}, domain.Invalid(fmt.Sprintf("Search term must be at most %d characters", MaxQueryRunes))
	}
	q := Query{Raw: Normalize(term)}
	for _, w := range strings.Fields(q.Raw) {
		f := FoldWord(w)
		if f == "" {
			continue
		}
		q.Words = append(q.Words, f)
		q.RawWords = append(q.RawWords, w)
	}
	if len(q.Words) == 0 {
		return Query{}, domain.Invalid("Search term must contain a letter or a digit")
	}
	q.Folded = strings.Join(q.Words, " ")
	return q, nil
}
