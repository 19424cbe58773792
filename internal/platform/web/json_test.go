package web_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kompas/internal/platform/web"
)

type inner struct {
	X int `json:"x"`
}

type payload struct {
	Name  string   `json:"name"`
	N     int      `json:"n"`
	OK    bool     `json:"ok"`
	Tags  []string `json:"tags"`
	Inner inner    `json:"inner"`
}

func TestDecodeJSONFrom(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int    // 0: no error
		wantField  string // the field named in errors[0]
		wantMsg    string // substring of that field's message
		wantDetail string // substring of the detail
	}{
		{name: "valid", body: `{"name":"a","n":2,"ok":true,"tags":["x"],"inner":{"x":1}}`},
		{name: "valid with surrounding space", body: " \n{\"name\":\"a\"}\n\t "},
		{name: "empty", body: ``, wantStatus: 400, wantDetail: "empty"},
		{name: "only space", body: "   ", wantStatus: 400, wantDetail: "empty"},
		{name: "cut short", body: `{"name":`, wantStatus: 400, wantDetail: "ends before"},
		{name: "syntax error", body: `{"name" "a"}`, wantStatus: 400, wantDetail: "not valid JSON"},
		{name: "single quotes", body: `{'name':'a'}`, wantStatus: 400, wantDetail: "not valid JSON"},
		{name: "unknown field", body: `{"name":"a","nmae":"b"}`, wantStatus: 400, wantField: "nmae", wantMsg: "unknown field"},
		{name: "unknown nested field", body: `{"inner":{"y":1}}`, wantStatus: 400, wantField: "y", wantMsg: "unknown field"},
		{name: "trailing value", body: `{"name":"a"}{"name":"b"}`, wantStatus: 400, wantDetail: "single JSON value"},
		{name: "trailing garbage", body: `{"name":"a"} x`, wantStatus: 400, wantDetail: "single JSON value"},
		{name: "string for number", body: `{"n":"five"}`, wantStatus: 400, wantField: "n", wantMsg: "must be a number"},
		{name: "fraction for integer", body: `{"n":1.5}`, wantStatus: 400, wantField: "n", wantMsg: "must be a number"},
		{name: "number for string", body: `{"name":5}`, wantStatus: 400, wantField: "name", wantMsg: "must be a string"},
		{name: "string for bool", body: `{"ok":"yes"}`, wantStatus: 400, wantField: "ok", wantMsg: "true or false"},
		{name: "string for array", body: `{"tags":"x"}`, wantStatus: 400, wantField: "tags", wantMsg: "must be an array"},
		{name: "number in string array", body: `{"tags":["x",2]}`, wantStatus: 400, wantField: "tags", wantMsg: "must be a string"},
		{name: "nested wrong type", body: `{"inner":{"x":"a"}}`, wantStatus: 400, wantField: "inner.x", wantMsg: "must be a number"},
		{name: "array for object", body: `[1,2]`, wantStatus: 400, wantField: "body", wantMsg: "must be an object"},
		{name: "string for object", body: `"hello"`, wantStatus: 400, wantField: "body", wantMsg: "must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v payload
			err := web.DecodeJSONFrom(strings.NewReader(tt.body), &v)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("DecodeJSONFrom = %v", err)
				}
				return
			}
			var e *web.Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeJSONFrom = %v, want a *web.Error", err)
			}
			if e.Status != tt.wantStatus {
				t.Errorf("status %d, want %d (%v)", e.Status, tt.wantStatus, e)
			}
			if tt.wantDetail != "" && !strings.Contains(e.Detail, tt.wantDetail) {
				t.Errorf("detail %q does not contain %q", e.Detail, tt.wantDetail)
			}
			if tt.wantField != "" {
				if len(e.Fields) != 1 {
					t.Fatalf("fields %+v, want one naming %q", e.Fields, tt.wantField)
				}
				if e.Fields[0].Field != tt.wantField || !strings.Contains(e.Fields[0].Message, tt.wantMsg) {
					t.Errorf("field error %+v, want %q: …%s…", e.Fields[0], tt.wantField, tt.wantMsg)
				}
			}
		})
	}
}

func TestDecodeJSONFromTooLarge(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"inside the value", `{"name":"` + strings.Repeat("a", 200) + `"}`},
		{"in trailing space", `{"name":"a"}` + strings.Repeat(" ", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			body := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(tt.body)), 100)
			var v payload
			err := web.DecodeJSONFrom(body, &v)
			if e := web.AsError(err); e.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d (%v), want 413", e.Status, err)
			}
		})
	}
}

func TestDecodeJSONContentType(t *testing.T) {
	tests := []struct {
		ct      string
		wantErr bool
	}{
		{"", false},
		{"application/json", false},
		{"application/json; charset=utf-8", false},
		{"application/merge-patch+json", false},
		{"text/plain", true},
		{"application/x-www-form-urlencoded", true},
		{"multipart/form-data; boundary=x", true},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/x", bytes.NewBufferString(`{"name":"a"}`))
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			var v payload
			err := web.DecodeJSON(r, &v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("DecodeJSON = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && web.AsError(err).Status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", web.AsError(err).Status)
			}
			if err == nil && v.Name != "a" {
				t.Errorf("decoded %+v", v)
			}
		})
	}
}

func TestAsError(t *testing.T) {
	cause := errors.New("pq: password authentication failed for secret")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantIs     error
	}{
		{"plain error is 500", cause, 500, nil},
		{"wrapped sentinel", errors.Join(errors.New("ctx"), web.ErrNotFound), 404, web.ErrNotFound},
		{"own detail still matches sentinel", web.NotFound("Initiative 7"), 404, web.ErrNotFound},
		{"forbidden", web.Forbidden("no"), 403, web.ErrForbidden},
		{"conflict", web.Conflict("stale"), 409, web.ErrConflict},
		{"invalid", web.Invalid(web.FieldError{Field: "a", Message: "b"}), 422, nil},
		{"bad request", web.BadRequest("x"), 400, nil},
		{"max bytes", &http.MaxBytesError{Limit: 10}, 413, nil},
		{"too many", web.ErrTooManyRequests, 429, web.ErrTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := web.AsError(tt.err)
			if e.Status != tt.wantStatus {
				t.Errorf("status %d, want %d", e.Status, tt.wantStatus)
			}
			if tt.wantIs != nil && !errors.Is(tt.err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.wantIs)
			}
			if e.Status == 500 {
				if strings.Contains(e.Detail, "secret") || !errors.Is(e, cause) {
					t.Errorf("500 detail %q leaks the cause, or the cause is lost", e.Detail)
				}
			}
		})
	}
	if errors.Is(web.ErrNotFound, web.ErrForbidden) {
		t.Error("404 matches 403")
	}
}
