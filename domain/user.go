package domain

import (
	"strings"
	"time"
)

// UserStream is the stream of one user's profile and role.
func UserStream(id string) string { return "user-" + id }

// User events. None carries an email, password hash or token: credentials
// live in ordinary tables so that deleting a user really deletes them.
type (
	UserRegistered struct {
		UserID    string `json:"user_id"`
		Username  string `json:"username"`
		Country   string `json:"country"`
		AvatarURL string `json:"avatarurl"`
		Role      Role   `json:"role"`
		// Method is how the account was made: "password" or "google".
		Method string `json:"method"`
	}
	UserProfileChanged struct {
		UserID    string  `json:"user_id"`
		Username  *string `json:"username,omitempty"`
		Country   *string `json:"country,omitempty"`
		AvatarURL *string `json:"avatarurl,omitempty"`
	}
	UserRoleChanged struct {
		UserID       string `json:"user_id"`
		Role         Role   `json:"role"`
		PreviousRole Role   `json:"previous_role"`
	}
	// UserCredentialsChanged records that the email or password changed,
	// never what they changed to.
	UserCredentialsChanged struct {
		UserID   string `json:"user_id"`
		Email    bool   `json:"email"`
		Password bool   `json:"password"`
	}
	UserDeleted struct {
		UserID string `json:"user_id"`
	}
)

func (UserRegistered) EventType() string         { return "UserRegistered" }
func (UserProfileChanged) EventType() string     { return "UserProfileChanged" }
func (UserRoleChanged) EventType() string        { return "UserRoleChanged" }
func (UserCredentialsChanged) EventType() string { return "UserCredentialsChanged" }
func (UserDeleted) EventType() string            { return "UserDeleted" }

func init() {
	register[UserRegistered]()
	register[UserProfileChanged]()
	register[UserRoleChanged]()
	register[UserCredentialsChanged]()
	register[UserDeleted]()
}

// User is the aggregate behind a listener's account: profile and role.
type User struct {
	Root
	ID        string
	Username  string
	Country   string
	AvatarURL string
	Role      Role
	Deleted   bool
	// Following is the set of followed artist ids (see follow.go).
	Following map[string]bool
	// PremiumUntil is when Premium ends (zero: never had it; see premium.go).
	PremiumUntil time.Time

	registered    bool
	premiumOrders map[string]bool
}

// NewUser is an empty aggregate for id, to be loaded or registered.
func NewUser(id string) *User { return &User{ID: id} }

// Exists reports whether the user registered and was not deleted.
func (u *User) Exists() bool { return u.registered && !u.Deleted }

// Apply folds one event into the user's state.
func (u *User) Apply(e Event) {
	switch e := e.(type) {
	case UserRegistered:
		u.ID, u.Username, u.Country, u.AvatarURL, u.Role = e.UserID, e.Username, e.Country, e.AvatarURL, e.Role
		u.registered = true
	case UserProfileChanged:
		if e.Username != nil {
			u.Username = *e.Username
		}
		if e.Country != nil {
			u.Country = *e.Country
		}
		if e.AvatarURL != nil {
			u.AvatarURL = *e.AvatarURL
		}
	case UserRoleChanged:
		u.Role = e.Role
	case UserDeleted:
		u.Deleted = true
	case PremiumExtended:
		u.applyPremium(e)
	default:
		u.applyFollow(e)
	}
}

// Profile is the changeable part of a user; nil fields stay as they are.
type Profile struct {
	Username  *string
	Country   *string
	AvatarURL *string
}

const maxUsername, maxCountry, maxURL = 64, 64, 2048

// Register opens the account.
func (u *User) Register(username, country, avatarURL string, role Role, method string) error {
	if u.registered {
		return Conflict("User already exists")
	}
	username = strings.TrimSpace(username)
	if username == "" {
		return Invalid("Username is required")
	}
	if err := validateProfile(Profile{Username: &username, Country: &country, AvatarURL: &avatarURL}); err != nil {
		return err
	}
	u.Record(u, UserRegistered{UserID: u.ID, Username: username, Country: strings.TrimSpace(country),
		AvatarURL: strings.TrimSpace(avatarURL), Role: role, Method: method})
	return nil
}

// ChangeProfile applies a partial update; at least one field must be given.
func (u *User) ChangeProfile(p Profile) error {
	if !u.Exists() {
		return NotFound("User does not exist")
	}
	if p.Username == nil && p.Country == nil && p.AvatarURL == nil {
		return Invalid("Payload must have at least one field")
	}
	if p.Username != nil {
		s := strings.TrimSpace(*p.Username)
		if s == "" {
			return Invalid("Username cannot be empty")
		}
		p.Username = &s
	}
	if err := validateProfile(p); err != nil {
		return err
	}
	// Only what actually changes is recorded.
	ev := UserProfileChanged{UserID: u.ID}
	if p.Username != nil && *p.Username != u.Username {
		ev.Username = p.Username
	}
	if p.Country != nil && *p.Country != u.Country {
		ev.Country = p.Country
	}
	if p.AvatarURL != nil && *p.AvatarURL != u.AvatarURL {
		ev.AvatarURL = p.AvatarURL
	}
	if ev.Username != nil || ev.Country != nil || ev.AvatarURL != nil {
		u.Record(u, ev)
	}
	return nil
}

// ChangeRole sets the user's role. Only an Admin may; the system principal
// (CLI, ADMIN_EMAILS) acts as one.
func (u *User) ChangeRole(role Role, by Principal) error {
	if !by.IsAdmin() {
		return Forbidden("Only an Admin can change a role")
	}
	if !u.Exists() {
		return NotFound("User does not exist")
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if role != u.Role {
		u.Record(u, UserRoleChanged{UserID: u.ID, Role: role, PreviousRole: u.Role})
	}
	return nil
}

// CredentialsChanged records that the email and/or password were changed.
func (u *User) CredentialsChanged(email, password bool) error {
	if !u.Exists() {
		return NotFound("User does not exist")
	}
	if email || password {
		u.Record(u, UserCredentialsChanged{UserID: u.ID, Email: email, Password: password})
	}
	return nil
}

// Delete closes the account. Admins only.
func (u *User) Delete(by Principal) error {
	if !by.IsAdmin() {
		return Forbidden("Only an Admin can delete a user")
	}
	if !u.Exists() {
		return NotFound("User does not exist")
	}
	u.Record(u, UserDeleted{UserID: u.ID})
	return nil
}

func validateProfile(p Profile) error {
	return firstErr(
		checkText(p.Username, "username", maxUsername),
		checkText(p.Country, "country", maxCountry),
		checkText(p.AvatarURL, "avatarurl", maxURL),
	)
}
