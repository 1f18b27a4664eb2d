package commands

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/images"
)

// Ports the identity commands need. Their implementations live in infra
// (credentials, password, token) and are wired in cmd/hustmusik.
type (
	// Credentials keeps emails, password hashes and refresh sessions.
	Credentials interface {
		Create(ctx context.Context, c domain.Credential) error
		ByEmail(ctx context.Context, email string) (domain.Credential, error)
		ByUserID(ctx context.Context, userID string) (domain.Credential, error)
		SetEmail(ctx context.Context, userID, email string) error
		SetPassword(ctx context.Context, userID, hash, keepSession string) error
		Delete(ctx context.Context, userID string) error
		StartSession(ctx context.Context, userID string, refreshHash []byte, ttl time.Duration) (string, error)
		Rotate(ctx context.Context, oldHash, newHash []byte) (userID, sessionID string, err error)
		RevokeSession(ctx context.Context, sessionID string) error
	}
	// Passwords hashes and checks passwords (argon2id).
	Passwords interface {
		Hash(password string) (string, error)
		Verify(password, encoded string) (ok, needsRehash bool, err error)
		// VerifyDummy spends the time of a Verify, for unknown emails.
		VerifyDummy(password string)
	}
	// Tokens issues access tokens and refresh tokens.
	Tokens interface {
		Issue(userID, role, sessionID string) (token string, expiresIn int, err error)
		NewRefresh() (plain string, hash []byte)
		HashRefresh(plain string) []byte
	}
)

// IdentityConfig tunes the identity commands.
type IdentityConfig struct {
	// AdminEmails are made Admin on sign-up and sign-in (ADMIN_EMAILS).
	AdminEmails []string
	// SessionTTL is how long a refresh session lives (default 30 days).
	SessionTTL time.Duration
	// MinPasswordLength defaults to 6.
	MinPasswordLength int
}

func (c *IdentityConfig) setDefaults() {
	if c.SessionTTL == 0 {
		c.SessionTTL = 30 * 24 * time.Hour
	}
	if c.MinPasswordLength == 0 {
		c.MinPasswordLength = 6
	}
}

// Identity handles sign-up, sign-in, sessions, profiles and roles.
type Identity struct {
	cfg    IdentityConfig
	users  *Repository[*domain.User]
	creds  Credentials
	pw     Passwords
	tokens Tokens
	admins map[string]bool
	media  *Media // avatars; nil refuses image uploads
}

