// Package essearch is the Elasticsearch search index (production, set by
// ELASTICSEARCH_URL), through the plain go-elasticsearch/v8 client. One
// index per kind, created from index templates; writes are bulk requests
// with external versions; queries mirror pgsearch's matching and scores.
package essearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/search"
)

// Config configures the index.
type Config struct {
	// URL of the cluster, e.g. http://user:pass@localhost:9200 (ELASTICSEARCH_URL).
	URL string
	// IndexPrefix names the indexes: <prefix>-songs, -artists, -collections, -users.
	IndexPrefix string
	// Refresh is the bulk refresh policy: "false" (default), "true" or
	// "wait_for" (tests: a write is searchable when Apply returns).
	Refresh string
	// MaxRetries of a request answered 502/503/504 or failing in transport.
	MaxRetries int
	// Timeout of one request.
	Timeout time.Duration
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

func (c *Config) setDefaults() {
	if c.IndexPrefix == "" {
		c.IndexPrefix = "hustmusik"
	}
	if c.Refresh == "" {
		c.Refresh = "false"
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("essearch: URL %q must be an http(s) URL", redact(c.URL)))
	}
	if c.IndexPrefix != strings.ToLower(c.IndexPrefix) || strings.ContainsAny(c.IndexPrefix, ` "*\<|,>/?#:`) {
		errs = append(errs, fmt.Errorf("essearch: IndexPrefix %q is not a valid lower-case index name", c.IndexPrefix))
	}
	switch c.Refresh {
	case "false", "true", "wait_for":
	default:
		errs = append(errs, fmt.Errorf("essearch: Refresh %q must be false, true or wait_for", c.Refresh))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, errors.New("essearch: MaxRetries must not be negative"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("essearch: Timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// redact hides a password in a URL that is printed.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err == nil {
		return u.Redacted()
	}
	// Unparsable: cut whatever may be credentials before the host.
	if i, j := strings.Index(raw, "://"), strings.LastIndex(raw, "@"); i >= 0 && j > i {
		return raw[:i+3] + "xxxxx@" + raw[j+1:]
	}
	return raw
}

// Index is a search.Index over Elasticsearch.
type Index struct {
	cfg    Config
	client *elasticsearch.Client
	logger *slog.Logger
}

var _ search.Index = (*Index)(nil)

var kinds = []search.Kind{search.KindSong, search.KindArtist, search.KindCollection, search.KindUser}

// New builds the client; it does not contact the cluster (Setup does).
func New(cfg Config, logger *slog.Logger) (*Index, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	esCfg := elasticsearch.Config{
		Addresses:  []string{cfg.URL},
		MaxRetries: cfg.MaxRetries,
		Transport:  cfg.Transport,
	}
	if u, _ := url.Parse(cfg.URL); u.User != nil {
		esCfg.Username = u.User.Username()
		esCfg.Password, _ = u.User.Password()
		u.User = nil
		esCfg.Addresses = []string{u.String()}
	}
	client, err := elasticsearch.NewClient(esCfg)
	if err != nil {
		return nil, fmt.Errorf("essearch: client for %s: %w", redact(cfg.URL), err)
	}
	return &Index{cfg: cfg, client: client, logger: logger}, nil
}

// IndexName is the index of one kind.
func (x *Index) IndexName(k search.Kind) string {
	switch k {
	case search.KindSong:
		return x.cfg.IndexPrefix + "-songs"
	case search.KindArtist:
		return x.cfg.IndexPrefix + "-artists"
	case search.KindCollection:
		return x.cfg.IndexPrefix + "-collections"
	default:
		return x.cfg.IndexPrefix + "-users"
	}
}

// Setup installs the index templates and creates the indexes that are
// missing. Run it at start-up; it is idempotent.
func (x *Index) Setup(ctx context.Context) error {
	for _, k := range kinds {
		body, err := TemplateBody(k, x.IndexName(k))
		if err != nil {
			return err
		}
		req := esapi.IndicesPutIndexTemplateRequest{Name: x.IndexName(k), Body: bytes.NewReader(body)}
		if err := x.do(ctx, req, "put template "+x.IndexName(k), nil); err != nil {
			return err
		}
		if err := x.create(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (x *Index) create(ctx context.Context, k search.Kind) error {
	body, err := IndexBody(k)
	if err != nil {
		return err
	}
	err = x.do(ctx, esapi.IndicesCreateRequest{Index: x.IndexName(k), Body: bytes.NewReader(body)}, "create index "+x.IndexName(k), nil)
	var esErr *responseError
	if errors.As(err, &esErr) && esErr.Type == "resource_already_exists_exception" {
		return nil
	}
	return err
}

// Reset deletes and recreates the indexes: documents and remembered delete
// versions are gone, so a rebuild may start again from low versions.
func (x *Index) Reset(ctx context.Context) error {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = x.IndexName(k)
	}
	ignore := true
	if err := x.do(ctx, esapi.IndicesDeleteRequest{Index: names, IgnoreUnavailable: &ignore}, "delete indexes", nil); err != nil {
		return err
	}
	for _, k := range kinds {
		if err := x.create(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// Apply sends the changes as one bulk request. An item refused with a
// version conflict is a change older than what the index holds: success.
func (x *Index) Apply(ctx context.Context, changes []search.Change) error {
	if len(changes) == 0 {
		return nil
	}
	canonical := make([]search.Change, len(changes))
	for i, c := range changes {
		var err error
		if canonical[i], err = c.Canonical(); err != nil {
			return err
		}
	}
	body, err := bulkBody(x.IndexName, canonical)
	if err != nil {
		return err
	}
	var res bulkResponse
	req := esapi.BulkRequest{Body: bytes.NewReader(body), Refresh: x.cfg.Refresh,
		Header: http.Header{"Content-Type": []string{"application/x-ndjson"}}}
	if err := x.do(ctx, req, fmt.Sprintf("bulk of %d changes", len(changes)), &res); err != nil {
		return err
	}
	if len(res.Items) != len(canonical) {
		return fmt.Errorf("essearch: bulk of %d changes answered %d items", len(canonical), len(res.Items))
	}
	var errs []error
	for i, item := range res.Items {
		for op, r := range item {
			if err := itemError(op, r); err != nil {
				errs = append(errs, fmt.Errorf("%s %s %s version %d: %w", op, canonical[i].Kind, canonical[i].ID, canonical[i].Version, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("essearch: bulk: %w", errors.Join(errs...))
	}
	return nil
}

type bulkResponse struct {
	Errors bool                        `json:"errors"`
	Items  []map[string]bulkItemResult `json:"items"`
}

type bulkItemResult struct {
	Status int        `json:"status"`
	Result string     `json:"result"`
	Error  *errorBody `json:"error"`
}

type errorBody struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// itemError maps one bulk item's answer: a version conflict means the index
// already holds a newer change (ours arrived late), and deleting a missing
// document still records the delete's version; neither is a failure.
func itemError(op string, r bulkItemResult) error {
	switch {
	case r.Status >= 200 && r.Status < 300:
		return nil
	case r.Status == http.StatusConflict && r.Error != nil && r.Error.Type == "version_conflict_engine_exception":
		return nil
	case r.Status == http.StatusNotFound && op == "delete" && r.Error == nil:
		return nil
	}
	msg := fmt.Sprintf("status %d", r.Status)
	if r.Error != nil {
		msg += ": " + r.Error.Type + ": " + r.Error.Reason
	}
	if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
		return fmt.Errorf("%w: %s", domain.ErrUnavailable, msg)
	}
	return errors.New(msg)
}

// responseError is an error answer of Elasticsearch.
type responseError struct {
	Status int
	Type   string
	Reason string
}

func (e *responseError) Error() string {
	return fmt.Sprintf("status %d: %s: %s", e.Status, e.Type, e.Reason)
}

// Unwrap makes overload and outages errors.Is(err, domain.ErrUnavailable):
// the projector retries them, a query handler answers 503.
func (e *responseError) Unwrap() error {
	if e.Status == http.StatusTooManyRequests || e.Status >= 500 {
		return domain.ErrUnavailable
	}
	return nil
}

type request interface {
	Do(ctx context.Context, transport esapi.Transport) (*esapi.Response, error)
}

// do performs a request and decodes a successful answer into out (if not nil).
func (x *Index) do(ctx context.Context, req request, what string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, x.cfg.Timeout)
	defer cancel()
	res, err := req.Do(ctx, x.client)
	if err != nil {
		return fmt.Errorf("essearch: %s: %w: %w", what, domain.ErrUnavailable, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("essearch: %s: read answer: %w", what, err)
	}
	if res.IsError() {
		var e struct {
			Error json.RawMessage `json:"error"`
		}
		re := &responseError{Status: res.StatusCode}
		if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
			var eb errorBody
			if json.Unmarshal(e.Error, &eb) == nil {
				re.Type, re.Reason = eb.Type, eb.Reason
			} else {
				re.Reason = string(e.Error)
			}
		} else {
			re.Reason = truncate(string(body), 200)
		}
		return fmt.Errorf("essearch: %s: %w", what, re)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("essearch: %s: unreadable answer %q: %w", what, truncate(string(body), 200), err)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type searchResponse[D any] struct {
	Hits struct {
		Hits []struct {
			Source *struct {
				Doc *D `json:"doc"`
			} `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

func find[D any](ctx context.Context, x *Index, kind search.Kind, q search.Query, filters []any, page, limit int) ([]D, error) {
	out := []D{}
	offset, size := search.Window(page, limit)
	if size == 0 || len(q.Words) == 0 {
		return out, nil
	}
	body, err := searchBody(kind, q, filters, offset, size)
	if err != nil {
		return nil, err
	}
	var res searchResponse[D]
	req := esapi.SearchRequest{Index: []string{x.IndexName(kind)}, Body: bytes.NewReader(body)}
	if err := x.do(ctx, req, "search "+x.IndexName(kind), &res); err != nil {
		return nil, err
	}
	for _, h := range res.Hits.Hits {
		if h.Source == nil || h.Source.Doc == nil {
			return nil, fmt.Errorf("essearch: search %s: a hit without its document", x.IndexName(kind))
		}
		out = append(out, *h.Source.Doc)
	}
	return out, nil
}

// Songs finds songs by title.
func (x *Index) Songs(ctx context.Context, q search.Query, page, limit int) ([]search.SongDoc, error) {
	docs, err := find[search.SongDoc](ctx, x, search.KindSong, q, nil, page, limit)
	for i := range docs {
		if docs[i].Artists == nil {
			docs[i].Artists = []search.ArtistRef{}
		}
	}
	return docs, err
}

// Artists finds artists by name.
func (x *Index) Artists(ctx context.Context, q search.Query, page, limit int) ([]search.ArtistDoc, error) {
	return find[search.ArtistDoc](ctx, x, search.KindArtist, q, nil, page, limit)
}

// Albums finds public albums, EPs and singles by title.
func (x *Index) Albums(ctx context.Context, q search.Query, page, limit int) ([]search.CollectionDoc, error) {
	return find[search.CollectionDoc](ctx, x, search.KindCollection, q, albumFilters(), page, limit)
}

// Playlists finds public playlists and mixes, and the viewer's private ones.
func (x *Index) Playlists(ctx context.Context, q search.Query, viewerID string, page, limit int) ([]search.CollectionDoc, error) {
	return find[search.CollectionDoc](ctx, x, search.KindCollection, q, playlistFilters(viewerID), page, limit)
}

// Users finds users by username.
func (x *Index) Users(ctx context.Context, q search.Query, page, limit int) ([]search.UserDoc, error) {
	return find[search.UserDoc](ctx, x, search.KindUser, q, nil, page, limit)
}
