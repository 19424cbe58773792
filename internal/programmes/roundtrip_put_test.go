package programmes_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"kompas/internal/app/apptest"
)

// TestPutWhatGetGave: a client may send back the body GET returned, with its
// read-only fields, and change one thing; another id in the body is refused.
func TestPutWhatGetGave(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token("policy@mfa.example")
		res := e.Do("GET", "/api/v1/initiatives/1", tok, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("get: %d", res.Status)
		}
		var doc map[string]any
		res.JSON(&doc)
		doc["title"] = "Changed through a round trip"
		put := e.Do("PUT", "/api/v1/initiatives/1", tok, doc)
		if put.Status != http.StatusOK {
			t.Fatalf("put of what GET gave: %d %s", put.Status, put.Body)
		}
		var got struct {
			Title   string
			Version int
		}
		put.JSON(&got)
		if got.Title != "Changed through a round trip" || got.Version != int(doc["version"].(float64))+1 {
			t.Errorf("after put: %+v", got)
		}
		doc["id"] = json.Number("2")
		doc["version"] = got.Version
		if r := e.Do("PUT", "/api/v1/initiatives/1", tok, doc); r.Status != http.StatusUnprocessableEntity || r.Problem().Errors[0].Field != "id" {
			t.Errorf("other id: %d %s", r.Status, r.Body)
		}
	})
}
