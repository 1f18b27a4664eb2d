package commands

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
)

// Ports of Google sign-in. Their implementations live in infra/google and
// infra/credentials and are wired in cmd/hustmusik.
type (
	// GoogleProvider is the OpenID Connect client.
	GoogleProvider interface {
		// AuthURL is the issuer's authorization URL carrying state, nonce
		// and the S256 challenge of verifier. An error wrapping
		// ErrGoogleUnreachable means the issuer could not be discovered.
		AuthURL(ctx context.Context, state, nonce, verifier string) (string, error)
		// Exchange trades a code for a verified ID token whose nonce is
		// nonce. Errors wrap ErrGoogleExchange or ErrGoogleToken.
		Exchange(ctx context.Context, code, verifier, nonce string) (GoogleIdentity, error)
	}
	// OAuthStates keeps started sign-ins between the two requests. Consume
	// uses a state up; an unknown, used or expired one is a domain.ErrNotFound.
	OAuthStates interface {
		Save(ctx context.Context, state, verifier, nonce, returnURL string) error
		Consume(ctx context.Context, state string) (verifier, nonce, returnURL string, err error)
	}
	// GoogleAccounts finds and links accounts by Google subject.
	GoogleAccounts interface {
		ByGoogleSubject(ctx context.Context, sub string) (domain.Credential, error)
		// LinkGoogle links sub to userID and marks its email verified; an
		// account already linked to another subject is a domain.ErrConflict.
		// When the email was not verified before, the account's password and
		// sessions end: they may belong to someone who registered another
		// person's address.
		LinkGoogle(ctx context.Context, userID, sub string) error
	}
)

// GoogleIdentity is who the issuer vouched for.
type GoogleIdentity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// What the provider's errors wrap.
var (
	ErrGoogleUnreachable = errors.New("google issuer unreachable")
	ErrGoogleExchange    = errors.New("google code exchange failed")
	ErrGoogleToken       = errors.New("google ID token rejected")
)

// ErrGoogleUnavailable is the 503 of GET /v1/auth/oauth while the issuer
// cannot be reached.
var ErrGoogleUnavailable = domain.Errorf(domain.ErrUnavailable, "Google sign-in is unavailable, please try again later")

// ErrGoogleNotConfigured is the 503 of GET /v1/auth/oauth without GOOGLE_CLIENT_ID.
var ErrGoogleNotConfigured = domain.Errorf(domain.ErrUnavailable, "Google sign-in is not configured")

// Reasons a sign-in failed, sent to the frontend as /login?error=<reason>.
const (
	ReasonNotConfigured    = "not_configured"
	ReasonInvalidState     = "invalid_state"
	ReasonExchangeFailed   = "exchange_failed"
	ReasonInvalidToken     = "invalid_token"
	ReasonEmailNotVerified = "email_not_verified"
	ReasonAccessDenied     = "access_denied"
	// ReasonAccountConflict: the account with this email is already linked
	// to another Google account.
	ReasonAccountConflict = "account_conflict"
	ReasonServerError     = "server_error"
)

// GoogleFailure is a failed sign-in: Reason is for the frontend, Err for the log.
type GoogleFailure struct {
	Reason string
	Err    error
}

func (e *GoogleFailure) Error() string {
	if e.Err == nil {
		return "google sign-in: " + e.Reason
	}
	return "google sign-in: " + e.Reason + ": " + e.Err.Error()
}

func (e *GoogleFailure) Unwrap() error { return e.Err }

func fail(reason string, err error) error { return &GoogleFailure{Reason: reason, Err: err} }

// GoogleConfig tunes Google sign-in.
type GoogleConfig struct {
	// FrontendOrigins are the origins a returnUrl may point to (FRONTEND_URL).
	FrontendOrigins []string
}

// Google is the Google sign-in commands: start a sign-in, finish it by
// finding, linking or creating the account.
type Google struct {
	id       *Identity
	provider GoogleProvider // nil: not configured
	states   OAuthStates
	accounts GoogleAccounts
	origins  []string
}

