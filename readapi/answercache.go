package readapi

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/httpapi"
)

// Versioner tells the data version of projectors: a number that changes
// whenever the rows of any of them may have changed
// (projections.Runtime.DataVersion).
type Versioner interface {
	DataVersion(names ...string) uint64
}

// answerCache keeps rendered answers of by-id reads (a song, a collection)
// with the data version of the projectors whose rows they were computed
// from. A cached answer is served only while that version is unchanged, so
// it is exactly what the query would answer now: any commit of one of those
// projectors (in this process or, through its notification, another)
// retires every answer at once. Reads of a catalog that changes a few
// times a minute are then mostly answered without a query; under a stream
// of catalog writes it degrades to one query per answer, as without it.
//
// The version is read before the query: a commit landing during the query
// makes the stored answer outdated at once, never a stale one current.
type answerCache struct {
	versions Versioner
	deps     []string // projectors whose rows the answers read

	mu      sync.RWMutex
	entries map[string]cachedAnswer
	max     int
}

// cachedAnswer is a rendered body and what the access check needs.
type cachedAnswer struct {
	version uint64
	body    []byte
	// owner and public gate collections: who may see the answer.
	owner  string
	public bool
}

// newAnswerCache caches up to max answers; a nil versions disables it.
func newAnswerCache(versions Versioner, max int, deps ...string) *answerCache {
	return &answerCache{versions: versions, deps: deps, entries: map[string]cachedAnswer{}, max: max}
}

// version is the current data version of the answers' projectors.
func (c *answerCache) version() uint64 {
	if c == nil || c.versions == nil {
		return 0
	}
	return c.versions.DataVersion(c.deps...)
}

// get is the answer for key computed at version v, if kept.
func (c *answerCache) get(key string, v uint64) (cachedAnswer, bool) {
	if c == nil || c.versions == nil {
		return cachedAnswer{}, false
	}
	c.mu.RLock()
	a, ok := c.entries[key]
	c.mu.RUnlock()
	return a, ok && a.version == v
}

// put keeps an answer computed from rows read after version answered v.
func (c *answerCache) put(key string, a cachedAnswer) {
	if c == nil || c.versions == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		// Outdated answers go first; else any one.
		evicted := false
		for k, old := range c.entries {
			if old.version != a.version {
				delete(c.entries, k)
				evicted = true
				break
			}
		}
		if !evicted {
			for k := range c.entries {
				delete(c.entries, k)
				break
			}
		}
	}
	c.entries[key] = a
}

// serve answers g with the answer kept under key at the current version,
// or else with find's value (rendered as c.JSON would) and keeps that. An
// error of find is answered as every error and kept nowhere.
func (c *answerCache) serve(g *gin.Context, key string, find func() (any, error)) {
	v := c.version()
	if a, ok := c.get(key, v); ok {
		writeJSON(g, a.body)
		return
	}
	value, err := find()
	if err != nil {
		httpapi.Error(g, err)
		return
	}
	body, err := render(value)
	if err != nil {
		httpapi.Error(g, err)
		return
	}
	c.put(key, cachedAnswer{version: v, body: body})
	writeJSON(g, body)
}

// render is the body c.JSON would send for v.
func render(v any) ([]byte, error) { return json.Marshal(v) }

// writeJSON sends a rendered body as c.JSON would.
func writeJSON(c *gin.Context, body []byte) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}
