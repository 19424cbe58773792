package web

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

// OpenAPI builds the OpenAPI 3.1 document from the registered API routes, so
// the document cannot drift from what the server serves.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	schemas := map[string]any{}
	for _, rt := range s.Routes() {
		if rt.Page {
			continue
		}
		p := pathParam.ReplaceAllString(rt.Path, "{$1}")
		ops := paths[p]
		if ops == nil {
			ops = map[string]any{}
			paths[p] = ops
		}
		op := map[string]any{
			"summary":     rt.Op.Summary,
			"operationId": operationID(rt.Method, p),
		}
		if len(rt.Op.Tags) > 0 {
			op["tags"] = rt.Op.Tags
		}
		switch {
		case rt.Op.Public:
			op["description"] = "Who may call it: anyone; no sign-in needed."
		case rt.Op.Access != nil:
			who := "Who may call it: " + rt.Op.Access.Describe() + "."
			if rt.Op.Records != "" {
				who += " Which records: " + rt.Op.Records + "."
			}
			op["description"] = who
		}
		if rt.Op.Personal.ObjectType != "" {
			desc, _ := op["description"].(string)
			op["description"] = strings.TrimSpace(desc + " Personal data: a 403 or 404 is audited as a refused read.")
			op["x-personal-data"] = rt.Op.Personal.ObjectType
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Op.Query {
			typ := q.Type
			if typ == "" {
				typ = "string"
			}
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": typ}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Op.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Op.Request), schemas)},
			}}
		}
		status := rt.Op.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		switch {
		case len(rt.Op.Produces) > 0:
			content := map[string]any{}
			for _, ct := range rt.Op.Produces {
				content[ct] = map[string]any{}
			}
			ok["content"] = content
		case rt.Op.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Op.Response), schemas)}}
		}
		responses := map[string]any{strconv.Itoa(status): ok}
		problem := map[string]any{"$ref": "#/components/responses/Problem"}
		// Any operation may end in a client error (a stale token, a throttle,
		// a malformed request) or a server error (500, or /readyz's 503); the
		// specific ones are listed besides.
		responses["4XX"] = problem
		responses["5XX"] = problem
		if rt.Op.Public {
			op["security"] = []any{}
		} else {
			responses["401"] = problem
			responses["403"] = problem
			op["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}
		}
		if strings.Contains(rt.Path, "{") {
			responses["404"] = problem
		}
		if rt.Op.Request != nil {
			responses["400"] = problem
			responses["413"] = problem
			responses["422"] = problem
		}
		if rt.Method == http.MethodPut {
			responses["409"] = problem
		}
		op["responses"] = responses
		ops[strings.ToLower(rt.Method)] = op
	}
	schemas["Problem"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
			"status": map[string]any{"type": "integer"}, "detail": map[string]any{"type": "string"},
			"instance": map[string]any{"type": "string"}, "request_id": map[string]any{"type": "string"},
			"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"field": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}},
		},
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Kompas API",
			"version":     "1",
			"description": "Migration policy, programmes and services traced to the 23 GCM objectives. Errors are RFC 9457 problem JSON.",
			"license":     license,
		},
		"servers": []any{map[string]any{"url": "/", "description": "this Kompas server"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"responses": map[string]any{"Problem": map[string]any{
				"description": "An RFC 9457 problem",
				"content":     map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}},
			}},
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/login or `kompas token create`."},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": "kompas_session", "description": "The session a browser gets from the sign-in page; a cross-origin write with it is refused."},
			},
		},
	}
}

// license is what the document says about reuse of the API. The project has
// not chosen a licence (the repository has no LICENSE), so the document
// claims none: a named licence here would be a grant nobody made. When one
// is chosen, put its SPDX identifier here and the text in LICENSE.
var license = map[string]any{"name": "No licence granted (all rights reserved)", "identifier": "LicenseRef-All-Rights-Reserved"}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	return WriteJSON(w, http.StatusOK, s.OpenAPI())
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(path, "/") {
		part = strings.Trim(part, "{}")
		if part == "" || part == "api" || part == "v1" {
			continue
		}
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// schemaOf describes t as JSON Schema, registering named structs as
// components.
func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.String() {
	case "time.Time":
		return map[string]any{"type": "string", "format": "date-time"}
	case "json.Number":
		return map[string]any{"type": "number"}
	case "json.RawMessage":
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := t.Name()
		if name != "" {
			if _, done := schemas[name]; done {
				return map[string]any{"$ref": "#/components/schemas/" + name}
			}
			schemas[name] = map[string]any{} // break cycles
		}
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			jname, opts, _ := strings.Cut(tag, ",")
			if jname == "" {
				jname = f.Name
			}
			ps := schemaOf(f.Type, schemas)
			if doc := f.Tag.Get("doc"); doc != "" {
				ps = withDescription(ps, doc)
			}
			props[jname] = ps
			if f.Tag.Get("required") == "true" && !strings.Contains(opts, "omitempty") {
				required = append(required, jname)
			}
		}
		sch := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			sch["required"] = required
		}
		if name == "" {
			return sch
		}
		schemas[name] = sch
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func withDescription(s map[string]any, doc string) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		return map[string]any{"allOf": []any{s}, "description": doc}
	}
	c := make(map[string]any, len(s)+1)
	for k, v := range s {
		c[k] = v
	}
	c["description"] = doc
	return c
}
