package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kompas/bench/benchkit"
	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/platform/store"
)

// writeRounds is how many alternating API/raw rounds the write phase has.
const writeRounds = 4

// benchUser is the policy officer whose bearer token every request carries.
const benchUser = "policy@mfa.example"

// Config sizes a run.
type Config struct {
	N        int           // initiatives in the database for the latency and throughput phases
	Writes   int           // creates through the API, and as many raw INSERTs
	Reqs     int           // requests per latency kind
	Conc     int           // client goroutines for the write and throughput phases
	Duration time.Duration // length of each throughput measurement
	DB       string        // "" (a temporary SQLite file), sqlite:PATH or postgres://…
	Quick    bool          // small sizes, for the smoke test
	Seed     uint64        // of the data generator
	Timeout  time.Duration // of the whole run
	Progress io.Writer     // progress lines; nil for none

	Keep         bool   // keep the database (the SQLite file or the PostgreSQL schema) for inspection
	CPUProfile   string // file for a CPU profile; "" for none
	ProfilePhase string // the phase to profile (setup, seed, writes, latency, throughput); "" for the whole run
}

// DefaultConfig is the full benchmark.
func DefaultConfig() Config {
	return Config{N: 100_000, Writes: 2000, Reqs: 300, Conc: 4, Duration: 5 * time.Second, Seed: 1, Timeout: 15 * time.Minute}
}

// QuickConfig is the smoke-test size: well under 30 s.
func QuickConfig() Config {
	c := DefaultConfig()
	c.Quick, c.N, c.Writes, c.Reqs, c.Duration, c.Timeout = true, 3000, 100, 30, time.Second, 2*time.Minute
	return c
}

// Latency is one kind of read request's figures.
type Latency struct {
	Kind     string
	Example  string // one request path of the kind
	N        int
	P50, P99 time.Duration
	Mean     time.Duration
	Max      time.Duration
	Matches  float64 // mean "total" of the responses
}

// PhaseRSS is the largest RSS seen during a phase.
type PhaseRSS struct {
	Phase string
	Max   uint64
}

// Report is what a run measured.
type Report struct {
	Engine, DB  string
	GoVersion   string
	Platform    string
	CPUs        int
	Config      Config
	Seeded      int
	SeedTime    time.Duration
	Initiatives int // in the database during the latency and throughput phases

	APICreates, RawCreates     float64 // per second
	APIWriteTime, RawWriteTime time.Duration
	APIWriteCPU, RawWriteCPU   time.Duration // this process's CPU time (user+sys) over each side's rounds

	Latencies   []Latency
	SearchSplit []Latency // the search requests by share of the register matched

	ListRPS, HealthzRPS, HelloRPS float64
	ListCPU, HealthzCPU, HelloCPU time.Duration // this process's CPU time per request

	LoadStart, LoadEnd string // /proc/loadavg when the run began and ended: other work on the machine

	MaxRSS   uint64
	PhaseRSS []PhaseRSS
	Samples  int
	Total    time.Duration
}

