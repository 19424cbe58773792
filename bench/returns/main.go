// Command returns benchmarks return case management at scale (issue 4):
// it bulk-seeds a fresh database with -n cases (1,000,000 by default) over
// 50 counselling organisations with raw SQL, then measures through the
// real HTTP API on 127.0.0.1:
//
//   - an NGO counsellor's work queue (first pages, later pages, a stage, the
//     overdue cases): p50 and p99, target p99 < 50 ms;
//   - registering a case and making three moves through the API, against a
//     raw SQL baseline doing the same writes in the same transactions
//     (audit chain included), alternating rounds: target API ≥ 0.4 × raw;
//   - the statistics over every case: target < 500 ms.
//
// It runs on SQLite (a temporary file) and, when -pg names a server (by
// default the one .ci/run uses, if it answers), on PostgreSQL in a fresh
// schema, and prints one Markdown table with targets and ratios.
//
//	go run ./bench/returns                    # 1 M cases, SQLite and PostgreSQL
//	go run ./bench/returns -n 100000 -engines sqlite
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"kompas/bench/benchkit"
	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/platform/store"
)

// Config sizes a run.
type Config struct {
	N       int           // cases seeded
	Chunk   int           // cases per seeding transaction
	Reqs    int           // work-queue requests
	Writes  int           // create + 3 moves sequences per side (API and raw)
	Stats   int           // statistics requests
	Conc    int           // concurrent clients in the write phase
	PG      string        // PostgreSQL server URL
	Engines []string      // sqlite, postgres
	Timeout time.Duration // of each engine's run
	Out     io.Writer     // progress
	Profile string        // CPU profile of the write phase; "" for none
}

// Result is one engine's figures.
type Result struct {
	Engine             string
	Cases              int
	SeedTime           time.Duration
	QueueKinds         []Latency
	QueueP50, QueueP99 time.Duration
	NGOCases           int
	APIRate, RawRate   float64 // sequences per second
	StatsMedian        time.Duration
	StatsMax           time.Duration
	Load               string // /proc/loadavg before and after: other work on the machine
}

// Latency is one kind of queue request.
type Latency struct {
	Kind     string
	N        int
	P50, P99 time.Duration
}

const ngoUser = "counsellor@ngo-one.example"

