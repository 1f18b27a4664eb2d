// Package httpapi is the HTTP layer every endpoint of the API stands on: the
// Gin engine and its middleware (request ids, access logs, recovery, CORS,
// body limits, authentication, rate limits, idempotency, read-your-writes
// consistency), the one mapping from domain errors to statuses, request
// decoding and answer helpers. Endpoints are added by the commands and
// readapi packages on Engine().
//
// Global middleware, in order: request id, access log, recovery, CORS (and
// 204 for every OPTIONS), body limit, authentication (never refuses: a bad
// token means anonymous), X-Min-Position wait on reads, Idempotency-Key on
// POSTs. Per route: RequireUser, RequireRole, RateLimit. An endpoint looks
// like:
//
//	songs := srv.Engine().Group("/v1/song")
//	songs.POST("", httpapi.RequireRole(domain.RoleArtistManager, domain.RoleAdmin), func(c *gin.Context) {
//		f, err := httpapi.Fields(c)
//		if err != nil {
//			httpapi.Error(c, err)
//			return
//		}
//		song, pos, err := addSong(c, httpapi.Principal(c), f)
//		if err != nil {
//			httpapi.Error(c, err)
//			return
//		}
//		httpapi.Written(c, waiter, pos, []string{"SongAdded"})
//		httpapi.Data(c, song)
//	})
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hustmusik/backend/infra/token"
)

// Verifier checks an access token (token.Issuer implements it).
type Verifier interface {
	Verify(raw string) (token.Claims, error)
}

// RateLimitConfig tunes every RateLimit middleware of the server.
type RateLimitConfig struct {
	Disabled   bool // e.g. for load tests; never in production
	MaxClients int  // client buckets kept per limiter; default 10000
}

// Config of a Server.
type Config struct {
	Addr            string   // listen address; default ":7554"
	PublicURL       string   // how clients reach this server; default "http://localhost:7554"
	FrontendOrigins []string // CORS origins ("scheme://host[:port]"); "*" allows any origin
	// TrustedProxies are the proxy addresses or CIDRs whose X-Forwarded-For
	// is believed for the client IP. Default none: the peer address is the
	// client, so nobody can dodge a rate limit with a forged header.
	TrustedProxies []string

	MaxBodyBytes       int64         // default 11 MiB: a 10 MB image plus the other fields
	ConsistencyTimeout time.Duration // longest wait for read models after a write; default 2s
	ShutdownTimeout    time.Duration // longest drain of in-flight requests on shutdown; default 15s
	ReadHeaderTimeout  time.Duration // default 10s
	IdleTimeout        time.Duration // default 2m
	// BodyLimitExempt lists path prefixes whose handlers bound request
	// bodies themselves (the local blob store takes 50 MB audio uploads).
	BodyLimitExempt []string
	RateLimit       RateLimitConfig

	Verifier Verifier // required: every request's bearer token is checked with it
	// Waiter is the projection runtime; nil means no X-Min-Position waits.
	Waiter Waiter
	// Pool stores Idempotency-Key answers; nil turns the Idempotency-Key
	// header into a no-op.
	Pool *pgxpool.Pool
	// IdempotencyExclude lists path prefixes whose POSTs are never stored.
	// Default "/v1/auth/": their answers carry fresh session tokens, which
	// must not sit in plain text in a table for a day.
	IdempotencyExclude []string
	// Metrics, when set, gets the HTTP request metrics and is served at
	// GET /metrics (Prometheus text format) with whatever else is in it.
	Metrics *prometheus.Registry
	// Ready are the checks of GET /readyz (none: always ready).
	Ready []ReadyCheck
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = ":7554"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://localhost:7554"
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 11 << 20
	}
	if c.ConsistencyTimeout == 0 {
		c.ConsistencyTimeout = 2 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 15 * time.Second
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.RateLimit.MaxClients == 0 {
		c.RateLimit.MaxClients = 10000
	}
	if c.IdempotencyExclude == nil {
		c.IdempotencyExclude = []string{"/v1/auth/"}
	}
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("httpapi: addr %q: %w", c.Addr, err))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("httpapi: public URL %q must be an absolute http(s) URL", c.PublicURL))
	}
	for _, o := range c.FrontendOrigins {
		if _, err := normalizeOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("httpapi: max body bytes must be at least 1024, got %d", c.MaxBodyBytes))
	}
	if c.ConsistencyTimeout < 0 || c.ShutdownTimeout < 0 || c.ReadHeaderTimeout < 0 || c.IdleTimeout < 0 {
		errs = append(errs, errors.New("httpapi: timeouts must not be negative"))
	}
	if c.RateLimit.MaxClients < 1 {
		errs = append(errs, fmt.Errorf("httpapi: rate limit max clients must be positive, got %d", c.RateLimit.MaxClients))
	}
	if c.Verifier == nil {
		errs = append(errs, errors.New("httpapi: a token verifier is required"))
	}
	return errors.Join(errs...)
}