// NewGoogle wires Google sign-in. A nil provider means GOOGLE_CLIENT_ID is
// unset: every sign-in then fails with "not configured".
func NewGoogle(cfg GoogleConfig, id *Identity, provider GoogleProvider, states OAuthStates, accounts GoogleAccounts) (*Google, error) {
	var errs []error
	if id == nil || states == nil || accounts == nil {
		errs = append(errs, errors.New("google: identity, states and accounts are required"))
	}
	origins := make([]string, 0, len(cfg.FrontendOrigins))
	for _, o := range cfg.FrontendOrigins {
		n, ok := originOf(o)
		if !ok {
			errs = append(errs, fmt.Errorf("google: frontend origin %q is not an absolute http(s) URL", o))
			continue
		}
		origins = append(origins, n)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Google{id: id, provider: provider, states: states, accounts: accounts, origins: origins}, nil
}

// Configured reports whether a provider is set.
func (g *Google) Configured() bool { return g.provider != nil }

// Start begins a sign-in: a fresh state, nonce and PKCE verifier are kept
// (single use, short-lived) and the issuer's authorization URL returned.
// returnURL is kept only when SafeReturnURL accepts it.
func (g *Google) Start(ctx context.Context, returnURL string) (string, error) {
	if g.provider == nil {
		return "", ErrGoogleNotConfigured
	}
	state, nonce, verifier := randomToken(), randomToken(), randomToken()
	// Discovery first: when the issuer is unreachable nothing is stored.
	u, err := g.provider.AuthURL(ctx, state, nonce, verifier)
	if errors.Is(err, ErrGoogleUnreachable) {
		return "", errors.Join(ErrGoogleUnavailable, err)
	}
	if err != nil {
		return "", err
	}
	if err := g.states.Save(ctx, state, verifier, nonce, SafeReturnURL(returnURL, g.origins)); err != nil {
		return "", err
	}
	return u, nil
}

// GoogleResult is a finished sign-in: the session and where to go next.
type GoogleResult struct {
	AuthResult
	ReturnURL string
	// Created is true when the sign-in made a new account.
	Created bool
}

// Finish completes a sign-in from the issuer's callback. Every failure is a
// *GoogleFailure whose Reason is one of the Reason constants.
func (g *Google) Finish(ctx context.Context, code, state string) (GoogleResult, error) {
	if g.provider == nil {
		return GoogleResult{}, fail(ReasonNotConfigured, ErrGoogleNotConfigured)
	}
	verifier, nonce, returnURL, err := g.states.Consume(ctx, state)
	if errors.Is(err, domain.ErrNotFound) {
		return GoogleResult{}, fail(ReasonInvalidState, err)
	}
	if err != nil {
		return GoogleResult{}, fail(ReasonServerError, err)
	}
	if code == "" {
		return GoogleResult{}, fail(ReasonExchangeFailed, errors.New("no code in the callback"))
	}
	gid, err := g.provider.Exchange(ctx, code, verifier, nonce)
	switch {
	case errors.Is(err, ErrGoogleToken):
		return GoogleResult{}, fail(ReasonInvalidToken, err)
	case errors.Is(err, ErrGoogleExchange):
		return GoogleResult{}, fail(ReasonExchangeFailed, err)
	case err != nil:
		return GoogleResult{}, fail(ReasonServerError, err)
	}
	res, err := g.signIn(ctx, gid)
	if err != nil {
		var gf *GoogleFailure
		if errors.As(err, &gf) {
			return GoogleResult{}, err
		}
		return GoogleResult{}, fail(ReasonServerError, err)
	}
	res.ReturnURL = returnURL
	return res, nil
}

// Abandon uses up the state of a sign-in the user refused at the issuer
// (error=access_denied), so it cannot be replayed.
func (g *Google) Abandon(ctx context.Context, state string) {
	if g.provider != nil && state != "" {
		_, _, _, _ = g.states.Consume(ctx, state) // nothing to do whether it existed or not
	}
}

// signIn finds, links or creates the account of a verified Google identity.
//  1. An account linked to this subject signs in.
//  2. Else an account with the same email gets the subject linked and signs
//     in. Only because Google says the email is verified: linking on an
//     unverified email would hand any account to whoever types its email
//     into a Google profile.
//  3. Else a new account is made, with no password.
func (g *Google) signIn(ctx context.Context, gid GoogleIdentity) (GoogleResult, error) {
	email := normalizeEmail(gid.Email)
	if !gid.EmailVerified || email == "" {
		return GoogleResult{}, fail(ReasonEmailNotVerified, errors.New("the ID token's email is not verified"))
	}
	for attempt := 0; ; attempt++ {
		cred, err := g.accounts.ByGoogleSubject(ctx, gid.Subject)
		if err == nil {
			return g.existing(ctx, cred.UserID, email)
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return GoogleResult{}, err
		}
		cred, err = g.id.creds.ByEmail(ctx, email)
		if err == nil {
			if err := g.accounts.LinkGoogle(ctx, cred.UserID, gid.Subject); err != nil {
				if errors.Is(err, domain.ErrConflict) {
					return GoogleResult{}, fail(ReasonAccountConflict, err)
				}
				return GoogleResult{}, err
			}
			return g.existing(ctx, cred.UserID, email)
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return GoogleResult{}, err
		}
		res, err := g.create(ctx, gid, email)
		// A concurrent first sign-in of the same person made the account
		// between our lookups and our insert: sign in to that one instead.
		if errors.Is(err, domain.ErrConflict) && attempt == 0 {
			continue
		}
		return res, err
	}
}

func (g *Google) existing(ctx context.Context, userID, email string) (GoogleResult, error) {
	var w Written
	var err error
	if g.id.admins[email] {
		if w, err = g.id.users.Update(ctx, userID, func(u *domain.User) error {
			return u.ChangeRole(domain.RoleAdmin, SystemPrincipal)
		}); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return GoogleResult{}, err
		}
	}
	u, err := g.id.users.Load(ctx, userID)
	if err != nil {
		return GoogleResult{}, err
	}
	if !u.Exists() {
		return GoogleResult{}, fail(ReasonInvalidToken, errors.New("the linked account is deleted"))
	}
	res, err := g.id.startSession(ctx, u.ID, u.Username, u.Role, true)
	res.Written = w
	return GoogleResult{AuthResult: res}, err
}

