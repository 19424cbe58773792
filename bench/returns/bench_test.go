package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestQuickRun runs the benchmark at a tiny size on SQLite, so it keeps
// working: seeding, the queue, the statistics and both write paths, and
// the table it prints. It asserts what was done, not how fast.
func TestQuickRun(t *testing.T) {
	cfg := Config{N: 2000, Chunk: 1000, Reqs: 8, Writes: 8, Stats: 1, Conc: 2, Timeout: 2 * time.Minute}
	r, err := Run(context.Background(), cfg, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if r.Cases != 2000+200 || r.NGOCases < 40 || len(r.QueueKinds) != 4 || r.APIRate <= 0 || r.RawRate <= 0 || r.StatsMax <= 0 {
		t.Errorf("result %+v", r)
	}
	var b bytes.Buffer
	WriteMarkdown(&b, cfg, []*Result{r})
	for _, want := range []string{"**NGO work queue p99**", "**API ÷ raw**", "**statistics over every case**", "| 2,200 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
