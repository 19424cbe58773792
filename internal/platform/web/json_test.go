package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

type inner struct {
	X int `json:"x"`
}

type partner struct {
	Org  string `json:"org"`
	Role string `json:"role"`
}

type payload struct {
	Name     string         `json:"name"`
	N        int            `json:"n"`
	OK       bool           `json:"ok"`
	Tags     []string       `json:"tags"`
	Inner    inner          `json:"inner"`
	Partners []partner      `json:"partners"`
	Amount   json.Number    `json:"amount"`
	Scores   map[string]int `json:"scores"`
}

// embedding is how a PUT body extends a type: the embedded fields are the
// body's own, by their JSON names.
type embedding struct {
	payload
	ID int64 `json:"id"`
}

func TestDecodeJSONFrom(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int    // 0: no error
		wantField  string // the field named in errors[0]; "-" for none
		wantMsg    string // substring of that field's message
		wantDetail string // substring of the detail
		check      func(t *testing.T, v payload)
	}{
		{name: "valid", body: `{"name":"a","n":2,"ok":true,"tags":["x"],"inner":{"x":1},"partners":[{"org":"iom","role":"lead"}],"amount":12.50,"scores":{"a":1}}`,
			check: func(t *testing.T, v payload) {
				if v.Name != "a" || v.N != 2 || !v.OK || v.Inner.X != 1 || v.Partners[0].Role != "lead" || v.Amount != "12.50" || v.Scores["a"] != 1 {
					t.Errorf("decoded %+v", v)
				}
			}},
		{name: "valid with surrounding space", body: " \n{\"name\":\"a\"}\n\t "},
		{name: "null body leaves the value alone", body: `null`},
		{name: "surrogate pair is one character", body: `{"name":"\ud83d\ude00"}`,
			check: func(t *testing.T, v payload) {
				if v.Name != "\U0001F600" {
					t.Errorf("name %q", v.Name)
				}
			}},
		{name: "amount as a string is kept for validation", body: `{"amount":"abc"}`,
			check: func(t *testing.T, v payload) {
				if v.Amount != "abc" {
					t.Errorf("amount %q", v.Amount)
				}
			}},
		{name: "amount keeps every digit", body: `{"amount":12345678901234567890.10}`,
			check: func(t *testing.T, v payload) {
				if v.Amount != "12345678901234567890.10" {
					t.Errorf("amount %q", v.Amount)
				}
			}},
		{name: "empty", body: ``, wantStatus: 400, wantDetail: "empty"},
		{name: "only space", body: "   ", wantStatus: 400, wantDetail: "empty"},
		{name: "cut short", body: `{"name":`, wantStatus: 400, wantDetail: "ends before"},
		{name: "syntax error", body: `{"name" "a"}`, wantStatus: 400, wantDetail: "not valid JSON"},
		{name: "single quotes", body: `{'name':'a'}`, wantStatus: 400, wantDetail: "not valid JSON"},
		{name: "trailing value", body: `{"name":"a"}{"name":"b"}`, wantStatus: 400, wantDetail: "single JSON value"},
		{name: "trailing garbage", body: `{"name":"a"} x`, wantStatus: 400, wantDetail: "single JSON value"},

		// The hardening issue's cases.
		{name: "invalid UTF-8 in a value", body: "{\"name\":\"a\xffb\"}", wantStatus: 400, wantField: "name", wantMsg: "not valid UTF-8", wantDetail: "UTF-8"},
		{name: "invalid UTF-8 nested", body: "{\"partners\":[{\"org\":\"\xc3\"}]}", wantStatus: 400, wantField: "partners[0].org", wantMsg: "not valid UTF-8"},
		{name: "invalid UTF-8 in a name", body: "{\"na\xffme\":\"a\"}", wantStatus: 400, wantField: "-", wantDetail: "not valid UTF-8"},
		{name: "lone high surrogate", body: `{"name":"\ud800"}`, wantStatus: 400, wantField: "name", wantMsg: "unpaired surrogate"},
		{name: "lone low surrogate", body: `{"name":"x\udc00y"}`, wantStatus: 400, wantField: "name", wantMsg: "unpaired surrogate"},
		{name: "duplicate name", body: `{"name":"a","name":"b"}`, wantStatus: 400, wantField: "name", wantMsg: "more than once"},
		{name: "duplicate nested name", body: `{"inner":{"x":1,"x":2}}`, wantStatus: 400, wantField: "inner.x", wantMsg: "more than once"},
		{name: "duplicate in an array element", body: `{"partners":[{},{"org":"a","org":"b"}]}`, wantStatus: 400, wantField: "partners[1].org", wantMsg: "more than once"},
		{name: "duplicate map key", body: `{"scores":{"a":1,"a":2}}`, wantStatus: 400, wantField: "scores.a", wantMsg: "more than once"},
		{name: "upper-case name", body: `{"TITLE":"a"}`, wantStatus: 400, wantField: "TITLE", wantMsg: "unknown field"},
		{name: "case-folded name", body: `{"NAME":"a"}`, wantStatus: 400, wantField: "NAME", wantMsg: `case-sensitive: did you mean "name"`},
		{name: "case-folded nested name", body: `{"partners":[{"Role":"lead"}]}`, wantStatus: 400, wantField: "partners[0].Role", wantMsg: `did you mean "role"`},
		{name: "same name in two cases", body: `{"name":"a","Name":"b"}`, wantStatus: 400, wantField: "Name", wantMsg: "unknown field"},
		{name: "amount of the wrong type", body: `{"amount":true}`, wantStatus: 400, wantField: "amount", wantMsg: "must be a number, not true"},
		{name: "amount as an array", body: `{"amount":[1]}`, wantStatus: 400, wantField: "amount", wantMsg: "must be a number, not an array"},

		{name: "unknown field", body: `{"name":"a","nmae":"b"}`, wantStatus: 400, wantField: "nmae", wantMsg: "unknown field"},
		{name: "unknown nested field", body: `{"inner":{"y":1}}`, wantStatus: 400, wantField: "inner.y", wantMsg: "unknown field"},
		{name: "unknown field in an array element", body: `{"partners":[{},{},{"rôle":"x"}]}`, wantStatus: 400, wantField: "partners[2].rôle", wantMsg: "unknown field"},
		{name: "string for number", body: `{"n":"five"}`, wantStatus: 400, wantField: "n", wantMsg: "must be a number, not a string"},
		{name: "fraction for integer", body: `{"n":1.5}`, wantStatus: 400, wantField: "n", wantMsg: "must be a whole number"},
		{name: "number out of range", body: `{"n":99999999999999999999}`, wantStatus: 400, wantField: "n", wantMsg: "out of range"},
		{name: "number for string", body: `{"name":5}`, wantStatus: 400, wantField: "name", wantMsg: "must be a string, not a number"},
		{name: "string for bool", body: `{"ok":"yes"}`, wantStatus: 400, wantField: "ok", wantMsg: "must be true or false, not a string"},
		{name: "string for array", body: `{"tags":"x"}`, wantStatus: 400, wantField: "tags", wantMsg: "must be an array, not a string"},
		{name: "number in string array", body: `{"tags":["x",2]}`, wantStatus: 400, wantField: "tags[1]", wantMsg: "must be a string"},
		{name: "nested wrong type", body: `{"inner":{"x":"a"}}`, wantStatus: 400, wantField: "inner.x", wantMsg: "must be a number"},
		{name: "wrong type in an array element", body: `{"partners":[{},{},{"role":1}]}`, wantStatus: 400, wantField: "partners[2].role", wantMsg: "must be a string, not a number"},
		{name: "wrong type in a map", body: `{"scores":{"a":"high"}}`, wantStatus: 400, wantField: "scores.a", wantMsg: "must be a number"},
		{name: "array for object", body: `[1,2]`, wantStatus: 400, wantField: "body", wantMsg: "must be an object, not an array"},
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
				if tt.check != nil {
					tt.check(t, v)
				}
				return
			}
			var e *fault.Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeJSONFrom = %v, want a *fault.Error", err)
			}
			if web.Status(e.Kind) != tt.wantStatus {
				t.Errorf("status %d, want %d (%v)", web.Status(e.Kind), tt.wantStatus, e)
			}
			if tt.wantDetail != "" && !strings.Contains(e.Detail, tt.wantDetail) {
				t.Errorf("detail %q does not contain %q", e.Detail, tt.wantDetail)
			}
			switch tt.wantField {
			case "":
			case "-":
				if len(e.Fields) != 0 {
					t.Errorf("fields %+v, want none", e.Fields)
				}
			default:
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

func TestDecodeJSONEmbedded(t *testing.T) {
	var v embedding
	if err := web.DecodeJSONFrom(strings.NewReader(`{"id":7,"name":"a","partners":[{"org":"x"}]}`), &v); err != nil || v.ID != 7 || v.Name != "a" || len(v.Partners) != 1 {
		t.Fatalf("decoded %+v, %v", v, err)
	}
	// An embedded type's fields are named without its type name.
	err := web.DecodeJSONFrom(strings.NewReader(`{"id":7,"partners":[{"org":1}]}`), &v)
	if e := web.AsError(err); web.Status(e.Kind) != 400 || len(e.Fields) != 1 || e.Fields[0].Field != "partners[0].org" {
		t.Errorf("got %v, want a 400 naming partners[0].org", err)
	}
	err = web.DecodeJSONFrom(strings.NewReader(`{"Name":"a"}`), &v)
	if e := web.AsError(err); len(e.Fields) != 1 || !strings.Contains(e.Fields[0].Message, `did you mean "name"`) {
		t.Errorf("got %v, want the hint to the embedded field", err)
	}
}

// FuzzDecodeJSON: whatever the bytes, the decoder answers a 400 whose field
// errors all name a field and say something, or accepts a body that is one
// valid JSON value (UTF-8, no name twice) whose decoded form survives a round
// trip through the encoder.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","n":2,"ok":true,"tags":["x"],"inner":{"x":1},"partners":[{"org":"iom","role":"lead"}],"amount":12.50,"scores":{"a":1}}`,
		`{"name":"a","name":"b"}`, `{"NAME":"a"}`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"amount":"abc"}`,
		`{"partners":[{},{"role":1}]}`, `{"inner":{"y":1}}`, `{"scores":{"a":1,"a":2}}`, `[]`, `null`, `{`, `{}{}`, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v payload
		err := web.DecodeJSONFrom(bytes.NewReader(body), &v)
		if err != nil {
			var e *fault.Error
			if !errors.As(err, &e) || web.Status(e.Kind) != http.StatusBadRequest {
				t.Fatalf("decode error is not a web 400: %#v", err)
			}
			for _, fe := range e.Fields {
				if fe.Field == "" || fe.Message == "" {
					t.Fatalf("field error without field or message: %+v", e)
				}
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8: %q", body)
		}
		if !jsontext.Value(body).IsValid() {
			t.Fatalf("accepted what strict JSON refuses (a name twice?): %q", body)
		}
		// A string amount is the service's to refuse; the encoder would.
		if k := jsontext.Value(v.Amount).Kind(); v.Amount != "" && (k != '0' || !jsontext.Value(v.Amount).IsValid()) {
			v.Amount = ""
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %+v: %v", v, err)
		}
		var back payload
		if err := web.DecodeJSONFrom(bytes.NewReader(out), &back); err != nil {
			t.Fatalf("decode own output %s: %v", out, err)
		}
		if !reflect.DeepEqual(normal(back), normal(v)) {
			t.Fatalf("round trip changed %+v into %+v", v, back)
		}
	})
}

// normal forgets what the round trip cannot tell apart: a nil or an empty
// list or map, and a missing amount from a zero one (the encoder writes 0).
func normal(v payload) payload {
	if v.Amount == "" {
		v.Amount = "0"
	}
	if len(v.Tags) == 0 {
		v.Tags = nil
	}
	if len(v.Partners) == 0 {
		v.Partners = nil
	}
	if len(v.Scores) == 0 {
		v.Scores = nil
	}
	return v
}

func TestWriteJSONIsUnchanged(t *testing.T) {
	rec := httptest.NewRecorder()
	v := struct {
		Text   string      `json:"text"`
		Amount json.Number `json:"amount"`
		Empty  []string    `json:"empty,omitempty"`
		Nil    []string    `json:"nil"`
	}{Text: "<a> & é", Amount: "12.50"}
	if err := web.WriteJSON(rec, http.StatusOK, v); err != nil {
		t.Fatal(err)
	}
	const want = `{"text":"\u003ca\u003e \u0026 é","amount":12.50,"nil":null}` + "\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("WriteJSON wrote %s, want %s", got, want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
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
			if e := web.AsError(err); web.Status(e.Kind) != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d (%v), want 413", web.Status(e.Kind), err)
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
			if err != nil && web.StatusOf(err) != http.StatusBadRequest {
				t.Errorf("status %d, want 400", web.StatusOf(err))
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
		{"wrapped sentinel", errors.Join(errors.New("ctx"), fault.ErrNotFound), 404, fault.ErrNotFound},
		{"own detail still matches sentinel", fault.NotFound("Initiative 7"), 404, fault.ErrNotFound},
		{"forbidden", fault.Forbidden("no"), 403, fault.ErrForbidden},
		{"conflict", fault.Conflict("stale"), 409, fault.ErrConflict},
		{"invalid", fault.Invalid(fault.FieldError{Field: "a", Message: "b"}), 422, nil},
		{"bad request", fault.Malformed("x"), 400, nil},
		{"max bytes", &http.MaxBytesError{Limit: 10}, 413, nil},
		{"too many", fault.ErrTooManyRequests, 429, fault.ErrTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := web.AsError(tt.err)
			if web.Status(e.Kind) != tt.wantStatus {
				t.Errorf("status %d, want %d", web.Status(e.Kind), tt.wantStatus)
			}
			if tt.wantIs != nil && !errors.Is(tt.err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.wantIs)
			}
			if web.Status(e.Kind) == 500 {
				if strings.Contains(e.Detail, "secret") || !errors.Is(e, cause) {
					t.Errorf("500 detail %q leaks the cause, or the cause is lost", e.Detail)
				}
			}
		})
	}
	if errors.Is(fault.ErrNotFound, fault.ErrForbidden) {
		t.Error("404 matches 403")
	}
}
