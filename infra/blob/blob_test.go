package blob

import (
	"errors"
	"strings"
	"testing"

	"github.com/hustmusik/backend/domain"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"audio/0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b.mp3", true},
		{"images/users/42.png", true},
		{"a", true},
		{"a_b-c.d/e", true},
		{"", false},
		{"/audio/x.mp3", false},
		{"audio/x.mp3/", false},
		{"audio//x.mp3", false},
		{"..", false},
		{"audio/../../etc/passwd", false},
		{"audio/./x.mp3", false},
		{".", false},
		{"Audio/x.mp3", false},
		{"audio\\..\\x", false},
		{"audio/x y.mp3", false},
		{"audio/x%2e.mp3", false},
		{"audio/x\x00.mp3", false},
		{"audio/\u00e9.mp3", false},
		{"audio/x.mp3?sig=1", false},
		{strings.Repeat("a", MaxKeyLength), true},
		{strings.Repeat("a", MaxKeyLength+1), false},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key)
		if tt.ok && err != nil {
			t.Errorf("ValidateKey(%q) = %v, want ok", tt.key, err)
		}
		if !tt.ok && !errors.Is(err, domain.ErrValidation) {
			t.Errorf("ValidateKey(%q) = %v, want a validation error", tt.key, err)
		}
	}
}

func TestKeysAreValid(t *testing.T) {
	id := "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	if got, want := AudioKey(id), "audio/"+id+".mp3"; got != want {
		t.Errorf("AudioKey = %q, want %q", got, want)
	}
	if got, want := ImageKey("artists", id, "webp"), "images/artists/"+id+".webp"; got != want {
		t.Errorf("ImageKey = %q, want %q", got, want)
	}
	for _, k := range []string{AudioKey(id), ImageKey("users", id, "png")} {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	// An id that tries to climb out stays refused once inside a key.
	if err := ValidateKey(AudioKey("../../etc/passwd")); err == nil {
		t.Error("a traversing song id made a valid key")
	}
}

func TestValidateHeaderValues(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{"audio/mpeg", true},
		{`attachment; filename="a.mp3"`, true},
		{"", false},
		{"audio/mpeg\r\nX-Evil: 1", false},
		{"audio/mpeg\n", false},
		{strings.Repeat("a", 201), false},
	}
	for _, tt := range tests {
		for name, f := range map[string]func(string) error{"content type": ValidateContentType, "disposition": ValidateDisposition} {
			err := f(tt.v)
			if (err == nil) != tt.ok {
				t.Errorf("%s %q: err = %v, want ok=%v", name, tt.v, err, tt.ok)
			}
			if err != nil && !errors.Is(err, domain.ErrValidation) {
				t.Errorf("%s %q: err = %v, want a validation error", name, tt.v, err)
			}
		}
	}
}
