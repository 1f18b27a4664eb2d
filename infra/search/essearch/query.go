package essearch

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hustmusik/backend/infra/search"
)

// wordClause is the clause one query word must satisfy. Each should clause
// is a constant_score, so a hit's _score is exactly the sum of the search
// package's points, the same number pgsearch computes, and both order alike.
func wordClause(q search.Query, i int) map[string]any {
	raw, word := q.RawWords[i], q.Words[i]
	should := []any{
		constantScore(map[string]any{"term": map[string]any{"text": raw}}, search.ScoreExact),
		constantScore(map[string]any{"term": map[string]any{"text.folded": word}}, search.ScoreWord),
	}
	if utf8.RuneCountInString(word) <= maxGram {
		should = append(should, constantScore(map[string]any{"term": map[string]any{"text.prefix": word}}, search.ScorePrefix))
	} else { // longer than the longest n-gram: a prefix query on the folded words instead
		should = append(should, constantScore(map[string]any{"prefix": map[string]any{"text.folded": word}}, search.ScorePrefix))
	}
	if q.Fuzzy(i) {
		should = append(should, constantScore(map[string]any{"fuzzy": map[string]any{"text.folded": map[string]any{
			"value":          word,
			"fuzziness":      "1",
			"transpositions": true,
			"prefix_length":  0,
			"max_expansions": 50,
		}}}, search.ScoreFuzzy))
	}
	return map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}
}

func constantScore(filter map[string]any, boost int) map[string]any {
	return map[string]any{"constant_score": map[string]any{"filter": filter, "boost": boost}}
}

// searchBody is the request body of a search of one kind; filters narrow
// collections by type and visibility.
func searchBody(kind search.Kind, q search.Query, filters []any, offset, size int) ([]byte, error) {
	must := make([]any, len(q.Words))
	for i := range q.Words {
		must[i] = wordClause(q, i)
	}
	boolQuery := map[string]any{"must": must}
	if len(filters) > 0 {
		boolQuery["filter"] = filters
	}
	sort := []any{map[string]any{"_score": "desc"}}
	if kind == search.KindSong {
		sort = append(sort, map[string]any{"views": "desc"})
	}
	sort = append(sort, map[string]any{"sort_key": "asc"}, map[string]any{"id": "asc"})
	b, err := json.Marshal(map[string]any{
		"from":             offset,
		"size":             size,
		"track_total_hits": false,
		"query":            map[string]any{"bool": boolQuery},
		"sort":             sort,
		"_source":          []string{"doc"},
	})
	if err != nil {
		return nil, fmt.Errorf("essearch: %s search body: %w", kind, err)
	}
	return b, nil
}

func albumFilters() []any {
	return []any{
		map[string]any{"terms": map[string]any{"type": search.AlbumTypes}},
		map[string]any{"term": map[string]any{"visibility": search.VisibilityPublic}},
	}
}

func playlistFilters(viewerID string) []any {
	visible := map[string]any{"term": map[string]any{"visibility": search.VisibilityPublic}}
	if viewerID != "" { // anonymous: an empty owner id must not count as theirs
		visible = map[string]any{"bool": map[string]any{"should": []any{
			visible,
			map[string]any{"term": map[string]any{"owner_id": strings.ToLower(viewerID)}},
		}, "minimum_should_match": 1}}
	}
	return []any{map[string]any{"terms": map[string]any{"type": search.PlaylistTypes}}, visible}
}

// source is what a document is stored as.
type source struct {
	ID         string `json:"id"`
	Text       string `json:"text"`
	SortKey    string `json:"sort_key"`
	Views      *int64 `json:"views,omitempty"`
	Type       string `json:"type,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	OwnerID    string `json:"owner_id,omitempty"`
	Doc        any    `json:"doc"`
}

func sourceOf(c search.Change) source {
	var title string
	s := source{ID: c.ID}
	switch c.Kind {
	case search.KindSong:
		title, s.Doc = c.Song.Title, c.Song
		views := c.Song.Views
		s.Views = &views
	case search.KindArtist:
		title, s.Doc = c.Artist.Name, c.Artist
	case search.KindCollection:
		title, s.Doc = c.Collection.Title, c.Collection
		s.Type, s.Visibility, s.OwnerID = c.Collection.Type, c.Collection.Visibility, strings.ToLower(c.Collection.Owner.ID)
	case search.KindUser:
		title, s.Doc = c.User.Username, c.User
	}
	s.Text, s.SortKey = search.Normalize(title), search.SortKey(title)
	return s
}

// bulkBody writes the NDJSON of a bulk request: every action carries the
// change's version as an external version, so Elasticsearch itself drops a
// change that is not newer than the document (or its delete).
func bulkBody(index func(search.Kind) string, changes []search.Change) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b) // Encode ends each line with '\n', as NDJSON needs
	enc.SetEscapeHTML(false)
	for _, c := range changes {
		meta := map[string]any{"_index": index(c.Kind), "_id": c.ID, "version": c.Version, "version_type": "external"}
		if c.Delete {
			if err := enc.Encode(map[string]any{"delete": meta}); err != nil {
				return nil, fmt.Errorf("essearch: bulk body: %w", err)
			}
			continue
		}
		if err := enc.Encode(map[string]any{"index": meta}); err != nil {
			return nil, fmt.Errorf("essearch: bulk body: %w", err)
		}
		if err := enc.Encode(sourceOf(c)); err != nil {
			return nil, fmt.Errorf("essearch: bulk body: %w", err)
		}
	}
	return []byte(b.String()), nil
}
