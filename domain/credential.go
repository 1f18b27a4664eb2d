package domain

// Credential is one account's sign-in facts. It is kept outside the event
// log (an ordinary table), because it holds personal data and secrets.
type Credential struct {
	UserID        string
	Email         string
	PasswordHash  string // empty for accounts that only sign in with Google
	GoogleSubject string
	EmailVerified bool
}
