// Package domain holds Hust Musik's aggregates, their events and invariants.
// It imports the standard library only: no HTTP, database or messaging types.
package domain

import (
	"errors"
	"fmt"
)

// The few sentinel errors every layer speaks. Exactly one function (in
// infra/httpapi) maps them to HTTP statuses; wrap them with %w and a
// human-readable message, e.g. fmt.Errorf("%w: User does not exist", ErrNotFound).
var (
	ErrNotFound     = errors.New("not found")           // 404
	ErrValidation   = errors.New("invalid input")       // 400
	ErrUnauthorized = errors.New("unauthorized")        // 401
	ErrForbidden    = errors.New("forbidden")           // 403
	ErrConflict     = errors.New("conflict")            // 409
	ErrPrecondition = errors.New("precondition failed") // 412 (stale If-Match)
	ErrTooLarge     = errors.New("too large")           // 413
	ErrRateLimited  = errors.New("rate limited")        // 429
	ErrUnavailable  = errors.New("unavailable")         // 503 (a feature that is not configured)
)

// Error is a domain error with the message a client may read. Its Kind is one
// of the sentinels above, so errors.Is(err, ErrNotFound) works through it.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error of the given kind with a formatted client message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// NotFound, Invalid, Forbidden and Conflict are shorthands for the common kinds.
func NotFound(msg string) error  { return &Error{Kind: ErrNotFound, Msg: msg} }
func Invalid(msg string) error   { return &Error{Kind: ErrValidation, Msg: msg} }
func Forbidden(msg string) error { return &Error{Kind: ErrForbidden, Msg: msg} }
func Conflict(msg string) error  { return &Error{Kind: ErrConflict, Msg: msg} }