func (c Config) logf(start time.Time, format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// Run performs the whole benchmark on one database.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if cfg.N <= 0 || cfg.Writes <= 0 || cfg.Reqs <= 0 || cfg.Conc <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("bench: -n, -writes, -reqs, -c and -duration must be positive")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	rss := startRSS(100 * time.Millisecond)
	defer rss.stop()
	prof, err := newProfiler(cfg.CPUProfile, cfg.ProfilePhase)
	if err != nil {
		return nil, err
	}
	defer prof.stop()
	phase := func(name string) {
		rss.setPhase(name)
		prof.phase(name)
	}
	phase("setup")

	rep = &Report{Config: cfg, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU(), LoadStart: benchkit.LoadAvg()}

	// The database: a fresh SQLite file or a fresh PostgreSQL schema.
	dbURL, rawDSN, cleanup, err := prepareDB(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		cfg.logf(start, "keeping the database: %s", dbURL)
	} else {
		defer cleanup()
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rep.Engine, rep.DB = db.Dialect().String(), db.String()
	if _, err := app.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("bench: migrate: %w", err)
	}
	password := randomHex(12)
	if _, err := demo.Load(ctx, db, password); err != nil {
		return nil, fmt.Errorf("bench: demo: %w", err)
	}
	conns := 1
	if db.Dialect() == store.Postgres {
		conns = max(8, runtime.NumCPU()*4)
	}
	raw, err := openRaw(ctx, db.Dialect(), rawDSN, conns)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	cfg.logf(start, "%s ready: %s", rep.Engine, rep.DB)

	// The server, in this process, on the loopback interface, and a bare
	// hello-world server beside it.
	srvCtx, stopSrv := context.WithCancel(context.Background())
	srv, err := app.NewServer(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		stopSrv()
		return nil, err
	}
	ready := make(chan string, 1)
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.ListenAndServe(srvCtx, "127.0.0.1:0", ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-srvErr:
		stopSrv()
		return nil, fmt.Errorf("bench: server: %w", err)
	}
	defer func() {
		stopSrv()
		if e := <-srvErr; e != nil && err == nil {
			err = fmt.Errorf("bench: server: %w", e)
		}
	}()
	helloLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hello := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello\n")
	}), ReadHeaderTimeout: 10 * time.Second}
	go hello.Serve(helloLn)
	defer hello.Close()

	c := newClient("http://"+addr, cfg.Conc)
	defer c.hc.CloseIdleConnections()
	if c.token, err = c.login(ctx, benchUser, password); err != nil {
		return nil, err
	}

	// Phase 0: bulk seed so that, after the write phase, the database holds N
	// initiatives.
	phase("seed")
	var existing int
	var maxID int64
	if err := raw.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0) FROM initiatives`).Scan(&existing, &maxID); err != nil {
		return nil, err
	}
	rep.Seeded = max(0, cfg.N-2*cfg.Writes-existing)
	t0 := time.Now()
	next := 0
	err = raw.seed(ctx, newGen(cfg.Seed, raw.orgSlugs()), rep.Seeded, maxID+1, 2000, func(done int) {
		if done*10/max(1, rep.Seeded) >= next {
			cfg.logf(start, "seed: %d/%d initiatives", done, rep.Seeded)
			next = done*10/max(1, rep.Seeded) + 1
		}
	})
	if err != nil {
		return nil, err
	}
	rep.SeedTime = time.Since(t0)
	cfg.logf(start, "seeded %d initiatives in %s", rep.Seeded, rep.SeedTime.Round(time.Millisecond))

	// Phase 1: creates through the API against raw INSERTs of the same kind
	// of rows, with the same client concurrency.
	phase("writes")
	g := newGen(cfg.Seed+1, raw.orgSlugs())
	bodies := make([][]byte, cfg.Writes)
	recs := make([]record, cfg.Writes)
	for i := range bodies {
		if bodies[i], err = json.Marshal(g.input()); err != nil {
			return nil, err
		}
		recs[i] = raw.record(g.input())
	}
	w, err := raw.prepareWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	// Start from a checkpointed log, so the seed's write-back is not charged
	// to whichever side runs first, and alternate the sides in rounds, so
	// checkpoints during the phase fall on both alike.
	if err := raw.checkpoint(ctx); err != nil {
		return nil, err
	}
	rounds := min(writeRounds, cfg.Writes)
	for k := 0; k < rounds; k++ {
		lo, hi := cfg.Writes*k/rounds, cfg.Writes*(k+1)/rounds
		api := func() error {
			cpu0 := cpuTime()
			el, err := benchkit.RunN(ctx, cfg.Conc, hi-lo, func(i int) error {
				_, err := c.do(ctx, "POST", "/api/v1/initiatives", c.token, bodies[lo+i], http.StatusCreated)
				return err
			})
			rep.APIWriteTime += el
			rep.APIWriteCPU += cpuTime() - cpu0
			if err != nil {
				return fmt.Errorf("bench: API creates: %w", err)
			}
			return nil
		}
		rawRound := func() error {
			cpu0 := cpuTime()
			el, err := benchkit.RunN(ctx, cfg.Conc, hi-lo, func(i int) error { return w.write(ctx, recs[lo+i]) })
			rep.RawWriteTime += el
			rep.RawWriteCPU += cpuTime() - cpu0
			if err != nil {
				return fmt.Errorf("bench: raw inserts: %w", err)
			}
			return nil
		}
		first, second := api, rawRound
		if k%2 == 1 {
			first, second = rawRound, api
		}
		if err := first(); err != nil {
			return nil, err
		}
		if err := second(); err != nil {
			return nil, err
		}
	}
	rep.APICreates = float64(cfg.Writes) / rep.APIWriteTime.Seconds()
	rep.RawCreates = float64(cfg.Writes) / rep.RawWriteTime.Seconds()
	cfg.logf(start, "API: %d creates in %s (%.0f/s); raw: %d inserts in %s (%.0f/s); %d rounds",
		cfg.Writes, rep.APIWriteTime.Round(time.Millisecond), rep.APICreates,
		cfg.Writes, rep.RawWriteTime.Round(time.Millisecond), rep.RawCreates, rounds)
	if db.Dialect() == store.Postgres {
		// As autovacuum would after the write burst, so the read phases see
		// current statistics.
		if _, err := raw.db.ExecContext(ctx, `ANALYZE`); err != nil {
			return nil, err
		}
	}
	if err := raw.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM initiatives`).Scan(&rep.Initiatives); err != nil {
		return nil, err
	}

	// Phase 2: list and search latency, one request at a time.
	phase("latency")
	if rep.Latencies, rep.SearchSplit, err = latencies(ctx, c, cfg, newGen(cfg.Seed+2, nil), rep.Initiatives); err != nil {
		return nil, err
	}
	for _, l := range rep.Latencies {
		cfg.logf(start, "latency %-24s p50 %7s p99 %7s (mean matches %.0f)", l.Kind, ms(l.P50), ms(l.P99), l.Matches)
	}

	// Phase 3: requests per second, authenticated list against hello world.
	phase("throughput")
	tput := func(base, path, token string) (float64, time.Duration, error) {
		cpu0 := cpuTime()
		n, el, err := runFor(ctx, cfg.Conc, cfg.Duration, func() error {
			_, err := c.doURL(ctx, "GET", base+path, token, nil, http.StatusOK, false)
			return err
		})
		return float64(n) / el.Seconds(), (cpuTime() - cpu0) / time.Duration(max(n, 1)), err
	}
	if rep.ListRPS, rep.ListCPU, err = tput(c.base, "/api/v1/initiatives?per_page=25", c.token); err != nil {
		return nil, fmt.Errorf("bench: list throughput: %w", err)
	}
	if rep.HealthzRPS, rep.HealthzCPU, err = tput(c.base, "/healthz", ""); err != nil {
		return nil, fmt.Errorf("bench: healthz throughput: %w", err)
	}
	if rep.HelloRPS, rep.HelloCPU, err = tput("http://"+helloLn.Addr().String(), "/", ""); err != nil {
		return nil, fmt.Errorf("bench: hello throughput: %w", err)
	}
	cfg.logf(start, "throughput: list %.0f/s, /healthz %.0f/s, hello %.0f/s", rep.ListRPS, rep.HealthzRPS, rep.HelloRPS)

	prof.stop()
	rss.stop()
	rep.MaxRSS, rep.PhaseRSS, rep.Samples = rss.result()
	rep.Total = time.Since(start)
	rep.LoadEnd = benchkit.LoadAvg()
	return rep, nil
}

