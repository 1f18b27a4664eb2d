package essearch

import (
	"encoding/json"
	"fmt"

	"github.com/hustmusik/backend/infra/search"
)

// Analyzers. Documents carry search.Normalize(title) in "text" (diacritics
// kept, punctuation already gone) and search.Fold(title) in "sort_key", so
// Go's Fold stays the source of truth; the analyzers below only tokenize and
// fold what Fold folds. Lucene's asciifolding maps đ/Đ to d (and ß to ss, ø
// to o, æ to ae, ł to l), the letters without a Unicode decomposition that
// search.Fold maps by hand; the shared suite checks "den vau" finds "Đen Vâu".
const (
	analyzerKept   = "hm_kept"   // standard tokenizer + lowercase: diacritics kept
	analyzerFolded = "hm_folded" // + asciifolding: what search.Fold does
	analyzerPrefix = "hm_prefix" // + edge n-grams 1..20: prefixes as the user types
	maxGram        = 20
)

// gcDeletes is how long Elasticsearch remembers a deleted document's
// version. A change older than a delete that arrives later than this (a
// projector replaying a batch hours later) would resurrect the document; the
// default 60s is too short for a projector that retries with backoff.
const gcDeletes = "1h"

func settings() map[string]any {
	return map[string]any{
		"index": map[string]any{
			"gc_deletes":        gcDeletes,
			"max_result_window": search.MaxWindow,
		},
		"analysis": map[string]any{
			"filter": map[string]any{
				"hm_folding": map[string]any{"type": "asciifolding", "preserve_original": false},
				"hm_edge":    map[string]any{"type": "edge_ngram", "min_gram": 1, "max_gram": maxGram},
			},
			"analyzer": map[string]any{
				analyzerKept:   map[string]any{"type": "custom", "tokenizer": "standard", "filter": []string{"lowercase"}},
				analyzerFolded: map[string]any{"type": "custom", "tokenizer": "standard", "filter": []string{"lowercase", "hm_folding"}},
				analyzerPrefix: map[string]any{"type": "custom", "tokenizer": "standard", "filter": []string{"lowercase", "hm_folding", "hm_edge"}},
			},
		},
	}
}

func mappings(kind search.Kind) map[string]any {
	props := map[string]any{
		"id": map[string]any{"type": "keyword"},
		"text": map[string]any{
			"type":     "text",
			"analyzer": analyzerKept,
			"fields": map[string]any{
				"folded": map[string]any{"type": "text", "analyzer": analyzerFolded},
				// n-grams at index time only: the query word is a prefix, not a set of prefixes.
				"prefix": map[string]any{"type": "text", "analyzer": analyzerPrefix, "search_analyzer": analyzerFolded},
			},
		},
		"sort_key": map[string]any{"type": "keyword"},
		// The document as the API returns it: stored, never searched.
		"doc": map[string]any{"type": "object", "enabled": false},
	}
	switch kind {
	case search.KindSong:
		props["views"] = map[string]any{"type": "long"}
	case search.KindCollection:
		props["type"] = map[string]any{"type": "keyword"}
		props["visibility"] = map[string]any{"type": "keyword"}
		props["owner_id"] = map[string]any{"type": "keyword"}
	}
	return map[string]any{"dynamic": "strict", "properties": props}
}

// IndexBody is the body that creates the index of one kind.
func IndexBody(kind search.Kind) ([]byte, error) {
	b, err := json.Marshal(map[string]any{"settings": settings(), "mappings": mappings(kind)})
	if err != nil {
		return nil, fmt.Errorf("essearch: %s index body: %w", kind, err)
	}
	return b, nil
}

// TemplateBody is the index template of one kind: an index recreated by
// hand, or auto-created by a write, gets the same settings and mapping.
func TemplateBody(kind search.Kind, indexName string) ([]byte, error) {
	b, err := json.Marshal(map[string]any{
		"index_patterns": []string{indexName},
		"priority":       200,
		"template":       map[string]any{"settings": settings(), "mappings": mappings(kind)},
		"_meta":          map[string]any{"owner": "hustmusik", "kind": string(kind)},
	})
	if err != nil {
		return nil, fmt.Errorf("essearch: %s template body: %w", kind, err)
	}
	return b, nil
}
