package web

import (
	"errors"
	"fmt"
	"net/http"

	"kompas/internal/platform/fault"
)

// The adapter answers each kind of fault with its status (DESIGN.md lists
// them); services return faults and know nothing of HTTP.
var statusOf = map[fault.Kind]int{
	fault.KindInternal:         http.StatusInternalServerError,
	fault.KindUnauthenticated:  http.StatusUnauthorized,
	fault.KindForbidden:        http.StatusForbidden,
	fault.KindNotFound:         http.StatusNotFound,
	fault.KindConflict:         http.StatusConflict,
	fault.KindInvalid:          http.StatusUnprocessableEntity,
	fault.KindMalformed:        http.StatusBadRequest,
	fault.KindTooLarge:         http.StatusRequestEntityTooLarge,
	fault.KindTooManyRequests:  http.StatusTooManyRequests,
	fault.KindMethodNotAllowed: http.StatusMethodNotAllowed,
	fault.KindUnavailable:      http.StatusServiceUnavailable,
}

// Status is the HTTP status a fault of kind k is answered with.
func Status(k fault.Kind) int {
	if s, ok := statusOf[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// StatusOf is the status err is answered with.
func StatusOf(err error) int { return Status(AsError(err).Kind) }

// AsError finds the fault in err's chain as the adapter answers it: a body
// read over its limit is too large, and anything that is not a fault is an
// internal error (logged, never detailed).
func AsError(err error) *fault.Error {
	if e := fault.As(err); e != nil {
		return e
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return TooLarge(mbe.Limit, false)
	}
	return &fault.Error{Kind: fault.KindInternal, Title: "Internal error", Detail: "Something went wrong on our side. The request id identifies it in the logs.", Err: err}
}

// TooLarge is a 413 naming limit in words. An upload's says "file" and names
// the form field, so that an upload form can show it beside the input.
func TooLarge(limit int64, upload bool) *fault.Error {
	if upload {
		return &fault.Error{Kind: fault.KindTooLarge, Title: "Too large",
			Detail: fmt.Sprintf("The file is larger than %s, the most this import takes.", FormatSize(limit)),
			Fields: []fault.FieldError{{Field: "file", Message: fmt.Sprintf("is larger than %s, the most this import takes", FormatSize(limit))}}}
	}
	return &fault.Error{Kind: fault.KindTooLarge, Title: "Too large",
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
