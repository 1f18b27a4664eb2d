package domain

import "strings"

// ParseID checks that a path id is a UUID and returns it in canonical lower
// case: a malformed id is 400, never a 404 or a database error.
func ParseID(raw, what string) (string, error) {
	s := strings.ToLower(raw)
	if len(s) != 36 {
		return "", Errorf(ErrValidation, "Invalid %s id: must be a UUID", what)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", Errorf(ErrValidation, "Invalid %s id: must be a UUID", what)
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", Errorf(ErrValidation, "Invalid %s id: must be a UUID", what)
			}
		}
	}
	return s, nil
}
