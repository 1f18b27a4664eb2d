// Package google is the OpenID Connect client behind "Sign in with Google":
// discovery of the issuer, the authorization URL (state, nonce, PKCE S256),
// the code exchange and the verification of the ID token (signature against
// the issuer's published keys, issuer, audience, expiry, nonce). It speaks to
// any OpenID Connect issuer; tests run a local one.
package google

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultIssuer is Google's.
const DefaultIssuer = "https://accounts.google.com"

// Config says which client we are and where the issuer sends users back.
type Config struct {
	ClientID     string // GOOGLE_CLIENT_ID
	ClientSecret string // GOOGLE_CLIENT_SECRET
	Issuer       string // GOOGLE_ISSUER, default DefaultIssuer
	// RedirectURL is <PUBLIC_URL>/v1/auth/oauth/callback; it must be
	// registered with the issuer exactly.
	RedirectURL string
	// HTTPClient talks to the issuer (default: a 10 s timeout).
	HTTPClient *http.Client
}

func (c *Config) setDefaults() {
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("google: client id and client secret are required"))
	}
	for name, v := range map[string]string{"issuer": c.Issuer, "redirect URL": c.RedirectURL} {
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("google: %s %q is not an absolute http(s) URL", name, v))
		}
	}
	return errors.Join(errs...)
}

// Failures of Exchange. Their text never holds the code or a token.
var (
	// ErrDiscovery: the issuer's discovery document could not be had.
	ErrDiscovery = errors.New("google: issuer discovery failed")
	// ErrExchange: the issuer refused the code (unknown, used, wrong
	// verifier) or could not be reached.
	ErrExchange = errors.New("google: code exchange failed")
	// ErrInvalidToken: the ID token is missing, badly signed, expired, for
	// another client or issuer, or carries another nonce.
	ErrInvalidToken = errors.New("google: invalid ID token")
)

// Identity is who the issuer says signed in.
type Identity struct {
	Subject       string // stable account id at the issuer ("sub")
	Email         string
	EmailVerified bool
	Name          string
}

// Client is the OpenID Connect relying party. Safe for concurrent use.
type Client struct {
	cfg    Config
	logger *slog.Logger

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New makes a client. It does not touch the network: the issuer is
// discovered on first use, so a server without network still starts.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, logger: logger}, nil
}

// discover fetches the discovery document once and keeps the result; a
// failure is not kept, so the next sign-in tries again.
func (c *Client) discover() (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.oauth != nil {
		return c.oauth, c.verifier, nil
	}
	// Not the request's context: the provider keeps this one to refresh the
	// issuer's keys later, long after the request ended. The client's timeout
	// bounds the wait.
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), c.cfg.HTTPClient), c.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrDiscovery, c.cfg.Issuer, err)
	}
	ep := p.Endpoint()
	// Client credentials in the form body: one request, accepted by Google
	// and by every issuer we test against (no auth-style probing).
	ep.AuthStyle = oauth2.AuthStyleInParams
	c.oauth = &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		Endpoint:     ep,
		RedirectURL:  c.cfg.RedirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
	// Issuer, audience (our client id), expiry and signature are checked by
	// the verifier against the keys the issuer publishes (jwks_uri).
	c.verifier = p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID})
	c.logger.Info("google: issuer discovered", "issuer", c.cfg.Issuer)
	return c.oauth, c.verifier, nil
}

// AuthURL is the issuer's authorization URL for one sign-in: response type
// code, our client id and redirect URL, scope "openid email profile", the
// state, the nonce, and the S256 challenge of verifier.
func (c *Client) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	conf, _, err := c.discover()
	if err != nil {
		return "", err
	}
	return conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange trades a code for tokens (proving PKCE with verifier) and
// verifies the ID token, whose nonce must be nonce. Errors wrap ErrDiscovery,
// ErrExchange or ErrInvalidToken.
func (c *Client) Exchange(ctx context.Context, code, verifier, nonce string) (Identity, error) {
	conf, idv, err := c.discover()
	if err != nil {
		return Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, c.cfg.HTTPClient)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		// Only the OAuth error code: a body may echo the code back.
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			return Identity{}, fmt.Errorf("%w: status %d %s", ErrExchange, status, re.ErrorCode)
		}
		if errors.Is(err, context.Canceled) {
			return Identity{}, err
		}
		return Identity{}, fmt.Errorf("%w: %s", ErrExchange, redactURLError(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: the token answer has no id_token", ErrInvalidToken)
	}
	idt, err := idv.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	// The nonce ties the token to the browser session that started the
	// sign-in: a token minted for another sign-in is refused.
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return Identity{}, fmt.Errorf("%w: nonce mismatch", ErrInvalidToken)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	if idt.Subject == "" {
		return Identity{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	return Identity{Subject: idt.Subject, Email: claims.Email, EmailVerified: truthy(claims.EmailVerified),
		Name: claims.Name}, nil
}

// truthy reads email_verified, which some Google tokens carry as the
// string "true" instead of a JSON boolean.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// redactURLError drops the URL (and so any query) from a transport error.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