// NewIdentity wires the identity commands.
func NewIdentity(cfg IdentityConfig, store eventstore.Store, creds Credentials, pw Passwords, tokens Tokens) (*Identity, error) {
	cfg.setDefaults()
	var errs []error
	if store == nil || creds == nil || pw == nil || tokens == nil {
		errs = append(errs, errors.New("identity: store, credentials, passwords and tokens are required"))
	}
	admins := map[string]bool{}
	for _, e := range cfg.AdminEmails {
		if e = normalizeEmail(e); e != "" {
			admins[e] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Identity{cfg: cfg, users: NewRepository(store, domain.UserStream, domain.NewUser),
		creds: creds, pw: pw, tokens: tokens, admins: admins}, nil
}

// UseMedia lets identity store avatars and delete a deleted user's. Call
// it before serving.
func (h *Identity) UseMedia(m *Media) { h.media = m }

// AuthUser is the user object of auth answers.
type AuthUser struct {
	ID            string      `json:"id"`
	Aud           string      `json:"aud"`
	Username      string      `json:"username"`
	Role          domain.Role `json:"role"`
	EmailVerified bool        `json:"email_verified"`
}

// Session is the session object of auth answers.
type Session struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// AuthResult is what sign-up, sign-in and renewal answer.
type AuthResult struct {
	User    AuthUser `json:"user"`
	Session Session  `json:"session"`
	Written Written  `json:"-"`
}

// SignUp is the Register User command.
type SignUp struct {
	Email, Password, Username, Country, AvatarURL string
	// Avatar, when not nil, is stored and its URL replaces AvatarURL.
	Avatar *Image
}

// ErrBadCredentials is the one answer to a failed sign-in, whether or not
// the email exists, so that sign-in reveals nothing about who has an account.
var ErrBadCredentials = domain.Invalid("Invalid login credentials")

// SignUp creates an account and signs it in.
func (h *Identity) SignUp(ctx context.Context, cmd SignUp) (AuthResult, error) {
	return h.signUp(ctx, uuid.NewString(), cmd)
}

// signUp is SignUp with the new user's id chosen by the caller, so that
// the avatar can be stored under it before the account is written.
func (h *Identity) signUp(ctx context.Context, id string, cmd SignUp) (AuthResult, error) {
	email := normalizeEmail(cmd.Email)
	if email == "" {
		return AuthResult{}, domain.Invalid("Email is required")
	}
	if err := validateEmail(email); err != nil {
		return AuthResult{}, err
	}
	if err := h.validatePassword(cmd.Password); err != nil {
		return AuthResult{}, err
	}
	hash, err := h.pw.Hash(cmd.Password)
	if err != nil {
		return AuthResult{}, err
	}
	username := strings.TrimSpace(cmd.Username)
	if username == "" {
		// Never derived from the email: a profile is public, an email is not.
		username = "listener-" + id[:8]
	}
	role := domain.RoleUser
	if h.admins[email] {
		role = domain.RoleAdmin
	}
	// Validate the profile before anything is written.
	avatar := cmd.AvatarURL
	if cmd.Avatar != nil {
		avatar = pendingImageURL
	}
	probe := domain.NewUser(id)
	if err := probe.Register(username, cmd.Country, avatar, role, "password"); err != nil {
		return AuthResult{}, err
	}
	var w Written
	err = h.media.withImage(ctx, cmd.Avatar, images.KindUsers, id, nil, func(url *string) error {
		avatar = cmd.AvatarURL
		if url != nil {
			avatar = *url
		}
		if err := h.creds.Create(ctx, domain.Credential{UserID: id, Email: email, PasswordHash: hash}); err != nil {
			return err
		}
		var err error
		w, err = h.users.Update(ctx, id, func(u *domain.User) error {
			return u.Register(username, cmd.Country, avatar, role, "password")
		})
		if err != nil {
			// Without its UserRegistered event the account does not exist: free
			// the email again so the person can retry.
			if derr := h.creds.Delete(context.WithoutCancel(ctx), id); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		return err
	})
	if err != nil {
		return AuthResult{}, err
	}
	res, err := h.startSession(ctx, id, username, role, false)
	res.Written = w
	return res, err
}

// SignIn checks an email and password and opens a session.
func (h *Identity) SignIn(ctx context.Context, email, password string) (AuthResult, error) {
	email = normalizeEmail(email)
	if email == "" || password == "" {
		return AuthResult{}, domain.Invalid("Email and password are required")
	}
	cred, err := h.creds.ByEmail(ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		h.pw.VerifyDummy(password)
		return AuthResult{}, ErrBadCredentials
	}
	if err != nil {
		return AuthResult{}, err
	}
	if cred.PasswordHash == "" { // a Google-only account
		h.pw.VerifyDummy(password)
		return AuthResult{}, ErrBadCredentials
	}
	ok, needsRehash, err := h.pw.Verify(password, cred.PasswordHash)
	if err != nil {
		return AuthResult{}, err
	}
	if !ok {
		return AuthResult{}, ErrBadCredentials
	}
	if needsRehash {
		if hash, err := h.pw.Hash(password); err == nil {
			_ = h.creds.SetPassword(ctx, cred.UserID, hash, "") // best effort; the old hash still works
		}
	}
	var w Written
	if h.admins[email] {
		if w, err = h.users.Update(ctx, cred.UserID, func(u *domain.User) error {
			return u.ChangeRole(domain.RoleAdmin, SystemPrincipal)
		}); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return AuthResult{}, err
		}
	}
	u, err := h.users.Load(ctx, cred.UserID)
	if err != nil {
		return AuthResult{}, err
	}
	if !u.Exists() {
		return AuthResult{}, ErrBadCredentials
	}
	res, err := h.startSession(ctx, u.ID, u.Username, u.Role, cred.EmailVerified)
	res.Written = w
	return res, err
}

// SystemPrincipal acts for the operator (CLI, ADMIN_EMAILS): an Admin.
var SystemPrincipal = domain.Principal{UserID: "system", Role: domain.RoleAdmin}

func (h *Identity) startSession(ctx context.Context, userID, username string, role domain.Role, verified bool) (AuthResult, error) {
	plain, hash := h.tokens.NewRefresh()
	sessionID, err := h.creds.StartSession(ctx, userID, hash, h.cfg.SessionTTL)
	if err != nil {
		return AuthResult{}, err
	}
	access, expiresIn, err := h.tokens.Issue(userID, string(role), sessionID)
	if err != nil {
		return AuthResult{}, fmt.Errorf("issue access token: %w", err)
	}
	return AuthResult{
		User:    AuthUser{ID: userID, Aud: "authenticated", Username: username, Role: role, EmailVerified: verified},
		Session: Session{AccessToken: access, ExpiresIn: expiresIn, RefreshToken: plain},
	}, nil
}

// Renew rotates a refresh token: the old one is used up, a new pair issued.
func (h *Identity) Renew(ctx context.Context, refresh string) (AuthResult, error) {
	refresh = strings.TrimSpace(refresh)
	if refresh == "" {
		return AuthResult{}, domain.Errorf(domain.ErrUnauthorized, "Missing refresh token")
	}
	plain, newHash := h.tokens.NewRefresh()
	userID, sessionID, err := h.creds.Rotate(ctx, h.tokens.HashRefresh(refresh), newHash)
	if err != nil {
		return AuthResult{}, err
	}
	u, err := h.users.Load(ctx, userID)
	if err != nil {
		return AuthResult{}, err
	}
	if !u.Exists() {
		_ = h.creds.RevokeSession(ctx, sessionID)
		return AuthResult{}, domain.Errorf(domain.ErrUnauthorized, "Refresh token revoked or expired")
	}
	cred, err := h.creds.ByUserID(ctx, userID)
	if err != nil {
		return AuthResult{}, err
	}
	access, expiresIn, err := h.tokens.Issue(userID, string(u.Role), sessionID)
	if err != nil {
		return AuthResult{}, fmt.Errorf("issue access token: %w", err)
	}
	return AuthResult{
		User:    AuthUser{ID: userID, Aud: "authenticated", Username: u.Username, Role: u.Role, EmailVerified: cred.EmailVerified},
		Session: Session{AccessToken: access, ExpiresIn: expiresIn, RefreshToken: plain},
	}, nil
}

// SignOut revokes the caller's session.
func (h *Identity) SignOut(ctx context.Context, sessionID string) error {
	return h.creds.RevokeSession(ctx, sessionID)
}

// ChangeCredentials is the Update User Credentials command.
type ChangeCredentials struct {
	Email           *string
	Password        *string
	CurrentPassword string
	SessionID       string // kept alive when the password changes
}

// ChangeCredentials changes the caller's email and/or password.
func (h *Identity) ChangeCredentials(ctx context.Context, by domain.Principal, cmd ChangeCredentials) (Written, error) {
	if cmd.Email == nil && cmd.Password == nil {
		return Written{}, domain.Invalid("Payload must have at least one field")
	}
	cred, err := h.creds.ByUserID(ctx, by.UserID)
	if err != nil {
		return Written{}, err
	}
	var newEmail, newHash string
	if cmd.Email != nil {
		newEmail = normalizeEmail(*cmd.Email)
		if err := validateEmail(newEmail); err != nil {
			return Written{}, err
		}
	}
	if cmd.Password != nil {
		if err := h.validatePassword(*cmd.Password); err != nil {
			return Written{}, err
		}
		if cred.PasswordHash != "" {
			if cmd.CurrentPassword == "" {
				return Written{}, domain.Invalid("current_password is required to change the password")
			}
			ok, _, err := h.pw.Verify(cmd.CurrentPassword, cred.PasswordHash)
			if err != nil {
				return Written{}, err
			}
			if !ok {
				return Written{}, domain.Invalid("Current password is incorrect")
			}
		}
		if newHash, err = h.pw.Hash(*cmd.Password); err != nil {
			return Written{}, err
		}
	}
	emailChanged := cmd.Email != nil && newEmail != cred.Email
	if emailChanged {
		if err := h.creds.SetEmail(ctx, by.UserID, newEmail); err != nil {
			return Written{}, err
		}
	}
	if cmd.Password != nil {
		if err := h.creds.SetPassword(ctx, by.UserID, newHash, cmd.SessionID); err != nil {
			return Written{}, err
		}
	}
	return h.users.Update(ctx, by.UserID, func(u *domain.User) error {
		return u.CredentialsChanged(emailChanged, cmd.Password != nil)
	})
}

// ProfileView is a user's profile as a write answers it.
type ProfileView struct {
	ID        string      `json:"id"`
	Username  string      `json:"username"`
	AvatarURL string      `json:"avatarurl"`
	Country   string      `json:"country"`
	Role      domain.Role `json:"role"`
}

func profileOf(u *domain.User) ProfileView {
	return ProfileView{ID: u.ID, Username: u.Username, AvatarURL: u.AvatarURL, Country: u.Country, Role: u.Role}
}

// UpdateProfile changes the caller's own profile (a role field is never
// read); img (may be nil) becomes the avatar.
func (h *Identity) UpdateProfile(ctx context.Context, by domain.Principal, p domain.Profile, img *Image) (ProfileView, Written, error) {
	var view ProfileView
	var w Written
	err := h.media.withImage(ctx, img, images.KindUsers, by.UserID, func() error {
		u, err := h.users.Load(ctx, by.UserID)
		if err != nil {
			return err
		}
		probe := p
		probe.AvatarURL = pendingImage()
		return u.ChangeProfile(probe)
	}, func(url *string) error {
		if url != nil {
			p.AvatarURL = url
		}
		var err error
		w, err = h.users.Update(ctx, by.UserID, func(u *domain.User) error {
			if err := u.ChangeProfile(p); err != nil {
				return err
			}
			view = profileOf(u)
			return nil
		})
		return err
	})
	return view, w, err
}

// SetRole changes a user's role; by must be an Admin.
func (h *Identity) SetRole(ctx context.Context, by domain.Principal, userID string, role domain.Role) (ProfileView, Written, error) {
	if !by.IsAdmin() { // checked before anything is loaded
		return ProfileView{}, Written{}, domain.Forbidden("Only an Admin can change a role")
	}
	var view ProfileView
	w, err := h.users.Update(ctx, userID, func(u *domain.User) error {
		if err := u.ChangeRole(role, by); err != nil {
			return err
		}
		view = profileOf(u)
		return nil
	})
	return view, w, err
}

// SetRoleByEmail is the CLI's `user set-role --email`.
func (h *Identity) SetRoleByEmail(ctx context.Context, email string, role domain.Role) (Written, error) {
	cred, err := h.creds.ByEmail(ctx, email)
	if err != nil {
		return Written{}, err
	}
	_, w, err := h.SetRole(ctx, SystemPrincipal, cred.UserID, role)
	return w, err
}

// DeleteUser deletes an account: its UserDeleted event, then its credentials
// and sessions. Admins only.
func (h *Identity) DeleteUser(ctx context.Context, by domain.Principal, userID string) (Written, error) {
	if !by.IsAdmin() {
		return Written{}, domain.Forbidden("Only an Admin can delete a user")
	}
	w, err := h.users.Update(ctx, userID, func(u *domain.User) error { return u.Delete(by) })
	if err != nil {
		return Written{}, err
	}
	// Only once UserDeleted is in the log (see Catalog.DeleteSong).
	h.media.forgetImage(ctx, images.KindUsers, userID)
	// The event is the truth: sign-in refuses a deleted user even if this fails.
	if err := h.creds.Delete(ctx, userID); err != nil {
		return w, err
	}
	return w, nil
}

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validateEmail(email string) error {
	if len(email) > 254 || !utf8.ValidString(email) {
		return domain.Invalid("Invalid email address")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		return domain.Invalid("Invalid email address")
	}
	return nil
}

func (h *Identity) validatePassword(pw string) error {
	if pw == "" {
		return domain.Invalid("Password is required")
	}
	if utf8.RuneCountInString(pw) < h.cfg.MinPasswordLength {
		return domain.Errorf(domain.ErrValidation, "Password should be at least %d characters", h.cfg.MinPasswordLength)
	}
	if len(pw) > 1024 {
		return domain.Invalid("Password must be at most 1024 bytes")
	}
	return nil
}