func (g *Google) create(ctx context.Context, gid GoogleIdentity, email string) (GoogleResult, error) {
	id := uuid.NewString()
	username := usernameFromName(gid.Name)
	if username == "" {
		// Never derived from the email: a profile is public, an email is not.
		username = "listener-" + id[:8]
	}
	role := domain.RoleUser
	if g.id.admins[email] {
		role = domain.RoleAdmin
	}
	if err := domain.NewUser(id).Register(username, "", "", role, "google"); err != nil {
		return GoogleResult{}, err
	}
	if err := g.id.creds.Create(ctx, domain.Credential{UserID: id, Email: email, GoogleSubject: gid.Subject,
		EmailVerified: true}); err != nil {
		return GoogleResult{}, err
	}
	w, err := g.id.users.Update(ctx, id, func(u *domain.User) error {
		return u.Register(username, "", "", role, "google")
	})
	if err != nil {
		// Without its UserRegistered event the account does not exist.
		if derr := g.id.creds.Delete(context.WithoutCancel(ctx), id); derr != nil {
			err = errors.Join(err, derr)
		}
		return GoogleResult{}, err
	}
	res, err := g.id.startSession(ctx, id, username, role, true)
	res.Written = w
	return GoogleResult{AuthResult: res, Created: true}, err
}

// usernameFromName makes a username of the token's display name: trimmed,
// inner whitespace collapsed, at most 64 characters.
func usernameFromName(name string) string {
	if !utf8.ValidString(name) {
		return ""
	}
	name = strings.Join(strings.Fields(name), " ")
	if utf8.RuneCountInString(name) > 64 {
		name = strings.TrimSpace(string([]rune(name)[:64]))
	}
	return name
}

// SafeReturnURL returns raw when it is safe to send a signed-in browser to:
// a path on the frontend ("/playlist/1?x=y"), or an absolute http(s) URL on
// one of origins. Anything else ("//evil.example", "https://evil.example",
// "javascript:...", a backslash trick) gives "": an open redirect would let
// anyone's link carry a fresh session to a page of their choosing.
func SafeReturnURL(raw string, origins []string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 2048 || strings.Contains(raw, `\`) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" {
		return ""
	}
	if u.Scheme == "" && u.Host == "" {
		if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
			return ""
		}
		return raw
	}
	o, ok := originOf(raw)
	if !ok {
		return ""
	}
	for _, allowed := range origins {
		if n, ok := originOf(allowed); ok && n == o {
			return raw
		}
	}
	return ""
}

// originOf is "scheme://host[:port]" of an absolute http(s) URL, lower-cased.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// randomToken is 32 random bytes, base64url: a state, a nonce, or a PKCE
// verifier (43 characters, within RFC 7636's 43 to 128).
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
