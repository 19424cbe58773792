package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"kompas/internal/platform/store/storetest"
)

// TestQuickRun runs the whole benchmark at -quick sizes on each engine
// (PostgreSQL when KOMPAS_TEST_POSTGRES names a server) and checks that it
// completes and reports every figure. It asserts no timings: the figures
// belong in docs/performance.md, not in a pass/fail test.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick benchmark takes a few seconds per engine; skipped with -short")
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			cfg := QuickConfig()
			cfg.Duration = 300 * time.Millisecond
			if engine == "postgres" {
				cfg.DB = os.Getenv(storetest.PostgresEnv)
				if cfg.DB == "" {
					t.Skipf("PostgreSQL run skipped: set %s to run it", storetest.PostgresEnv)
				}
			}
			var progress bytes.Buffer
			cfg.Progress = &progress
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, progress.String())
			}
			if rep.Engine != engine {
				t.Errorf("engine %q, want %q", rep.Engine, engine)
			}
			if rep.Initiatives != cfg.N {
				t.Errorf("%d initiatives during the read phases, want %d", rep.Initiatives, cfg.N)
			}
			positive := map[string]float64{
				"API creates/s": rep.APICreates, "raw creates/s": rep.RawCreates,
				"list req/s": rep.ListRPS, "healthz req/s": rep.HealthzRPS, "hello req/s": rep.HelloRPS,
				"max RSS": float64(rep.MaxRSS), "API write CPU": float64(rep.APIWriteCPU),
			}
			for name, v := range positive {
				if !(v > 0) {
					t.Errorf("%s = %v, want > 0", name, v)
				}
			}
			if len(rep.Latencies) != 6 {
				t.Fatalf("%d latency kinds, want 6", len(rep.Latencies))
			}
			for _, l := range rep.Latencies {
				if l.N != cfg.Reqs || l.P50 <= 0 || l.P99 < l.P50 || l.Max < l.P99 {
					t.Errorf("%s: n=%d p50=%s p99=%s max=%s", l.Kind, l.N, l.P50, l.P99, l.Max)
				}
				if l.Kind != "full-text search" && l.Matches == 0 {
					t.Errorf("%s: no request matched anything", l.Kind)
				}
			}
			var md bytes.Buffer
			rep.WriteMarkdown(&md)
			for _, want := range []string{"| 1 | API / raw |", "full-text search: p50 / p99", "list / hello world", "max RSS"} {
				if !strings.Contains(md.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, md.String())
				}
			}
		})
	}
}

func TestFlags(t *testing.T) {
	cfg, strict, err := parseFlags([]string{"-quick", "-n", "5000", "-db", "sqlite:/tmp/x.db", "-strict"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	q := QuickConfig()
	if !cfg.Quick || cfg.N != 5000 || cfg.Writes != q.Writes || cfg.Duration != q.Duration || cfg.DB != "sqlite:/tmp/x.db" || !strict {
		t.Errorf("quick with -n 5000: %+v strict=%v", cfg, strict)
	}
	cfg, _, err = parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d := DefaultConfig(); cfg.N != d.N || cfg.Writes != d.Writes || cfg.Reqs != d.Reqs || cfg.Duration != d.Duration {
		t.Errorf("defaults: %+v", cfg)
	}
	if _, _, err := parseFlags([]string{"-n", "x"}, io.Discard); err == nil {
		t.Error("-n x accepted")
	}
}
