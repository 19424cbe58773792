package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"kompas/internal/app/apptest"
)

// TestParallelWritesDoNotStarveThePool is the hardening issue's case: many
// more concurrent creates and updates than the pool has connections, through
// the whole server with the pool at its default size. Each write used to
// hold a transaction's connection while reading the frameworks through the
// pool; with every connection so held, PostgreSQL nodes hung and /readyz
// answered 503. Now every request finishes, and /readyz answers 200 all the
// while.
func TestParallelWritesDoNotStarveThePool(t *testing.T) {
	const (
		creates  = 32
		updates  = 32
		deadline = 60 * time.Second // a hang fails the test rather than CI
	)
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token("policy@mfa.example")
		// The initiatives the updates change: one each, so that no update
		// meets another's version.
		ids := make([]int64, updates)
		for i := range ids {
			res := e.Do("POST", "/api/v1/initiatives", tok, newInitiative(fmt.Sprintf("to update %d", i)))
			if res.Status != http.StatusCreated {
				t.Fatalf("setup create: %d %s", res.Status, res.Body)
			}
			var it struct{ ID int64 }
			res.JSON(&it)
			ids[i] = it.ID
		}
		before := e.Count("initiatives")

		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		client := &http.Client{}
		call := func(ctx context.Context, method, path, tok string, body any, header map[string]string) (int, http.Header, []byte, error) {
			var rd io.Reader
			if body != nil {
				b, err := json.Marshal(body)
				if err != nil {
					return 0, nil, nil, err
				}
				rd = bytes.NewReader(b)
			}
			req, err := http.NewRequestWithContext(ctx, method, e.URL+path, rd)
			if err != nil {
				return 0, nil, nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			for k, v := range header {
				req.Header.Set(k, v)
			}
			res, err := client.Do(req)
			if err != nil {
				return 0, nil, nil, err
			}
			defer res.Body.Close()
			b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			if res.StatusCode >= 400 && len(b) > 300 {
				b = append(b[:300:300], "…"...) // enough to tell the failure
			}
			return res.StatusCode, res.Header, b, err
		}
		update := func(id int64) error {
			path := fmt.Sprintf("/api/v1/initiatives/%d", id)
			status, h, b, err := call(ctx, "GET", path, tok, nil, nil)
			if err != nil || status != http.StatusOK {
				return fmt.Errorf("GET %s: %d %v %s", path, status, err, b)
			}
			var it map[string]any
			if err := json.Unmarshal(b, &it); err != nil {
				return err
			}
			it["title"] = fmt.Sprintf("updated %d", id)
			status, _, b, err = call(ctx, "PUT", path, tok, it, map[string]string{"If-Match": h.Get("ETag")})
			if err != nil || status != http.StatusOK {
				return fmt.Errorf("PUT %s: %d %v %s", path, status, err, b)
			}
			return nil
		}

		// /readyz is asked as the writes start and every 50 ms until they
		// end.
		start := make(chan struct{})
		done := make(chan struct{})
		var polls int
		var readyErrs []string
		var pollers sync.WaitGroup
		pollers.Go(func() {
			<-start
			for {
				// No token: the probe must not need the session lookup.
				probe, cancel := context.WithTimeout(ctx, 5*time.Second)
				status, _, b, err := call(probe, "GET", "/readyz", "", nil, nil)
				cancel()
				polls++
				if err != nil || status != http.StatusOK {
					readyErrs = append(readyErrs, fmt.Sprintf("%d %v %s", status, err, b))
				}
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		})

		errs := make(chan error, creates+updates)
		var writers sync.WaitGroup
		for i := range creates {
			writers.Go(func() {
				<-start
				status, _, b, err := call(ctx, "POST", "/api/v1/initiatives", tok, newInitiative(fmt.Sprintf("parallel %d", i)), nil)
				if err != nil || status != http.StatusCreated {
					errs <- fmt.Errorf("POST: %d %v %s", status, err, b)
				}
			})
		}
		for _, id := range ids {
			writers.Go(func() {
				<-start
				if err := update(id); err != nil {
					errs <- err
				}
			})
		}
		began := time.Now()
		close(start)
		writers.Wait()
		took := time.Since(began)
		close(done)
		pollers.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, r := range readyErrs {
			t.Errorf("/readyz during the writes: %s", r)
		}
		if polls == 0 {
			t.Error("/readyz was never asked")
		}
		if got := e.Count("initiatives") - before; got != creates {
			t.Errorf("%d initiatives added, want %d", got, creates)
		}
		var updated int
		if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM initiatives WHERE title LIKE 'updated %' AND version = 2`).Scan(&updated); err != nil {
			t.Fatal(err)
		}
		if updated != updates {
			t.Errorf("%d initiatives updated to version 2, want %d", updated, updates)
		}
		t.Logf("%d creates and %d updates in parallel on %s: %v (/readyz asked %d times)", creates, updates, e.DB.Dialect(), took.Round(time.Millisecond), polls)
	})
}

func newInitiative(title string) map[string]any {
	return map[string]any{"title": title, "kind": "project", "status": "active", "objectives": []int{1, 2}, "pillars": []int{1}}
}
