package domain

import (
	"strings"
	"unicode/utf8"
)

// Helpers shared by the aggregates for optional text fields.

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// changed returns the trimmed new value when it differs from the current one.
func changed(current string, v *string) *string {
	if v == nil {
		return nil
	}
	s := strings.TrimSpace(*v)
	if s == current {
		return nil
	}
	return &s
}

func trimmed(v *string) string {
	if v == nil {
		return ""
	}
	return strings.TrimSpace(*v)
}

func checkText(v *string, name string, max int) error {
	if v == nil {
		return nil
	}
	if !utf8.ValidString(*v) {
		return Errorf(ErrValidation, "%s must be valid UTF-8", name)
	}
	// PostgreSQL stores no NUL, in text or in the log's jsonb: one that got
	// this far would fail the append with a 500.
	if strings.IndexByte(*v, 0) >= 0 {
		return Errorf(ErrValidation, "%s must not contain a NUL character", name)
	}
	if utf8.RuneCountInString(*v) > max {
		return Errorf(ErrValidation, "%s must be at most %d characters", name, max)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
