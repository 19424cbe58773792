// Command register is the performance benchmark of the programme register
// and the kernel under it. In one run, on one database, it measures:
//
//  1. initiative creates per second through the HTTP API (a real server from
//     app.NewServer on 127.0.0.1, a bearer token of policy@mfa.example,
//     validation and audit included) against raw INSERTs of the same kind of
//     rows (initiatives, the child tables and the search entry, one
//     transaction per initiative, prepared SQL through database/sql);
//  2. list, filter, search and deep-page latency p50/p99 through the API
//     with -n initiatives, bulk-loaded first;
//  3. authenticated list requests per second against a hello-world server
//     in the same process and against /healthz behind the same middleware;
//  4. the process's RSS, sampled every 100 ms throughout.
//
// Usage (from the module root):
//
//	go run ./bench/register [-n 100000] [-writes 2000] [-reqs 300] [-c 4] [-duration 5s] [-db postgres://…] [-quick]
//
// Without -db it uses a fresh SQLite file in a temporary folder. With a
// postgres:// URL it works in a fresh schema (search_path) that it drops at
// the end. HTTP goes only to 127.0.0.1; every phase is bounded in count or
// time (and the whole run by -timeout). The results are a Markdown table on
// standard output; progress goes to standard error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func parseFlags(args []string, stderr io.Writer) (Config, bool, error) {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := DefaultConfig()
	quick := fs.Bool("quick", false, "small sizes (-n 3000 -writes 100 -reqs 30 -duration 1s), under 30 s; explicit flags still win")
	n := fs.Int("n", def.N, "initiatives in the database for the read phases")
	writes := fs.Int("writes", def.Writes, "creates through the API, and as many raw INSERTs")
	reqs := fs.Int("reqs", def.Reqs, "requests per latency kind")
	conc := fs.Int("c", def.Conc, "client goroutines for the write and req/s phases")
	dur := fs.Duration("duration", def.Duration, "length of each req/s measurement")
	db := fs.String("db", "", "sqlite:PATH or postgres://… (default: a temporary SQLite file)")
	seed := fs.Uint64("seed", def.Seed, "seed of the data generator")
	timeout := fs.Duration("timeout", def.Timeout, "stop the whole run after this long")
	keep := fs.Bool("keep", false, "keep the database afterwards (for inspection) instead of removing it")
	strict := fs.Bool("strict", false, "exit with status 3 when a target is missed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	profPhase := fs.String("profile-phase", "", "profile only this phase: setup, seed, writes, latency or throughput (default: the whole run)")
	if err := fs.Parse(args); err != nil {
		return Config{}, false, err
	}
	cfg := def
	if *quick {
		cfg = QuickConfig()
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	pick := func(name string, dst *int, v int) {
		if set[name] {
			*dst = v
		}
	}
	pick("n", &cfg.N, *n)
	pick("writes", &cfg.Writes, *writes)
	pick("reqs", &cfg.Reqs, *reqs)
	pick("c", &cfg.Conc, *conc)
	if set["duration"] {
		cfg.Duration = *dur
	}
	if set["timeout"] {
		cfg.Timeout = *timeout
	}
	if set["seed"] {
		cfg.Seed = *seed
	}
	cfg.DB, cfg.Keep = *db, *keep
	cfg.CPUProfile, cfg.ProfilePhase = *cpuprofile, *profPhase
	cfg.Progress = stderr
	return cfg, *strict, nil
}

func main() {
	cfg, strict, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	rep.WriteMarkdown(os.Stdout)
	if strict && !rep.AllPass() {
		os.Exit(3)
	}
}
