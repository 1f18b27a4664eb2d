package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hustmusik/backend/commands"
	"github.com/hustmusik/backend/infra/blob/localblob"
	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/credentials"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/httpapi"
	"github.com/hustmusik/backend/infra/password"
	"github.com/hustmusik/backend/infra/token"
	"github.com/hustmusik/backend/projections"
	"github.com/hustmusik/backend/readapi"
)

// app is the whole service assembled on an env: commands, projectors,
// queries and the HTTP server. Tests build it the same way serve does.
type app struct {
	cfg      config.Config
	env      *env
	tokens   *token.Issuer
	identity *commands.Identity
	catalog  *commands.Catalog
	// collections are the playlist and album commands.
	collections *commands.Collections
	// library is a listener's follows and listens.
	library *commands.Library
	// google is Google sign-in.
	google *commands.Google
	// media hands out audio URLs; mediaStores are where audio and images go.
	media       *commands.Media
	mediaStores mediaStores
	// orders are the payment commands; reconciler settles lost callbacks.
	orders     *commands.Orders
	reconciler *commands.Reconciler
	runtime    *projections.Runtime
	server     *httpapi.Server
	logger     *slog.Logger
	// metrics is served at /metrics; readiness bounds the projection lag
	// that GET /readyz accepts.
	metrics   *prometheus.Registry
	readiness *projections.Readiness

	// search is the search index and its projector.
	search *searchBackend
	// reference is the OpenAPI document and the /docs page.
	reference referenceHTTP
}

// allProjectors is every read model, by stable name.
func allProjectors() []projections.Projector {
	return []projections.Projector{projections.Users{}, projections.Catalog{}, projections.Collections{},
		projections.Follows{}, projections.History{}, projections.Orders{}, projections.ListenStats{}}
}

func newApp(cfg config.Config, e *env, logger *slog.Logger, pw password.Config) (*app, error) {
	secret, err := cfg.LoadJWTSecret()
	if err != nil {
		return nil, err
	}
	tokens, err := token.New(token.Config{Secret: secret, TTL: cfg.AccessTokenTTL})
	if err != nil {
		return nil, err
	}
	hasher, err := password.New(pw)
	if err != nil {
		return nil, err
	}
	// metrics is the process's one Prometheus registry (GET /metrics); the
	// commands append through the metered store, which counts every event.
	metrics, err := newMetricsRegistry()
	if err != nil {
		return nil, err
	}
	store, err := eventstore.NewMetered(e.store, metrics)
	if err != nil {
		return nil, err
	}
	identity, err := commands.NewIdentity(commands.IdentityConfig{AdminEmails: cfg.AdminEmails},
		store, credentials.New(e.pool), hasher, refreshTokens{tokens})
	if err != nil {
		return nil, err
	}
	googleSignIn, err := newGoogle(cfg, e, identity, logger)
	if err != nil {
		return nil, err
	}
	catalog, err := commands.NewCatalog(store)
	if err != nil {
		return nil, err
	}
	collections, err := commands.NewCollections(store)
	if err != nil {
		return nil, err
	}
	library, err := commands.NewLibrary(commands.LibraryConfig{}, store)
	if err != nil {
		return nil, err
	}
	stores, err := newMediaStores(cfg, secret, logger)
	if err != nil {
		return nil, err
	}
	media, err := commands.NewMedia(commands.MediaConfig{Blobs: stores.blobs, Images: stores.images, Logger: logger}, store)
	if err != nil {
		return nil, err
	}
	identity.UseMedia(media)
	catalog.UseMedia(media)
	collections.UseMedia(media)
	orders, reconciler, err := newOrders(cfg, e, store, logger)
	if err != nil {
		return nil, err
	}
	searchIndex, err := newSearchBackend(cfg, e, logger, true)
	if err != nil {
		return nil, err
	}
	projMetrics, err := projections.NewMetrics(metrics, logger)
	if err != nil {
		return nil, err
	}
	rt, err := projections.New(projections.Config{OnCommit: projMetrics.OnCommit}, e.pool, e.store, logger)
	if err != nil {
		return nil, err
	}
	projMetrics.SetStatus(rt.Status)
	for _, p := range everyProjector(searchIndex.projector) {
		if err := rt.Add(p); err != nil {
			return nil, err
		}
	}
	a := &app{cfg: cfg, env: e, tokens: tokens, identity: identity, catalog: catalog, collections: collections, library: library, runtime: rt, logger: logger}
	a.media, a.mediaStores = media, stores
	a.search = searchIndex
	a.orders, a.reconciler = orders, reconciler
	a.metrics, a.readiness = metrics, &projections.Readiness{}
	var bodyLimitExempt []string
	if stores.local != nil {
		bodyLimitExempt = []string{localblob.PathPrefix} // audio uploads: the blob handler bounds them
	}
	a.google = googleSignIn
	srv, err := httpapi.New(httpapi.Config{
		Addr:               cfg.Addr,
		PublicURL:          cfg.PublicURL,
		FrontendOrigins:    cfg.FrontendOrigins,
		ConsistencyTimeout: cfg.ConsistencyWait,
		Verifier:           tokens,
		Waiter:             rt,
		Pool:               e.pool,
		BodyLimitExempt:    bodyLimitExempt,
		Metrics:            metrics,
		Ready:              a.readyChecks(),
	}, logger)
	if err != nil {
		return nil, err
	}
	a.server = srv
	if a.reference, err = newReference(); err != nil {
		return nil, err
	}
	routes(srv, a.handlers(), cfg.AuthRatePerMinute)
	a.reference.mount(srv.Engine())
	stores.mount(srv.Engine())
	return a, nil
}

