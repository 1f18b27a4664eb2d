package domain

// Role names are part of the wire contract (same spelling as the old backend).
type Role string

const (
	RoleUser          Role = "User"
	RoleArtistManager Role = "Artist Manager"
	RoleAdmin         Role = "Admin"
	RoleAuditor       Role = "Auditor"
)

// ParseRole accepts exactly the four role names.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleUser, RoleArtistManager, RoleAdmin, RoleAuditor:
		return r, nil
	}
	return "", Invalid("Invalid role: must be one of User, Artist Manager, Admin, Auditor")
}

// Principal is who is calling: a signed-in user, or anonymous (zero value).
type Principal struct {
	UserID string
	Role   Role
}

// Anonymous reports whether nobody is signed in.
func (p Principal) Anonymous() bool { return p.UserID == "" }

// IsAdmin reports whether the caller is an Admin.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }
