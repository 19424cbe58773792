// Package fault holds the errors that Kompas's services return: not found,
// forbidden, conflict, invalid input with the fields at fault, and the few
// others a request can end in. Services wrap them with context
// (fmt.Errorf("posting: amend: %w", fault.ErrConflict)); the web adapter maps
// each kind to its HTTP status, so no service depends on the HTTP shell.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Kind is what went wrong, in the terms a caller can act on.
type Kind uint8

const (
	KindInternal         Kind = iota // a fault of ours; logged, never detailed
	KindUnauthenticated              // no one is signed in
	KindForbidden                    // the caller may not do this
	KindNotFound                     // nothing there, or nothing the caller may see
	KindConflict                     // the record changed or a rule of its state refuses
	KindInvalid                      // well-formed input that breaks a rule; Fields say where
	KindMalformed                    // input that could not be read at all
	KindTooLarge                     // a body or file over its limit
	KindTooManyRequests              // throttled; RetryAfter says when to come back
	KindMethodNotAllowed             // the address exists, the method does not
	KindUnavailable                  // a dependency (the database) does not answer
)

// FieldError names one invalid input field. Field is the JSON path the API
// uses ("partners[1].role"); Label, when set, is the field as the form
// shows it ("Partner 2: role") and is what pages print.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Label   string `json:"-"`
}

// Error is an error of a Kind with a title and detail for people and, for
// invalid input, the fields at fault.
type Error struct {
	Kind       Kind
	Title      string
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration // with TooManyRequests
	Err        error         // cause, logged, never shown
}

func (e *Error) Error() string {
	msg := e.Title
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	for _, f := range e.Fields {
		msg += fmt.Sprintf("; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, fault.ErrNotFound) true for any *Error of the same
// kind, so a service may give its own detail and still match the sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

// The sentinels. Wrap them, or use the constructors below for a detail.
var (
	ErrUnauthenticated = &Error{Kind: KindUnauthenticated, Title: "Sign-in required"}
	ErrForbidden       = &Error{Kind: KindForbidden, Title: "Not allowed", Detail: "Your role or organisation may not do this."}
	ErrNotFound        = &Error{Kind: KindNotFound, Title: "Not found", Detail: "There is nothing here, or you may not see it."}
	ErrConflict        = &Error{Kind: KindConflict, Title: "Conflict"}
	ErrTooLarge        = &Error{Kind: KindTooLarge, Title: "Too large"}
	ErrTooManyRequests = &Error{Kind: KindTooManyRequests, Title: "Too many attempts", Detail: "Wait a few minutes before trying again."}
)

// MaxFieldErrors bounds the field errors one answer lists, so a hostile
// body cannot make the answer larger than itself.
const MaxFieldErrors = 100

// Invalid is input that was read but breaks a rule, with every field at
// fault (at most MaxFieldErrors of them).
func Invalid(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Title: "Invalid input", Detail: "Some fields need correcting.", Fields: capFields(fields)}
}

func capFields(fields []FieldError) []FieldError {
	if len(fields) <= MaxFieldErrors {
		return fields
	}
	out := append([]FieldError(nil), fields[:MaxFieldErrors]...)
	return append(out, FieldError{Field: "", Message: fmt.Sprintf("and %d more problems not listed", len(fields)-MaxFieldErrors)})
}

// Malformed is input that could not be read at all.
func Malformed(detail string, fields ...FieldError) *Error {
	return &Error{Kind: KindMalformed, Title: "Malformed input", Detail: detail, Fields: fields}
}

// Conflict is a conflict with a detail saying what to do.
func Conflict(detail string) *Error {
	return &Error{Kind: KindConflict, Title: "Conflict", Detail: detail}
}

// NotFound is a not-found naming what was looked for (never saying
// whether it exists).
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Title: "Not found", Detail: what + " not found."}
}

// Forbidden is a refusal naming why.
func Forbidden(detail string) *Error {
	return &Error{Kind: KindForbidden, Title: "Not allowed", Detail: detail}
}

// As finds the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf is the kind of err: KindInternal for anything that is not an *Error.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return KindInternal
}
