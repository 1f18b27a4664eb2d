package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/search"
	"github.com/hustmusik/backend/infra/search/essearch"
	"github.com/hustmusik/backend/infra/search/pgsearch"
	"github.com/hustmusik/backend/projections"
)

// searchBackend is the search index the configuration chooses (ARCHITECTURE.md,
// backends) and the projector that fills it: Elasticsearch when
// ELASTICSEARCH_URL is set, else the PostgreSQL index in the read-model
// database, written in the projector's transaction.
type searchBackend struct {
	index     search.Index
	es        *essearch.Index // nil with PostgreSQL
	projector *projections.Search
}

// newSearchBackend builds the index without contacting it; prepare does.
// serving says whether HTTP writes will wait for the projector: then every
// Elasticsearch bulk write waits for the refresh that makes it searchable,
// so that a client sees its write in its next search (a rebuild from the
// command line needs no such wait and goes faster without it).
func newSearchBackend(cfg config.Config, e *env, logger *slog.Logger, serving bool) (*searchBackend, error) {
	var b searchBackend
	if cfg.ElasticsearchURL != "" {
		refresh := "false"
		if serving {
			refresh = "wait_for"
		}
		x, err := essearch.New(essearch.Config{URL: cfg.ElasticsearchURL, Refresh: refresh}, logger)
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		b.index, b.es = x, x
	} else {
		x, err := pgsearch.New(pgsearch.Config{Pool: e.pool}, logger)
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		b.index = x
	}
	p, err := projections.NewSearch(projections.SearchConfig{Index: b.index})
	if err != nil {
		return nil, err
	}
	b.projector = p
	return &b, nil
}

// prepare installs Elasticsearch's index templates and indexes (the
// PostgreSQL index is made by the migrations). It fails when the cluster
// cannot be reached: serving without a search index is not an option.
func (b *searchBackend) prepare(ctx context.Context, cfg config.Config) error {
	if b.es == nil {
		return nil
	}
	if err := b.es.Setup(ctx); err != nil {
		return fmt.Errorf("search index: Elasticsearch at ELASTICSEARCH_URL=%s is unreachable or refused its setup: %w",
			redactedURL(cfg.ElasticsearchURL), err)
	}
	return nil
}

// redactedURL hides a password in a URL that is printed.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// everyProjector is every read model's projector (allProjectors) plus the
// search projector, whose index depends on the configuration.
func everyProjector(s *projections.Search) []projections.Projector {
	return append(allProjectors(), s)
}