// handlers builds the HTTP handlers of every route.
func (a *app) handlers() handlers {
	// The answer caches follow the projectors' data versions; without
	// them (HUSTMUSIK_ANSWER_CACHE=off) every read queries.
	var versions readapi.Versioner = a.runtime
	if a.cfg.NoAnswerCache {
		versions = nil
	}
	collectionQueries := readapi.NewCollections(a.env.pool).CachedBy(versions, 5000)
	return handlers{
		collections:      collectionQueries,
		collectionWrites: commands.NewCollectionsHTTP(a.collections, a.runtime, collectionQueries),
		identity:         commands.NewIdentityHTTP(a.identity, a.runtime),
		google:           commands.NewGoogleHTTP(a.google, a.runtime, a.cfg.FrontendOrigins[0]),
		users:            readapi.NewUsers(a.env.pool),
		catalog:          commands.NewCatalogHTTP(a.catalog, a.runtime),
		artists:          readapi.NewArtists(a.env.pool),
		songs:            readapi.NewSongs(a.env.pool).CachedBy(versions, 50000),
		library:          commands.NewLibraryHTTP(a.library, a.runtime),
		libraryReads:     readapi.NewLibrary(a.env.pool),
		media:            commands.NewMediaHTTP(a.media, a.runtime),
		orders:           commands.NewOrdersHTTP(a.orders, a.runtime),
		orderReads:       readapi.NewOrders(a.env.pool, a.orders.Configured()),
		search:           readapi.NewSearch(a.search.index).CachedBy(versions, 4000),
		events:           readapi.NewEvents(a.env.store),
		stats:            readapi.NewStats(a.env.pool),
		reference:        a.reference,
	}
}

// run serves until ctx ends: the projectors and the HTTP server together;
// when either stops with an error, both stop.
func (a *app) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() {
		err := a.runtime.Run(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("projections: %w", err)
		} else {
			err = nil
		}
		cancel()
		errc <- err
	}()
	go func() {
		err := a.server.Run(ctx)
		cancel()
		errc <- err
	}()
	// The order reconciler and the listens' watch for deletions log their
	// own failures and end with ctx.
	var background sync.WaitGroup
	background.Add(2)
	go func() {
		defer background.Done()
		a.reconciler.Run(ctx)
	}()
	go func() {
		defer background.Done()
		a.library.Watch(ctx, a.logger)
	}()
	err := errors.Join(<-errc, <-errc)
	cancel()
	background.Wait()
	return err
}

// refreshTokens adds the refresh-token functions to the access-token issuer,
// making the commands.Tokens port.
type refreshTokens struct{ *token.Issuer }

func (refreshTokens) NewRefresh() (string, []byte)    { return token.NewRefresh() }
func (refreshTokens) HashRefresh(plain string) []byte { return token.HashRefresh(plain) }

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	e, err := openEnv(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer e.Close()
	a, err := newApp(cfg, e, logger, password.Config{})
	if err != nil {
		return err
	}
	if err := a.mediaStores.prepare(ctx); err != nil {
		return err
	}
	if err := a.search.prepare(ctx, cfg); err != nil {
		return err
	}
	pprofCtx, stopPprof := context.WithCancel(ctx)
	pprofDone, err := servePprof(pprofCtx, cfg.PprofAddr, logger)
	defer func() { stopPprof(); <-pprofDone }()
	if err != nil {
		return err
	}
	logger.Info("hustmusik serving", "addr", cfg.Addr, "public_url", cfg.PublicURL)
	return a.run(ctx)
}
