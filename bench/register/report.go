package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets of the kernel issue.
const (
	targetWriteRatio = 0.4                   // API creates / raw INSERTs
	targetSearchP99  = 50 * time.Millisecond // full-text search p99
	targetMaxRSS     = 256 << 20             // bytes
)

type row struct {
	phase, figure, value, target, result string
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// rows lists the figures with their targets.
func (r *Report) rows() []row {
	ratio := r.APICreates / r.RawCreates
	out := []row{
		{"1", "creates/s through the API (POST /api/v1/initiatives: auth, validation, audit)", fmt.Sprintf("%.0f/s", r.APICreates), "", "info"},
		{"1", "creates/s as raw INSERTs (same tables, 1 tx each, prepared SQL)", fmt.Sprintf("%.0f/s", r.RawCreates), "", "info"},
		{"1", "API / raw", fmt.Sprintf("%.2f×", ratio), fmt.Sprintf("≥ %.1f×", targetWriteRatio), passFail(ratio >= targetWriteRatio)},
	}
	for _, l := range r.Latencies {
		rw := row{"2", l.Kind + ": p50 / p99", ms(l.P50) + " / " + ms(l.P99), "", "info"}
		if l.Kind == "full-text search" {
			rw.target = "p99 < " + ms(targetSearchP99)
			rw.result = passFail(l.P99 < targetSearchP99)
		}
		out = append(out, rw)
	}
	out = append(out,
		row{"3", "authenticated list req/s (GET /api/v1/initiatives?per_page=25, bearer token)", fmt.Sprintf("%.0f/s", r.ListRPS), "", "info"},
		row{"3", "hello world req/s (bare http.Server in the same process)", fmt.Sprintf("%.0f/s", r.HelloRPS), "", "info"},
		row{"3", "/healthz req/s (same server and middleware, no token)", fmt.Sprintf("%.0f/s", r.HealthzRPS), "", "info"},
		row{"3", "list / hello world", fmt.Sprintf("%.4f×", r.ListRPS/r.HelloRPS), "", "info"},
		row{"3", "list / /healthz", fmt.Sprintf("%.4f×", r.ListRPS/r.HealthzRPS), "", "info"},
		row{"4", "max RSS of the process (server + load generator), all phases", mib(r.MaxRSS), "< " + mib(targetMaxRSS), passFail(r.MaxRSS < targetMaxRSS)},
	)
	return out
}

// AllPass reports whether every figure with a target met it.
func (r *Report) AllPass() bool {
	for _, rw := range r.rows() {
		if rw.result == "FAIL" {
			return false
		}
	}
	return true
}

// WriteMarkdown prints the report.
func (r *Report) WriteMarkdown(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "## Register benchmark: %s\n\n", r.Engine)
	fmt.Fprintf(w, "- %s, %s, %d CPUs; database %s\n", r.GoVersion, r.Platform, r.CPUs, r.DB)
	fmt.Fprintf(w, "- %d initiatives during the read phases (%d bulk-seeded in %s, then %d through the API and %d raw)\n",
		r.Initiatives, r.Seeded, r.SeedTime.Round(time.Millisecond), c.Writes, c.Writes)
	fmt.Fprintf(w, "- load average (1, 5, 15 min) at start %s, at end %s\n", r.LoadStart, r.LoadEnd)
	fmt.Fprintf(w, "- client concurrency %d for writes and req/s (%s each); latency: %d sequential requests per kind; total run %s\n\n",
		c.Conc, c.Duration, c.Reqs, r.Total.Round(time.Second))
	fmt.Fprintln(w, "| # | figure | value | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, rw := range r.rows() {
		t := rw.target
		if t == "" {
			t = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", rw.phase, rw.figure, rw.value, t, rw.result)
	}
	fmt.Fprintf(w, "\n### Latency through the API (%d initiatives, one request at a time)\n\n", r.Initiatives)
	fmt.Fprintln(w, "| kind | example | requests | mean matches | p50 | p99 | mean | max |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, l := range r.Latencies {
		fmt.Fprintf(w, "| %s | `%s` | %d | %.0f | %s | %s | %s | %s |\n", l.Kind, l.Example, l.N, l.Matches, ms(l.P50), ms(l.P99), ms(l.Mean), ms(l.Max))
	}
	for _, l := range r.SearchSplit {
		fmt.Fprintf(w, "| ↳ %s | (same requests) | %d | %.0f | %s | %s | %s | %s |\n", l.Kind, l.N, l.Matches, ms(l.P50), ms(l.P99), ms(l.Mean), ms(l.Max))
	}
	fmt.Fprintf(w, "\n### CPU time of this process (server + load generator; on PostgreSQL the database's own CPU is not included)\n\n")
	fmt.Fprintln(w, "| work | CPU per operation |")
	fmt.Fprintln(w, "|---|---|")
	per := func(d time.Duration, n int) string { return ms(d / time.Duration(max(n, 1))) }
	fmt.Fprintf(w, "| create through the API | %s |\n", per(r.APIWriteCPU, c.Writes))
	fmt.Fprintf(w, "| raw INSERT of one initiative | %s |\n", per(r.RawWriteCPU, c.Writes))
	fmt.Fprintf(w, "| authenticated list request | %s |\n", ms(r.ListCPU))
	fmt.Fprintf(w, "| /healthz request | %s |\n", ms(r.HealthzCPU))
	fmt.Fprintf(w, "| hello world request | %s |\n", ms(r.HelloCPU))
	fmt.Fprintf(w, "\n### RSS by phase (VmRSS every 100 ms, %d samples)\n\n", r.Samples)
	var ph []string
	for _, p := range r.PhaseRSS {
		ph = append(ph, fmt.Sprintf("%s %s", p.Phase, mib(p.Max)))
	}
	fmt.Fprintf(w, "%s\n", strings.Join(ph, " · "))
}
