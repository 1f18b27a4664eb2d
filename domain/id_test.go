package domain

import (
	"errors"
	"testing"
)

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", true},
		{"0B8F7A52-3C4D-4E5F-8A9B-0C1D2E3F4A5B", "0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b", true},
		{"", "", false},
		{"123", "", false},
		{"0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5g", "", false},
		{"0b8f7a523c4d-4e5f-8a9b-0c1d2e3f4a5b-", "", false},
		{"../../etc/passwd-aaaaaaaaaaaaaaaaaaaa", "", false},
		{"0b8f7a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b' OR 1=1", "", false},
	} {
		got, err := ParseID(tc.in, "song")
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseID(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrValidation) {
			t.Errorf("ParseID(%q) error %v is not a validation error", tc.in, err)
		}
	}
}
