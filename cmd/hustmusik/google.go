package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hustmusik/backend/commands"
	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/credentials"
	"github.com/hustmusik/backend/infra/google"
)

// newGoogle wires Google sign-in. Without GOOGLE_CLIENT_ID it is wired with
// no provider and answers "not configured"; with one, the issuer is only
// contacted on the first sign-in, so serve starts without network.
func newGoogle(cfg config.Config, e *env, identity *commands.Identity, logger *slog.Logger) (*commands.Google, error) {
	states, err := google.NewStates(e.pool, google.DefaultStateTTL)
	if err != nil {
		return nil, err
	}
	var provider commands.GoogleProvider
	if cfg.GoogleClientID != "" {
		client, err := google.New(google.Config{
			ClientID:     cfg.GoogleClientID,
			ClientSecret: cfg.GoogleSecret,
			Issuer:       cfg.GoogleIssuer,
			RedirectURL:  cfg.PublicURL + "/v1/auth/oauth/callback",
		}, logger)
		if err != nil {
			return nil, err
		}
		provider = googleProvider{client}
	}
	return commands.NewGoogle(commands.GoogleConfig{FrontendOrigins: cfg.FrontendOrigins},
		identity, provider, states, credentials.New(e.pool))
}

// googleProvider adapts the OpenID Connect client to the commands port,
// translating its errors into the port's.
type googleProvider struct{ client *google.Client }

func (p googleProvider) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	u, err := p.client.AuthURL(ctx, state, nonce, verifier)
	if errors.Is(err, google.ErrDiscovery) {
		return "", fmt.Errorf("%w: %w", commands.ErrGoogleUnreachable, err)
	}
	return u, err
}

func (p googleProvider) Exchange(ctx context.Context, code, verifier, nonce string) (commands.GoogleIdentity, error) {
	id, err := p.client.Exchange(ctx, code, verifier, nonce)
	switch {
	case errors.Is(err, google.ErrInvalidToken):
		return commands.GoogleIdentity{}, fmt.Errorf("%w: %w", commands.ErrGoogleToken, err)
	case errors.Is(err, google.ErrExchange), errors.Is(err, google.ErrDiscovery):
		return commands.GoogleIdentity{}, fmt.Errorf("%w: %w", commands.ErrGoogleExchange, err)
	case err != nil:
		return commands.GoogleIdentity{}, err
	}
	return commands.GoogleIdentity{Subject: id.Subject, Email: id.Email, EmailVerified: id.EmailVerified, Name: id.Name}, nil
}
