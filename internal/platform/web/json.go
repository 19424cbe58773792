package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"kompas/internal/platform/fault"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeOptions make the request decoder strict where encoding/json is
// lenient: a member the type does not have, a name given twice, a name in
// another case than the field's, and text that is not valid UTF-8 (a
// lone surrogate escape included) are all refused rather than ignored,
// merged or replaced with U+FFFD. Several of these are v2's defaults; they
// are spelled out so that a change of defaults cannot loosen the API.
var decodeOptions = jsonv2.JoinOptions(
	jsonv2.RejectUnknownMembers(true),
	jsonv2.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
	jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(unmarshalNumber)),
)

var numberType = reflect.TypeFor[json.Number]()

// unmarshalNumber reads a json.Number, the type request structs use for
// exact amounts: a JSON number as written, or a JSON string kept as written
// so that the service's validation names the field and says what an amount
// looks like (as encoding/json with UseNumber did for numbers; v2 would
// refuse a number into a string-kinded type).
func unmarshalNumber(dec *jsontext.Decoder, n *json.Number) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '0', '"':
		*n = json.Number(tok.String())
	case 'n':
		*n = ""
	default:
		return &jsonv2.SemanticError{JSONKind: tok.Kind(), GoType: numberType}
	}
	return nil
}

// DecodeJSON reads exactly one JSON value into v, refusing unknown fields,
// duplicate and case-folded names, invalid UTF-8, trailing data and bodies
// over the route's limit. Errors are a 400 (or 413) naming the field by its
// path, as in "partners[2].role".
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasSuffix(strings.SplitN(ct, ";", 2)[0], "+json") {
		return fault.Malformed("The body must be JSON (Content-Type: application/json).")
	}
	return DecodeJSONFrom(r.Body, v)
}

// DecodeJSONFrom is DecodeJSON over any reader (fuzz tests call it directly).
func DecodeJSONFrom(body io.Reader, v any) error {
	dec := jsontext.NewDecoder(body, decodeOptions)
	if err := jsonv2.UnmarshalDecode(dec, v, decodeOptions); err != nil {
		return jsonError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return TooLarge(mbe.Limit, false)
		}
		return fault.Malformed("The body must hold a single JSON value.")
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &mbe):
		return TooLarge(mbe.Limit, false)
	case err == io.EOF:
		return fault.Malformed("The body is empty.")
	case errors.As(err, &syn):
		return syntaxError(syn)
	case errors.As(err, &sem):
		field := fieldPath(sem.JSONPointer)
		if field == "" {
			field = "body"
		}
		if errors.Is(sem.Err, jsonv2.ErrUnknownName) {
			return fault.Malformed("The body has a field this endpoint does not know.", fault.FieldError{Field: field, Message: unknownMessage(sem)})
		}
		if errors.Is(sem.Err, io.ErrUnexpectedEOF) {
			return fault.Malformed("The body ends before the JSON value does.")
		}
		return fault.Malformed("A field has the wrong type.", fault.FieldError{Field: field, Message: typeMessage(sem)})
	}
	return &fault.Error{Kind: fault.KindMalformed, Title: "Malformed input", Detail: "The body could not be read as JSON.", Err: err}
}

func syntaxError(syn *jsontext.SyntacticError) error {
	field := fieldPath(syn.JSONPointer)
	fields := func(msg string) []fault.FieldError {
		if field == "" {
			return nil
		}
		return []fault.FieldError{{Field: field, Message: msg}}
	}
	// jsontext exports no sentinels for these two; its messages are pinned
	// by TestDecodeJSONFrom.
	text := syn.Err.Error()
	switch {
	case errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return fault.Malformed("The body gives a field more than once.", fields("is given more than once")...)
	case strings.Contains(text, "invalid UTF-8"):
		return fault.Malformed("The body is not valid UTF-8.", fields("is not valid UTF-8")...)
	case strings.Contains(text, "surrogate"):
		return fault.Malformed("The body holds a \\u escape of half a surrogate pair, which is no character.", fields("holds an unpaired surrogate escape")...)
	case errors.Is(syn.Err, io.ErrUnexpectedEOF):
		return fault.Malformed("The body ends before the JSON value does.")
	}
	return fault.Malformed(fmt.Sprintf("The body is not valid JSON (at byte %d).", syn.ByteOffset))
}

// fieldPath turns a JSON pointer such as /partners/2/role into the form
// field errors use everywhere, partners[2].role. A member name of digits
// only reads as an index; no request type has such names.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// unknownMessage names an unknown member, and the field it was probably
// meant for when only the case differs (names are case-sensitive).
func unknownMessage(sem *jsonv2.SemanticError) string {
	name := sem.JSONPointer.LastToken()
	if t := sem.GoType; t != nil {
		if known := fieldNamed(t, name); known != "" {
			return fmt.Sprintf("unknown field; names are case-sensitive: did you mean %q?", known)
		}
	}
	return "unknown field"
}

// fieldNamed finds the JSON name of t's field that equals name but for case.
func fieldNamed(t reflect.Type, name string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			if n := fieldNamed(f.Type, name); n != "" {
				return n
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if strings.EqualFold(tag, name) {
			return tag
		}
	}
	return ""
}

// typeMessage says what a field must be and what it was, in words.
func typeMessage(sem *jsonv2.SemanticError) string {
	want := typeWords(sem.GoType)
	got := kindWords(sem.JSONKind)
	if sem.JSONKind == '0' && want == "a number" && sem.GoType != numberType {
		if errors.Is(sem.Err, strconv.ErrRange) {
			return "is out of range"
		}
		if k := deref(sem.GoType).Kind(); k != reflect.Float32 && k != reflect.Float64 {
			return "must be a whole number"
		}
	}
	switch {
	case want == "" && got == "":
		return "has the wrong type"
	case got == "":
		return "must be " + want
	case want == "":
		return "may not be " + got
	}
	return "must be " + want + ", not " + got
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func typeWords(t reflect.Type) string {
	t = deref(t)
	if t == nil {
		return ""
	}
	if t == numberType {
		return "a number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return ""
}

func kindWords(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't':
		return "true"
	case 'f':
		return "false"
	case 'n':
		return "null"
	}
	return ""
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// Problem is the RFC 9457 body.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Errors    []fault.FieldError `json:"errors,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, e *fault.Error) {
	p := Problem{Type: "about:blank", Title: e.Title, Status: Status(e.Kind), Detail: e.Detail, Instance: r.URL.Path, RequestID: RequestID(r.Context()), Errors: e.Fields}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(Status(e.Kind))
	_ = json.NewEncoder(w).Encode(p)
}