// prepareDB turns the -db flag into the store's URL, the raw handle's DSN
// and a cleanup that removes what was made.
func prepareDB(ctx context.Context, flagDB string) (dbURL, rawDSN string, cleanup func(), err error) {
	switch {
	case flagDB == "":
		dir, err := os.MkdirTemp("", "kompas-bench-")
		if err != nil {
			return "", "", nil, err
		}
		path := filepath.Join(dir, "kompas.db")
		return "sqlite:" + path, path, func() { os.RemoveAll(dir) }, nil
	case strings.HasPrefix(flagDB, "postgres://"), strings.HasPrefix(flagDB, "postgresql://"):
		schema := "kb_" + randomHex(6)
		admin, err := sql.Open("pgx", flagDB)
		if err != nil {
			return "", "", nil, err
		}
		if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
			admin.Close()
			return "", "", nil, fmt.Errorf("bench: create schema: %w", err)
		}
		u, err := url.Parse(flagDB)
		if err != nil {
			admin.Close()
			return "", "", nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), u.String(), func() {
			dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, _ = admin.ExecContext(dctx, `DROP SCHEMA `+schema+` CASCADE`)
			admin.Close()
		}, nil
	case strings.HasPrefix(flagDB, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(flagDB, "sqlite:"), "//")
		return "sqlite:" + path, path, func() {}, nil
	case strings.HasSuffix(flagDB, ".db"):
		return "sqlite:" + flagDB, flagDB, func() {}, nil
	}
	return "", "", nil, fmt.Errorf("bench: -db must be sqlite:PATH or postgres://…, not %q", flagDB)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// client calls the server over loopback HTTP/1.1 with keep-alive.
type client struct {
	hc    *http.Client
	base  string
	token string
}

func newClient(base string, conc int) *client {
	tr := &http.Transport{
		Proxy:               nil, // only ever 127.0.0.1
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        4 * conc,
		MaxIdleConnsPerHost: 2 * conc,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &client{hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}, base: base}
}

func (c *client) login(ctx context.Context, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	b, err := c.do(ctx, "POST", "/api/v1/auth/login", "", body, http.StatusOK)
	if err != nil {
		return "", fmt.Errorf("bench: login: %w", err)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("bench: login: no token in %s", b)
	}
	return out.Token, nil
}

func (c *client) do(ctx context.Context, method, path, token string, body []byte, want int) ([]byte, error) {
	return c.doURL(ctx, method, c.base+path, token, body, want, true)
}

