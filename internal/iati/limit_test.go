package iati_test

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"kompas/internal/app"
	"kompas/internal/app/apptest"
	"kompas/internal/iati"
	"kompas/internal/platform/store/storetest"
)

// TestUploadOverTheLimit sends files over the import's limit, through the
// API and the upload page: a file just over it, and one in a body over the
// route's own limit (the file's plus 1 MiB for the form around it). Each is
// a 413 naming the limit in words, the page shows the form again with it,
// and no job is created.
func TestUploadOverTheLimit(t *testing.T) {
	const limit = 64 << 10
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := apptest.NewWithOptions(t, engine, app.Options{IATI: iati.Config{MaxBytes: limit}})
			jobs := e.Count("iati_jobs")
			cases := []struct {
				name string
				size int
				want string // the limit the answer names
			}{
				{"file over the limit", limit + 1, "The file is larger than 64 KiB, the most this import takes."},
				// The handler stops reading at the file's limit, before the
				// route's, so this too names the file's.
				{"body over the route's limit", limit + 2<<20, "The file is larger than 64 KiB, the most this import takes."},
			}
			for _, c := range cases {
				body, ct := multipartFile(t, "file", "big.xml", bytes.Repeat([]byte("x"), c.size))
				t.Run("API "+c.name, func(t *testing.T) {
					res := e.DoHeaders("POST", "/api/v1/imports/iati", e.Token(policy), body, map[string]string{"Content-Type": ct})
					if res.Status != http.StatusRequestEntityTooLarge {
						t.Fatalf("status %d, want 413: %.300s", res.Status, res.Body)
					}
					if p := res.Problem(); p.Detail != c.want || len(p.Errors) != 1 || p.Errors[0].Field != "file" {
						t.Errorf("problem %+v, want %q naming file", p, c.want)
					}
				})
				t.Run("page "+c.name, func(t *testing.T) {
					res, err := e.Browser(policy).Post(e.URL+"/imports/iati", ct, bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					defer res.Body.Close()
					page, _ := io.ReadAll(res.Body)
					text := html.UnescapeString(string(page))
					msg := strings.TrimSuffix(strings.TrimPrefix(c.want, "The file "), ".")
					if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(text, `class="error-summary"`) ||
						!strings.Contains(text, `name="file"`) || !strings.Contains(text, msg) {
						t.Errorf("page: %d, want 413 with the form and %q: %.1500s", res.StatusCode, msg, text)
					}
				})
			}
			if n := e.Count("iati_jobs"); n != jobs {
				t.Errorf("%d jobs created by refused uploads", n-jobs)
			}
		})
	}
}