func main() {
	cfg := Config{Out: os.Stderr}
	var engines string
	flag.IntVar(&cfg.N, "n", 1_000_000, "cases to seed")
	flag.IntVar(&cfg.Chunk, "chunk", 100_000, "cases per seeding transaction")
	flag.IntVar(&cfg.Reqs, "reqs", 400, "work-queue requests")
	flag.IntVar(&cfg.Writes, "writes", 400, "create + three moves sequences, per side and in all")
	flag.IntVar(&cfg.Stats, "stats", 7, "statistics requests")
	flag.IntVar(&cfg.Conc, "c", 4, "concurrent clients in the write phase")
	flag.StringVar(&cfg.PG, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server (a fresh schema is made and dropped)")
	flag.StringVar(&engines, "engines", "sqlite,postgres", "engines to run, comma-separated")
	flag.DurationVar(&cfg.Timeout, "timeout", 90*time.Minute, "limit per engine")
	flag.StringVar(&cfg.Profile, "cpuprofile", "", "write a CPU profile of the write phase (API side) to this file, with the engine's name added")
	flag.Parse()
	if cfg.N < 1000 || cfg.Reqs < 1 || cfg.Writes < 1 || cfg.Stats < 1 || cfg.Conc < 1 || cfg.Chunk < 1 {
		fmt.Fprintln(os.Stderr, "returns: -n must be at least 1000 and the other sizes positive")
		os.Exit(2)
	}
	cfg.Engines = strings.Split(engines, ",")
	var results []*Result
	for _, engine := range cfg.Engines {
		r, err := Run(context.Background(), cfg, strings.TrimSpace(engine))
		if err != nil {
			fmt.Fprintf(os.Stderr, "returns: %s: %v\n", engine, err)
			if errors.Is(err, errSkip) {
				continue
			}
			os.Exit(1)
		}
		results = append(results, r)
	}
	WriteMarkdown(os.Stdout, cfg, results)
}

// errSkip is benchkit.FreshDB's: no PostgreSQL to measure on.
var errSkip = benchkit.ErrNoPostgres

func logf(w io.Writer, start time.Time, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "[%7.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// Run seeds and measures one engine.
func Run(ctx context.Context, cfg Config, engine string) (*Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	dbURL, cleanup, err := benchkit.FreshDB(ctx, engine, cfg.PG, "returns")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	res := &Result{Engine: engine, Load: benchkit.LoadAvg()}
	if _, err := app.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	password := "bench-" + randomHex(8)
	if _, err := demo.Load(ctx, db, password); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	logf(cfg.Out, start, "%s: migrated, demo loaded; seeding %s cases", engine, thousands(cfg.N))
	seedStart := time.Now()
	sd := &seeder{db: db, now: store.Now()}
	err = sd.seed(ctx, cfg.N, cfg.Chunk, func(done int) {
		logf(cfg.Out, start, "%s: seeded %s cases (%.0f/s)", engine, thousands(done), float64(done)/time.Since(seedStart).Seconds())
	})
	if err != nil {
		return nil, err
	}
	res.SeedTime = time.Since(seedStart)
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM return_cases`).Scan(&res.Cases); err != nil {
		return nil, err
	}
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM return_cases c JOIN organisations o ON o.id = c.counselling_org_id WHERE o.slug = 'ngo-one'`).Scan(&res.NGOCases); err != nil {
		return nil, err
	}
	logf(cfg.Out, start, "%s: seeded in %s; %s cases, %s of them NGO One's", engine, res.SeedTime.Round(time.Second), thousands(res.Cases), thousands(res.NGOCases))

	srv, err := app.NewServer(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	c := newClient("http://"+ln.Addr().String(), cfg.Conc)
	tokens := map[string]string{}
	for _, email := range []string{ngoUser, "analyst@dtm.example"} {
		if tokens[email], err = c.login(ctx, email, password); err != nil {
			return nil, err
		}
	}

	// The NGO's work queue.
	kinds := []struct{ name, query string }{
		{"first page", ""},
		{"page 2-40", "page=%d"},
		{"one stage", "stage=documents"},
		{"overdue", "overdue=1"},
	}
	var all []time.Duration
	for k, kind := range kinds {
		n := cfg.Reqs / len(kinds)
		var ts []time.Duration
		for i := 0; i < max(1, n); i++ {
			q := kind.query
			if strings.Contains(q, "%d") {
				q = fmt.Sprintf(q, 2+i%39)
			}
			t0 := time.Now()
			if _, err := c.do(ctx, "GET", "/api/v1/returns/cases?"+q, tokens[ngoUser], nil, http.StatusOK); err != nil {
				return nil, fmt.Errorf("queue %s: %w", kind.name, err)
			}
			ts = append(ts, time.Since(t0))
		}
		all = append(all, ts...)
		res.QueueKinds = append(res.QueueKinds, Latency{Kind: kinds[k].name, N: len(ts), P50: pct(ts, 50), P99: pct(ts, 99)})
	}
	res.QueueP50, res.QueueP99 = pct(all, 50), pct(all, 99)
	logf(cfg.Out, start, "%s: work queue p50 %s, p99 %s over %d requests", engine, ms(res.QueueP50), ms(res.QueueP99), len(all))

	// The statistics over every case.
	var st []time.Duration
	for i := 0; i < cfg.Stats; i++ {
		t0 := time.Now()
		if _, err := c.do(ctx, "GET", "/api/v1/returns/stats", tokens["analyst@dtm.example"], nil, http.StatusOK); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		st = append(st, time.Since(t0))
	}
	res.StatsMedian, res.StatsMax = pct(st, 50), slices.Max(st)
	logf(cfg.Out, start, "%s: statistics median %s, max %s", engine, ms(res.StatsMedian), ms(res.StatsMax))

	// Writes: API against raw SQL, in alternating rounds.
	raw := &rawWriter{db: db, email: ngoUser}
	if err := db.QueryRow(ctx, `SELECT u.id, u.org_id FROM users u WHERE u.email = ?`, ngoUser).Scan(&raw.userID, &raw.orgID); err != nil {
		return nil, err
	}
	var apiTime, rawTime time.Duration
	const rounds = 4
	var seq atomic.Int64
	per := max(1, cfg.Writes/rounds)
	if cfg.Profile != "" {
		f, err := os.Create(cfg.Profile + "." + engine)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	for r := 0; r < rounds; r++ {
		if cfg.Profile != "" && r == rounds/2 {
			pprof.StopCPUProfile()
		}
		d, err := benchkit.RunN(ctx, cfg.Conc, per, func(int) error { return apiSequence(ctx, c, tokens[ngoUser]) })
		if err != nil {
			return nil, fmt.Errorf("API writes: %w", err)
		}
		apiTime += d
		d, err = benchkit.RunN(ctx, cfg.Conc, per, func(int) error {
			return raw.sequence(ctx, fmt.Sprintf("RET-RAW-%d-%s", seq.Add(1), randomHex(3)))
		})
		if err != nil {
			return nil, fmt.Errorf("raw writes: %w", err)
		}
		rawTime += d
	}
	res.APIRate = float64(per*rounds) / apiTime.Seconds()
	res.RawRate = float64(per*rounds) / rawTime.Seconds()
	logf(cfg.Out, start, "%s: create + 3 moves: API %.0f/s, raw %.0f/s (%.2f×)", engine, res.APIRate, res.RawRate, res.APIRate/res.RawRate)
	res.Load += " → " + benchkit.LoadAvg()
	return res, nil
}

// apiSequence registers a case and moves it three times through the API,
// as the NGO's counsellor.
func apiSequence(ctx context.Context, c *client, token string) error {
	body := []byte(`{"country_of_return":"IQ","counselling_org":"ngo-one","programme":"national","migrants":[{"given_name":"Layla","family_name":"Haddad","birth_date":"1990-04-12","sex":"female","nationality":"IQ","documents_held":["passport"]}]}`)
	b, err := c.do(ctx, "POST", "/api/v1/returns/cases", token, body, http.StatusCreated)
	if err != nil {
		return err
	}
	var created struct{ ID int64 }
	if err := json.Unmarshal(b, &created); err != nil {
		return err
	}
	for _, m := range []string{`{"to":"counselling"}`, `{"to":"documents"}`, `{"to":"withdrawn","reason":"The migrant decided to stay."}`} {
		if _, err := c.do(ctx, "POST", fmt.Sprintf("/api/v1/returns/cases/%d/transitions", created.ID), token, []byte(m), http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// client calls the server over loopback HTTP/1.1 with keep-alive.
type client struct {
	hc   *http.Client
	base string
}

func newClient(base string, conc int) *client {
	tr := &http.Transport{Proxy: nil, MaxIdleConns: 4 * conc, MaxIdleConnsPerHost: 2 * conc, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	return &client{hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, base: base}
}

func (c *client) login(ctx context.Context, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	b, err := c.do(ctx, "POST", "/api/v1/auth/login", "", body, http.StatusOK)
	if err != nil {
		return "", err
	}
	var out struct{ Token string }
	err = json.Unmarshal(b, &out)
	return out.Token, err
}

func (c *client) do(ctx context.Context, method, path, token string, body []byte, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
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
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d, want %d: %.300s", method, path, res.StatusCode, want, b)
	}
	return b, nil
}

func pct(ts []time.Duration, p float64) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func pass(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

// WriteMarkdown prints the results as one table, engines side by side.
func WriteMarkdown(w io.Writer, cfg Config, rs []*Result) {
	fmt.Fprintf(w, "Go %s, %s/%s, %d CPUs, %s\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2 January 2006"))
	fmt.Fprint(w, "| measure | target |")
	for _, r := range rs {
		fmt.Fprintf(w, " %s | |", r.Engine)
	}
	fmt.Fprint(w, "\n|---|---|")
	for range rs {
		fmt.Fprint(w, "---:|---|")
	}
	fmt.Fprintln(w)
	row := func(name, target string, cell func(r *Result) (string, string)) {
		fmt.Fprintf(w, "| %s | %s |", name, target)
		for _, r := range rs {
			v, note := cell(r)
			fmt.Fprintf(w, " %s | %s |", v, note)
		}
		fmt.Fprintln(w)
	}
	row("cases in the database", "1,000,000", func(r *Result) (string, string) { return thousands(r.Cases), "" })
	row("bulk seed with raw SQL (cases, principals, 2 transitions each)", "", func(r *Result) (string, string) {
		return r.SeedTime.Round(time.Second).String(), fmt.Sprintf("%.0f cases/s", float64(r.Cases)/r.SeedTime.Seconds())
	})
	row("NGO One's cases (its work queue's scope)", "", func(r *Result) (string, string) { return thousands(r.NGOCases), "" })
	for i := range rs[0].QueueKinds {
		k := rs[0].QueueKinds[i]
		row(fmt.Sprintf("work queue, %s: p50 / p99", k.Kind), "", func(r *Result) (string, string) {
			return ms(r.QueueKinds[i].P50) + " / " + ms(r.QueueKinds[i].P99), ""
		})
	}
	row("**NGO work queue p99** (all kinds)", "< 50 ms", func(r *Result) (string, string) {
		return "**" + ms(r.QueueP99) + "**", pass(r.QueueP99 < 50*time.Millisecond)
	})
	row("create + 3 transitions through the API", "", func(r *Result) (string, string) { return fmt.Sprintf("%.0f /s", r.APIRate), "" })
	row("the same writes, raw SQL", "", func(r *Result) (string, string) { return fmt.Sprintf("%.0f /s", r.RawRate), "" })
	row("**API ÷ raw**", "≥ 0.4", func(r *Result) (string, string) {
		return fmt.Sprintf("**%.2f**", r.APIRate/r.RawRate), pass(r.APIRate/r.RawRate >= 0.4)
	})
	row(fmt.Sprintf("**statistics over every case** (median / max of %d)", cfg.Stats), "< 500 ms", func(r *Result) (string, string) {
		return "**" + ms(r.StatsMedian) + "** / " + ms(r.StatsMax), pass(r.StatsMax < 500*time.Millisecond)
	})
	fmt.Fprintf(w, "\nwork queue: %d requests in all as %s; writes: %d sequences per side in 4 alternating rounds, %d clients.\n", cfg.Reqs, ngoUser, cfg.Writes, cfg.Conc)
	for _, r := range rs {
		fmt.Fprintf(w, "load average during the %s run: %s\n", r.Engine, r.Load)
	}
}
