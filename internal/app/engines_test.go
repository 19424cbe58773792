package app_test

import (
	"net/http"
	"testing"

	"kompas/internal/app/apptest"
)

// TestDemoOnBothEngines loads the demo on each engine and finds COMPASS by
// search, which exercises FTS5 on SQLite and tsvector on PostgreSQL.
func TestDemoOnBothEngines(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token("analyst@dtm.example")
		res := e.Do("GET", "/api/v1/initiatives?q=compass+iom&per_page=5", tok, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("search: %d %s", res.Status, res.Body)
		}
		var page struct {
			Total int
			Items []struct{ Title string }
		}
		res.JSON(&page)
		if page.Total == 0 || page.Items[0].Title != "COMPASS programme with IOM" {
			t.Errorf("search for compass iom: %+v", page)
		}
		if n := e.Count("initiatives"); n < 30 {
			t.Errorf("demo has %d initiatives, want at least 30", n)
		}
	})
}