// Server is the HTTP server of the API.
type Server struct {
	cfg    Config
	logger *slog.Logger
	engine *gin.Engine
	set    *settings
}

// New builds the engine with every global middleware, the 404 answer and
// the health endpoint. Add routes on Engine(), then serve Handler() or Run.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		return nil, errors.New("httpapi: a logger is required")
	}
	origins, anyOrigin := map[string]bool{}, false
	for _, o := range cfg.FrontendOrigins {
		n, _ := normalizeOrigin(o)
		if n == "*" {
			anyOrigin = true
		}
		origins[n] = true
	}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Redirects lose POST bodies and break CORS preflights: Handler() strips
	// a trailing slash instead, and an unknown method is a plain 404.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = false
	// Let *gin.Context act as a context.Context of the request.
	e.ContextWithFallback = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("httpapi: trusted proxies: %w", err)
	}

	s := &Server{cfg: cfg, logger: logger, engine: e, set: &settings{
		logger:             logger,
		consistencyTimeout: cfg.ConsistencyTimeout,
		rateLimit:          cfg.RateLimit,
	}}
	var observe gin.HandlerFunc = func(c *gin.Context) { c.Next() }
	if cfg.Metrics != nil {
		m, err := newHTTPMetrics(cfg.Metrics)
		if err != nil {
			return nil, err
		}
		observe = m.observe
	}
	e.Use(
		observe,
		s.requestID,
		s.accessLog,
		s.recovery,
		cors(origins, anyOrigin),
		s.limitBody,
		s.authenticate,
		s.minPosition,
		s.idempotency,
	)
	e.NoRoute(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "Route not found"})
	})
	e.GET("/", health)
	s.mountObservability()
	return s, nil
}

// Engine is where endpoints are added.
func (s *Server) Engine() *gin.Engine { return s.engine }

// Handler serves the API. A trailing slash is removed before routing, so
// `/v1/collection/` is answered by the `/v1/collection` route without a
// redirect; `/` stays `/`.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			r.URL.Path = "/" + strings.Trim(p, "/")
			if r.URL.RawPath != "" {
				r.URL.RawPath = "/" + strings.Trim(r.URL.RawPath, "/")
			}
		}
		s.engine.ServeHTTP(w, r)
	})
}

// Run listens on cfg.Addr and serves until ctx is done, then drains
// in-flight requests (at most ShutdownTimeout) and returns.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("httpapi: listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened (tests use port 0).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		// In-flight requests keep their context while draining; only a
		// forced close cancels them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	purgeDone := make(chan struct{})
	purgeCtx, stopPurge := context.WithCancel(ctx)
	go func() {
		defer close(purgeDone)
		s.purgeIdempotencyLoop(purgeCtx)
	}()
	defer func() {
		stopPurge()
		<-purgeDone
	}()
	s.logger.Info("http server listening", "addr", ln.Addr().String(), "public_url", s.cfg.PublicURL)

	select {
	case err := <-served:
		return fmt.Errorf("httpapi: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	<-served // http.ErrServerClosed once Shutdown began
	if err != nil {
		srv.Close()
		return fmt.Errorf("httpapi: shutdown: requests still running after %v were cut: %w", s.cfg.ShutdownTimeout, err)
	}
	s.logger.Info("http server stopped")
	return nil
}

func health(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"msg": "Server is healthy", "last_checked": time.Now().UTC().Format(time.RFC3339)})
}

// settings are what package-level helpers (Error, Written, RateLimit) need
// from the server; the first middleware puts them in every request.
type settings struct {
	logger             *slog.Logger
	consistencyTimeout time.Duration
	rateLimit          RateLimitConfig
}

type ctxKey int

const (
	keySettings ctxKey = iota
	keyRequestID
	keyPrincipal
	keySessionID
	keyAuthError
	keyErrorMessage
	keyForm
	keyFormErr
)

func settingsOf(c *gin.Context) *settings {
	if v, ok := c.Get(keySettings); ok {
		return v.(*settings)
	}
	// A handler run on an engine without the server's middleware (a test of
	// another package): the defaults, logging to the default logger.
	return &settings{logger: slog.Default(), consistencyTimeout: 2 * time.Second, rateLimit: RateLimitConfig{MaxClients: 10000}}
}

// Logger is the server's logger with the request id attached.
func Logger(c *gin.Context) *slog.Logger {
	return settingsOf(c).logger.With("request_id", RequestID(c))
}