// doURL sends one request and reads the whole response; keep says whether
// to return the body.
func (c *client) doURL(ctx context.Context, method, u, token string, body []byte, want int, keep bool) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var b []byte
	if keep || res.StatusCode != want {
		b, err = io.ReadAll(res.Body)
	} else {
		_, err = io.Copy(io.Discard, res.Body)
	}
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %.300s", method, u, res.StatusCode, want, b)
	}
	return b, nil
}

// runFor calls fn on conc goroutines for d and counts the calls that
// succeeded; the first error stops it.
func runFor(ctx context.Context, conc int, d time.Duration, fn func() error) (int, time.Duration, error) {
	var count atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var failed atomic.Bool
	start := time.Now()
	deadline := start.Add(d)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil && time.Now().Before(deadline) {
				if err := fn(); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return int(count.Load()), time.Since(start), first
}

// latencyKinds are the read requests measured, each a path maker.
func latencyKinds(g *gen) []struct {
	kind string
	path func() string
} {
	return []struct {
		kind string
		path func() string
	}{
		{"list, first page", func() string { return "/api/v1/initiatives" }},
		{"filter by objective", func() string { return fmt.Sprintf("/api/v1/initiatives?objective=%d", 1+g.r.IntN(23)) }},
		{"filter by country", func() string {
			return "/api/v1/initiatives?country=" + commonCountries[g.r.IntN(len(commonCountries))]
		}},
		{"objective + pillar", func() string {
			return fmt.Sprintf("/api/v1/initiatives?objective=%d&pillar=%d", 1+g.r.IntN(23), 1+g.r.IntN(6))
		}},
		{"full-text search", func() string { return "/api/v1/initiatives?q=" + url.QueryEscape(g.query()) }},
		{"deep page (page 100)", func() string { return "/api/v1/initiatives?page=100" }},
	}
}

// latencies sends cfg.Reqs requests of each kind, one at a time, the kinds
// interleaved, after a few unmeasured warm-up requests. The search requests
// are also reported split by how much of the register they match
// (SearchSplit), since ranking cost grows with the number of matches.
func latencies(ctx context.Context, c *client, cfg Config, g *gen, n int) (main, split []Latency, err error) {
	kinds := latencyKinds(g)
	type sample struct {
		d       time.Duration
		matches int
	}
	samples := make([][]sample, len(kinds))
	examples := make([]string, len(kinds))
	warm := min(10, cfg.Reqs)
	for round := 0; round < warm+cfg.Reqs; round++ {
		for k, kind := range kinds {
			path := kind.path()
			t0 := time.Now()
			b, err := c.do(ctx, "GET", path, c.token, nil, http.StatusOK)
			el := time.Since(t0)
			if err != nil {
				return nil, nil, fmt.Errorf("bench: %s: %w", kind.kind, err)
			}
			if round < warm {
				continue
			}
			var page struct {
				Total int `json:"total"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				return nil, nil, fmt.Errorf("bench: %s: %w", kind.kind, err)
			}
			samples[k] = append(samples[k], sample{el, page.Total})
			if examples[k] == "" {
				examples[k] = path
			}
		}
	}
	summarise := func(kind, example string, ss []sample) Latency {
		l := Latency{Kind: kind, Example: example, N: len(ss)}
		if len(ss) == 0 {
			return l
		}
		ts := make([]time.Duration, len(ss))
		var sum time.Duration
		var matches float64
		for i, s := range ss {
			ts[i] = s.d
			sum += s.d
			matches += float64(s.matches)
		}
		slices.Sort(ts)
		l.P50, l.P99, l.Max = pct(ts, 0.50), pct(ts, 0.99), ts[len(ts)-1]
		l.Mean, l.Matches = sum/time.Duration(len(ts)), matches/float64(len(ts))
		return l
	}
	for k, kind := range kinds {
		main = append(main, summarise(kind.kind, examples[k], samples[k]))
		if kind.kind != "full-text search" {
			continue
		}
		var few, many []sample
		for _, s := range samples[k] {
			if s.matches*100 < searchSplitPct*n {
				few = append(few, s)
			} else {
				many = append(many, s)
			}
		}
		split = append(split,
			summarise(fmt.Sprintf("search matching < %d %%", searchSplitPct), "", few),
			summarise(fmt.Sprintf("search matching ≥ %d %%", searchSplitPct), "", many))
	}
	return main, split, nil
}

// searchSplitPct splits the search requests by the share of initiatives
// they match.
const searchSplitPct = 5

// pct is the nearest-rank percentile of sorted ts.
func pct(ts []time.Duration, p float64) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	i := int(float64(len(ts))*p+0.999999) - 1
	return ts[min(max(i, 0), len(ts)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
