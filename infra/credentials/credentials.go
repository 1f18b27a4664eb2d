// Package credentials keeps what must never enter the event log: emails,
// password hashes, Google subjects and refresh-token sessions, in ordinary
// PostgreSQL tables.
package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/postgres"
)

// Store is the PostgreSQL credential and session store.
type Store struct {
	pool *pgxpool.Pool
}

// New makes a store on pool (tables from migration 00005).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// NormalizeEmail is the one form emails are compared and kept in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ErrEmailTaken is a conflict: another account has that email.
var ErrEmailTaken = domain.Conflict("User already registered")

// Create adds an account's credentials.
func (s *Store) Create(ctx context.Context, c domain.Credential) error {
	var hash, sub *string
	if c.PasswordHash != "" {
		hash = &c.PasswordHash
	}
	if c.GoogleSubject != "" {
		sub = &c.GoogleSubject
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO credentials (user_id, email, password_hash, google_sub, email_verified)
		VALUES ($1, $2, $3, $4, $5)`, c.UserID, NormalizeEmail(c.Email), hash, sub, c.EmailVerified)
	if isUniqueViolation(err) {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("credentials: create: %w", err)
	}
	return nil
}

// ByEmail finds an account by email (any letter case).
func (s *Store) ByEmail(ctx context.Context, email string) (domain.Credential, error) {
	return s.one(ctx, `WHERE lower(email) = $1`, NormalizeEmail(email))
}

// ByUserID finds an account by user id.
func (s *Store) ByUserID(ctx context.Context, userID string) (domain.Credential, error) {
	return s.one(ctx, `WHERE user_id = $1`, userID)
}

// ByGoogleSubject finds the account linked to a Google subject.
func (s *Store) ByGoogleSubject(ctx context.Context, sub string) (domain.Credential, error) {
	if sub == "" {
		return domain.Credential{}, domain.NotFound("User does not exist")
	}
	return s.one(ctx, `WHERE google_sub = $1`, sub)
}

// ErrGoogleLinked is a conflict: the account is already linked to another
// Google subject, or the subject to another account.
var ErrGoogleLinked = domain.Conflict("Account is linked to another Google account")

// LinkGoogle links a Google subject to an account and marks its email
// verified: only called after Google vouched for that very email. An account
// linked to another subject is left alone (ErrGoogleLinked).
func (s *Store) LinkGoogle(ctx context.Context, userID, sub string) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var verified bool
		err := tx.QueryRow(ctx, `SELECT email_verified FROM credentials WHERE user_id = $1 FOR UPDATE`, userID).Scan(&verified)
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.NotFound("User does not exist")
		}
		if err != nil {
			return fmt.Errorf("credentials: link google: %w", err)
		}
		tag, err := tx.Exec(ctx, `UPDATE credentials SET google_sub = $2, email_verified = true, updated_at = now()
			WHERE user_id = $1 AND (google_sub IS NULL OR google_sub = $2)`, userID, sub)
		if isUniqueViolation(err) {
			return ErrGoogleLinked
		}
		if err != nil {
			return fmt.Errorf("credentials: link google: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrGoogleLinked
		}
		if verified {
			return nil
		}
		// Nobody proved owning this email before Google did: whoever set
		// the password may have registered someone else's address to wait
		// for them. The password and every session made with it end here;
		// the real owner signs in with Google and may set a new password.
		if _, err := tx.Exec(ctx, `UPDATE credentials SET password_hash = NULL WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("credentials: clear unverified password: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoke_reason = 'email verified by Google'
			WHERE user_id = $1 AND revoked_at IS NULL`, userID); err != nil {
			return fmt.Errorf("credentials: revoke unverified sessions: %w", err)
		}
		return nil
	})
}

func (s *Store) one(ctx context.Context, where string, arg any) (domain.Credential, error) {
	var c domain.Credential
	var hash, sub *string
	err := s.pool.QueryRow(ctx, `SELECT user_id::text, email, password_hash, google_sub, email_verified
		FROM credentials `+where, arg).Scan(&c.UserID, &c.Email, &hash, &sub, &c.EmailVerified)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, domain.NotFound("User does not exist")
	}
	if err != nil {
		return c, fmt.Errorf("credentials: lookup: %w", err)
	}
	if hash != nil {
		c.PasswordHash = *hash
	}
	if sub != nil {
		c.GoogleSubject = *sub
	}
	return c, nil
}

// SetEmail changes an account's email.
func (s *Store) SetEmail(ctx context.Context, userID, email string) error {
	_, err := s.pool.Exec(ctx, `UPDATE credentials SET email = $2, email_verified = false, updated_at = now() WHERE user_id = $1`,
		userID, NormalizeEmail(email))
	if isUniqueViolation(err) {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("credentials: set email: %w", err)
	}
	return nil
}

// SetPassword changes an account's password hash and revokes every session
// but keep (the one the change was made from), so a stolen session dies with
// the old password.
func (s *Store) SetPassword(ctx context.Context, userID, hash, keepSession string) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1`, userID, hash); err != nil {
			return fmt.Errorf("credentials: set password: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoke_reason = 'password changed'
			WHERE user_id = $1 AND revoked_at IS NULL AND id::text <> $2`, userID, keepSession); err != nil {
			return fmt.Errorf("credentials: revoke sessions: %w", err)
		}
		return nil
	})
}

// Delete removes an account's credentials and, by cascade, its sessions.
func (s *Store) Delete(ctx context.Context, userID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM credentials WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("credentials: delete: %w", err)
	}
	return nil
}

// StartSession opens a refresh session whose first token has hash refreshHash.
func (s *Store) StartSession(ctx context.Context, userID string, refreshHash []byte, ttl time.Duration) (string, error) {
	id := uuid.NewString()
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, $3)`,
			id, userID, time.Now().Add(ttl)); err != nil {
			return fmt.Errorf("credentials: start session: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, refreshHash, id); err != nil {
			return fmt.Errorf("credentials: store refresh token: %w", err)
		}
		return nil
	})
	return id, err
}

// Refresh-token failures; all are 401 to the client.
var (
	ErrRefreshUnknown = domain.Errorf(domain.ErrUnauthorized, "Invalid refresh token")
	ErrRefreshRevoked = domain.Errorf(domain.ErrUnauthorized, "Refresh token revoked or expired")
	ErrRefreshReused  = domain.Errorf(domain.ErrUnauthorized, "Refresh token already used: the session has been revoked")
)

// Rotate uses up the refresh token with hash oldHash and stores newHash as
// the session's next one. A token presented a second time revokes its whole
// session: either the client or a thief holds a copy, and we cannot tell which.
func (s *Store) Rotate(ctx context.Context, oldHash, newHash []byte) (userID, sessionID string, err error) {
	reused := false
	err = postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var usedAt, revokedAt *time.Time
		var expiresAt time.Time
		err := tx.QueryRow(ctx, `SELECT s.id::text, s.user_id::text, s.expires_at, s.revoked_at, t.used_at
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
			WHERE t.token_hash = $1 FOR UPDATE OF t, s`, oldHash).Scan(&sessionID, &userID, &expiresAt, &revokedAt, &usedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrRefreshUnknown
		}
		if err != nil {
			return fmt.Errorf("credentials: rotate: %w", err)
		}
		if revokedAt != nil || time.Now().After(expiresAt) {
			return ErrRefreshRevoked
		}
		if usedAt != nil {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoke_reason = 'refresh token reused' WHERE id = $1`, sessionID); err != nil {
				return fmt.Errorf("credentials: revoke reused session: %w", err)
			}
			reused = true
			return nil // commit the revocation, then answer 401
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1`, oldHash); err != nil {
			return fmt.Errorf("credentials: use refresh token: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, newHash, sessionID); err != nil {
			return fmt.Errorf("credentials: store refresh token: %w", err)
		}
		return nil
	})
	if err == nil && reused {
		err = ErrRefreshReused
	}
	if err != nil {
		return "", "", err
	}
	return userID, sessionID, nil
}

// RevokeSession ends a session (sign-out): its refresh tokens stop working.
func (s *Store) RevokeSession(ctx context.Context, sessionID string) error {
	if _, err := uuid.Parse(sessionID); err != nil {
		return nil // not a session of ours: nothing to revoke
	}
	if _, err := s.pool.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoke_reason = 'signed out'
		WHERE id = $1 AND revoked_at IS NULL`, sessionID); err != nil {
		return fmt.Errorf("credentials: revoke session: %w", err)
	}
	return nil
}

// SessionActive reports whether a session exists and is neither revoked nor expired.
func (s *Store) SessionActive(ctx context.Context, sessionID string) (bool, error) {
	if _, err := uuid.Parse(sessionID); err != nil {
		return false, nil
	}
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > now())`,
		sessionID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("credentials: session: %w", err)
	}
	return ok, nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
