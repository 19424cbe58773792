package web

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors that handlers wrap with context, e.g.
// fmt.Errorf("programmes: initiative %d: %w", id, web.ErrNotFound). The
// adapter turns them into the status DESIGN.md lists.
var (
	ErrUnauthenticated = &Error{Status: http.StatusUnauthorized, Title: "Sign-in required"}
	ErrForbidden       = &Error{Status: http.StatusForbidden, Title: "Not allowed", Detail: "Your role or organisation may not do this."}
	ErrNotFound        = &Error{Status: http.StatusNotFound, Title: "Not found", Detail: "There is nothing here, or you may not see it."}
	ErrConflict        = &Error{Status: http.StatusConflict, Title: "Conflict"}
	ErrTooLarge        = &Error{Status: http.StatusRequestEntityTooLarge, Title: "Too large"}
	ErrTooManyRequests = &Error{Status: http.StatusTooManyRequests, Title: "Too many attempts", Detail: "Wait a few minutes before trying again."}
)

// FieldError names one invalid input field. Field uses the JSON name (with
// a path such as "partners[1].role" where the input is nested).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error with an HTTP status and, for invalid input, the fields
// at fault. It renders as RFC 9457 problem JSON in the API and as an error
// page (or form error summary) in HTML.
type Error struct {
	Status int
	Title  string
	Detail string
	Fields []FieldError
	Err    error // cause, logged, never shown
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
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

// Is makes errors.Is(err, web.ErrNotFound) true for any *Error of the same
// status, so a handler may build its own detail and still match the sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Title == e.Title
}

// Invalid is a 422: the input was well-formed but breaks a rule.
// At most MaxFieldErrors are listed, so a hostile body cannot make the answer
// larger than itself.
func Invalid(fields ...FieldError) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Title: "Invalid input", Detail: "Some fields need correcting.", Fields: capFields(fields)}
}

// MaxFieldErrors bounds the field errors one answer lists.
const MaxFieldErrors = 100

func capFields(fields []FieldError) []FieldError {
	if len(fields) <= MaxFieldErrors {
		return fields
	}
	out := append([]FieldError(nil), fields[:MaxFieldErrors]...)
	return append(out, FieldError{Field: "", Message: fmt.Sprintf("and %d more problems not listed", len(fields)-MaxFieldErrors)})
}

// BadRequest is a 400: the input could not be read at all.
func BadRequest(detail string, fields ...FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Title: "Malformed input", Detail: detail, Fields: fields}
}

// Conflict is a 409 with a detail.
func Conflict(detail string) *Error {
	return &Error{Status: http.StatusConflict, Title: "Conflict", Detail: detail}
}

// NotFound is a 404 with a detail (never saying whether the thing exists).
func NotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Title: "Not found", Detail: what + " not found."}
}

// Forbidden is a 403 naming why.
func Forbidden(detail string) *Error {
	return &Error{Status: http.StatusForbidden, Title: "Not allowed", Detail: detail}
}

// AsError finds the *Error in err's chain; anything else is a 500.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return TooLarge(mbe.Limit, false)
	}
	return &Error{Status: http.StatusInternalServerError, Title: "Internal error", Detail: "Something went wrong on our side. The request id identifies it in the logs.", Err: err}
}

// TooLarge is a 413 naming limit in words. An upload's says "file" and names
// the form field, so that an upload form can show it beside the input.
func TooLarge(limit int64, upload bool) *Error {
	if upload {
		return &Error{Status: http.StatusRequestEntityTooLarge, Title: "Too large",
			Detail: fmt.Sprintf("The file is larger than %s, the most this import takes.", FormatSize(limit)),
			Fields: []FieldError{{Field: "file", Message: fmt.Sprintf("is larger than %s, the most this import takes", FormatSize(limit))}}}
	}
	return &Error{Status: http.StatusRequestEntityTooLarge, Title: "Too large",
		Detail: fmt.Sprintf("The request is larger than %s, the most this address takes.", FormatSize(limit))}
}

// FormatSize writes a byte count in binary units: "20 MiB", "1.5 GiB",
// "512 bytes".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
