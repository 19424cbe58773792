// Command sqlitedrivers measures the three candidate SQLite drivers for
// Kompas side by side, in one run, through database/sql:
//
//   - modernc.org/sqlite            (pure Go, C translated to Go)
//   - github.com/ncruces/go-sqlite3 (pure Go, Wasm build translated to Go)
//   - github.com/mattn/go-sqlite3   (cgo)
//
// Run it from this directory with:
//
//	go run -tags sqlite_fts5 -ldflags='-X github.com/ncruces/go-sqlite3/driver.driverName=' . [-quick] [-n N]
//
// Why the flags:
//   - -tags sqlite_fts5 compiles FTS5 into mattn's bundled SQLite (without it
//     mattn has no FTS5 and the FTS rows read "n/a").
//   - mattn and ncruces both register a database/sql driver named "sqlite3"
//     in init, and sql.Register panics on a duplicate name. The -ldflags
//     setting empties ncruces' registration name; this program opens ncruces
//     through driver.Open, which needs no registered name.
//
// Each driver gets a fresh database file in a temporary directory, opened with
// WAL, foreign_keys=ON, busy_timeout=5000, synchronous=NORMAL and
// BEGIN IMMEDIATE transactions. The program prints Markdown to stdout.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (cgo; a stub that always fails when CGO_ENABLED=0)
	ncsqlite "github.com/ncruces/go-sqlite3"
	ncdriver "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// config holds the workload sizes.
type config struct {
	single     int           // single-row transactions (step 1)
	batch      int           // rows in the one batch transaction (step 2)
	selects    int           // point selects (step 3)
	ftsQueries int           // FTS5 MATCH queries (step 4)
	conc       time.Duration // duration of the mixed read/write phase (step 5)
	rounds     int           // repetitions; the table shows medians
	readers    int           // reader goroutines in step 5
	seed       uint64
	drivers    []string
	timeProbe  bool
	cpuProfile string
}

// drv describes one candidate driver.
type drv struct {
	name    string // short label
	module  string // module path and version
	cgo     bool   // needs cgo to work
	fts5How string // how FTS5 is obtained
	// dsn builds the data source name for a database file; extra is
	// appended to the query string (it starts with "&" when not empty).
	dsn func(path, extra string) string
	// open opens a *sql.DB. withFTS asks for whatever extra step the
	// driver needs to provide FTS5 (only ncruces needs one).
	open func(dsn string, withFTS bool) (*sql.DB, error)
	// timeVariants are extra DSN settings worth probing for time handling.
	timeVariants []string
}

// pragmaQuery is the shared _pragma form used by modernc and ncruces.
// busy_timeout goes first so the others cannot fail with SQLITE_BUSY.
const pragmaQuery = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)&_txlock=immediate"

var allDrivers = []drv{
	{
		name:    "modernc",
		module:  "modernc.org/sqlite v1.62.0",
		cgo:     false,
		fts5How: "built in (always compiled in)",
		dsn: func(path, extra string) string {
			return "file:" + path + "?" + pragmaQuery + extra
		},
		open: func(dsn string, _ bool) (*sql.DB, error) {
			return sql.Open("sqlite", dsn)
		},
		timeVariants: []string{"", "&_time_format=sqlite"},
	},
	{
		name:    "ncruces",
		module:  "github.com/ncruces/go-sqlite3 v0.37.0",
		cgo:     false,
		fts5How: "separate package: import github.com/ncruces/go-sqlite3/ext/fts5 and register it per connection (driver.Open(dsn, fts5.Register))",
		dsn: func(path, extra string) string {
			return "file:" + path + "?" + pragmaQuery + extra
		},
		open: func(dsn string, withFTS bool) (*sql.DB, error) {
			if withFTS {
				return ncdriver.Open(dsn, func(c *ncsqlite.Conn) error { return fts5.Register(c) })
			}
			return ncdriver.Open(dsn)
		},
		timeVariants: []string{"", "&_timefmt=sqlite"},
	},
	{
		name:    "mattn",
		module:  "github.com/mattn/go-sqlite3 v1.14.53",
		cgo:     true,
		fts5How: "build tag: go build -tags sqlite_fts5",
		dsn: func(path, extra string) string {
			return "file:" + path + "?_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=1&_synchronous=NORMAL&_txlock=immediate" + extra
		},
		open: func(dsn string, _ bool) (*sql.DB, error) {
			return sql.Open("sqlite3", dsn)
		},
		timeVariants: []string{""},
	},
}

// metric is one numeric row of the results table.
type metric struct {
	key          string
	label        string
	higherBetter bool
	latency      bool // value is a duration in seconds
}

// result is what one driver produced.
type result struct {
	d        drv
	version  string
	fatal    string            // setup failure: no figures at all
	facts    map[string]string // non-numeric rows
	vals     map[string]float64
	errs     map[string]string // per-metric failures
	elapsed  time.Duration
	ftsHits  float64 // mean rows returned per FTS query (sanity check)
	concErrs int64
	// Set by merge: spread of each metric across rounds.
	lo, hi map[string]float64
	rounds int
}

// merge combines the rounds of one driver: medians for the figures,
// the first round's facts, summed error counts and wall time.
func merge(rs []*result) *result {
	m := *rs[0]
	m.vals = map[string]float64{}
	m.lo = map[string]float64{}
	m.hi = map[string]float64{}
	m.rounds = len(rs)
	m.elapsed, m.concErrs = 0, 0
	all := map[string][]float64{}
	for _, r := range rs {
		if r.fatal != "" && m.fatal == "" {
			m.fatal = r.fatal
		}
		for k, v := range r.vals {
			all[k] = append(all[k], v)
		}
		for k, v := range r.errs {
			m.errs[k] = v
		}
		m.elapsed += r.elapsed
		m.concErrs += r.concErrs
	}
	for k, vs := range all {
		if len(vs) != len(rs) {
			continue // failed in some round: errs says why
		}
		slices.Sort(vs)
		n := len(vs)
		med := vs[n/2]
		if n%2 == 0 {
			med = (vs[n/2-1] + vs[n/2]) / 2
		}
		m.vals[k], m.lo[k], m.hi[k] = med, vs[0], vs[n-1]
	}
	return &m
}

func main() {
	cfg := parseFlags()
	start := time.Now()

	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	tmp, err := os.MkdirTemp("", "kompas-sqlitebench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)

	var selected []drv
	for _, name := range cfg.drivers {
		i := slices.IndexFunc(allDrivers, func(d drv) bool { return d.name == name })
		if i < 0 {
			fmt.Fprintf(os.Stderr, "unknown driver %q (want modernc, ncruces, mattn)\n", name)
			os.Exit(2)
		}
		selected = append(selected, allDrivers[i])
	}

	// Run every driver once per round; rotate the order each round so that
	// no driver always goes first (cold caches) or last.
	perDriver := make([][]*result, len(selected))
	for round := range cfg.rounds {
		for k := range selected {
			i := (k + round) % len(selected)
			d := selected[i]
			fmt.Fprintf(os.Stderr, "== round %d/%d: %s\n", round+1, cfg.rounds, d.name)
			runtime.GC()
			dir := filepath.Join(tmp, fmt.Sprintf("%s-r%d", d.name, round))
			perDriver[i] = append(perDriver[i], runDriver(cfg, d, dir))
			os.RemoveAll(dir)
		}
	}
	results := make([]*result, len(selected))
	for i, rs := range perDriver {
		results[i] = merge(rs)
	}

	var probes []probeResult
	if cfg.timeProbe {
		for _, d := range selected {
			for _, v := range d.timeVariants {
				probes = append(probes, timeProbe(d, filepath.Join(tmp, d.name+"-time"), v))
			}
		}
	}

	printReport(cfg, results, probes, time.Since(start))
}

func parseFlags() config {
	var cfg config
	var drivers string
	quick := flag.Bool("quick", false, "small workload (finishes in well under 30 s); explicit size flags still win")
	flag.IntVar(&cfg.single, "n", 5000, "single-row transactions (item + audit row each)")
	flag.IntVar(&cfg.batch, "batch", 100_000, "rows inserted in one transaction")
	flag.IntVar(&cfg.selects, "selects", 20_000, "point SELECTs by primary key")
	flag.IntVar(&cfg.ftsQueries, "fts", 2000, "FTS5 MATCH queries")
	flag.DurationVar(&cfg.conc, "conc", 3*time.Second, "duration of the concurrent read/write phase")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds over all drivers; the table shows the median of the rounds")
	flag.IntVar(&cfg.readers, "readers", 2, "reader goroutines in the concurrent phase")
	flag.Uint64Var(&cfg.seed, "seed", 1, "random seed")
	flag.StringVar(&drivers, "drivers", "modernc,ncruces,mattn", "comma-separated drivers to run, in this order")
	flag.BoolVar(&cfg.timeProbe, "timeprobe", true, "probe time.Time handling of TIMESTAMP columns")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if cfg.rounds < 1 {
		cfg.rounds = 1
	}

	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["n"] {
			cfg.single = 1000
		}
		if !set["batch"] {
			cfg.batch = 20_000
		}
		if !set["selects"] {
			cfg.selects = 5000
		}
		if !set["fts"] {
			cfg.ftsQueries = 500
		}
		if !set["conc"] {
			cfg.conc = time.Second
		}
		if !set["rounds"] {
			cfg.rounds = 1
		}
	}
	for _, s := range strings.Split(drivers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.drivers = append(cfg.drivers, s)
		}
	}
	return cfg
}

// ---------------------------------------------------------------------------
// Data

// vocab is a fixed vocabulary of 1000 distinct pseudo-words.
var vocab = func() []string {
	syl := []string{"ka", "lo", "mi", "ne", "pu", "ra", "si", "to", "vu", "ze",
		"ba", "de", "fi", "go", "hu", "ja", "ke", "li", "mo", "nu"}
	w := make([]string, 1000)
	for i := range w {
		w[i] = syl[i%20] + syl[(i/20)%20] + syl[i/400] + "x"
	}
	return w
}()

// textPool holds pre-generated titles and summaries so that text
// generation does not run inside the timed loops.
type textPool struct {
	titles    []string
	summaries []string
}

func newTextPool(seed uint64) *textPool {
	rng := rand.New(rand.NewPCG(seed, 7))
	p := &textPool{}
	for range 4096 {
		var t []string
		for range 4 {
			t = append(t, vocab[rng.IntN(len(vocab))])
		}
		p.titles = append(p.titles, strings.Join(t, " "))

		var b strings.Builder
		for {
			w := vocab[rng.IntN(len(vocab))]
			if b.Len()+1+len(w) > 200 {
				break
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		s := b.String()
		s += strings.Repeat(".", 200-len(s)) // exactly 200 chars
		p.summaries = append(p.summaries, s)
	}
	return p
}

var statuses = []string{"open", "in_progress", "blocked", "done"}

const (
	users = 10

	insItem = `INSERT INTO items(ext_id, owner_id, title, summary, status, priority, score, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insAudit = `INSERT INTO audit(item_id, action, actor_id, at) VALUES (?, 'create', ?, ?)`
	selItem  = `SELECT id, ext_id, owner_id, title, summary, status, priority, score, created_at, updated_at
FROM items WHERE id = ?`
	ftsQuery = `SELECT i.id, i.title FROM items_fts f JOIN items i ON i.id = f.rowid
WHERE items_fts MATCH ? ORDER BY f.rank LIMIT 20`
)

var schema = []string{
	`CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
	`CREATE TABLE items(
  id         INTEGER PRIMARY KEY,
  ext_id     TEXT NOT NULL UNIQUE,
  owner_id   INTEGER NOT NULL REFERENCES users(id),
  title      TEXT NOT NULL,
  summary    TEXT NOT NULL,
  status     TEXT NOT NULL,
  priority   INTEGER NOT NULL,
  score      REAL NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
)`,
	`CREATE INDEX items_owner ON items(owner_id)`,
	`CREATE TABLE audit(
  id       INTEGER PRIMARY KEY,
  item_id  INTEGER NOT NULL REFERENCES items(id),
  action   TEXT NOT NULL,
  actor_id INTEGER NOT NULL REFERENCES users(id),
  at       TIMESTAMP NOT NULL
)`,
	`CREATE INDEX audit_item ON audit(item_id)`,
}

// ---------------------------------------------------------------------------
// Benchmark of one driver

type bench struct {
	cfg  config
	db   *sql.DB
	pool *textPool
	seq  atomic.Int64 // unique ext_id counter
}

func (b *bench) itemArgs(rng *rand.Rand) []any {
	n := b.seq.Add(1)
	now := time.Now().UTC()
	i := rng.IntN(len(b.pool.titles))
	return []any{
		fmt.Sprintf("itm_%012d", n),
		rng.IntN(users) + 1,
		b.pool.titles[i],
		b.pool.summaries[(i*7+int(n))%len(b.pool.summaries)],
		statuses[rng.IntN(len(statuses))],
		rng.IntN(5),
		rng.Float64() * 100,
		now,
		now,
	}
}

// createOne is the "API create" transaction: item + audit row.
func (b *bench) createOne(ctx context.Context, rng *rand.Rand) error {
	args := b.itemArgs(rng)
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, insItem, args...)
	if err != nil {
		tx.Rollback()
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, insAudit, id, args[1], args[7]); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (b *bench) pointSelect(ctx context.Context, id int64) error {
	var (
		rid, owner, prio        int64
		ext, title, sum, status string
		score                   float64
		createdAt, updatedAt    any // each driver's natural decoding of TIMESTAMP
	)
	return b.db.QueryRowContext(ctx, selItem, id).Scan(&rid, &ext, &owner, &title, &sum, &status, &prio, &score, &createdAt, &updatedAt)
}

func (b *bench) ftsOne(ctx context.Context, q string) (int, error) {
	rows, err := b.db.QueryContext(ctx, ftsQuery, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var title string
		if err := rows.Scan(&id, &title); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func runDriver(cfg config, d drv, dir string) *result {
	t0 := time.Now()
	r := &result{d: d, facts: map[string]string{}, vals: map[string]float64{}, errs: map[string]string{}}
	defer func() { r.elapsed = time.Since(t0) }()
	ctx := context.Background()

	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.fatal = err.Error()
		return r
	}

	// FTS5 without any extra step?
	r.facts["fts5_plain"] = probeFTS5(d, d.dsn(filepath.Join(dir, "plain.db"), ""), false)

	db, err := d.open(d.dsn(filepath.Join(dir, "bench.db"), ""), true)
	if err != nil {
		r.fatal = "open: " + err.Error()
		return r
	}
	defer db.Close()
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		r.fatal = firstLine(err.Error())
		return r
	}
	if err := db.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&r.version); err != nil {
		r.fatal = err.Error()
		return r
	}
	r.facts["pragmas"] = checkPragmas(ctx, db)
	{
		var ps, cs, mm int64
		err := db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&ps)
		if err == nil {
			err = db.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cs)
		}
		if err == nil {
			err = db.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mm)
		}
		if err != nil {
			r.facts["defaults"] = "error: " + err.Error()
		} else {
			r.facts["defaults"] = fmt.Sprintf("page_size=%d cache_size=%d mmap_size=%d", ps, cs, mm)
		}
	}

	for _, s := range schema {
		if _, err := db.ExecContext(ctx, s); err != nil {
			r.fatal = "schema: " + err.Error()
			return r
		}
	}
	for i := 1; i <= users; i++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO users(id, name) VALUES (?, ?)`, i, fmt.Sprintf("user%d", i)); err != nil {
			r.fatal = "users: " + err.Error()
			return r
		}
	}
	// foreign_keys really enforced?
	if _, err := db.ExecContext(ctx, insAudit, 999_999_999, 1, time.Now()); err != nil {
		r.facts["fk"] = "enforced"
	} else {
		r.facts["fk"] = "NOT enforced"
	}

	b := &bench{cfg: cfg, db: db, pool: newTextPool(cfg.seed)}
	rng := rand.New(rand.NewPCG(cfg.seed, 1))

	// 1. single-row transactions.
	{
		lat := make([]time.Duration, 0, cfg.single)
		st := time.Now()
		var err error
		for range cfg.single {
			s := time.Now()
			if err = b.createOne(ctx, rng); err != nil {
				break
			}
			lat = append(lat, time.Since(s))
		}
		el := time.Since(st)
		if err != nil {
			r.errs["single_rps"] = err.Error()
		} else {
			r.vals["single_rps"] = float64(cfg.single) / el.Seconds()
			r.vals["single_p50"] = pct(lat, 0.50)
			r.vals["single_p99"] = pct(lat, 0.99)
		}
	}

	// 2. batch insert in one transaction.
	if err := func() error {
		st := time.Now()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		stmt, err := tx.PrepareContext(ctx, insItem)
		if err != nil {
			return err
		}
		for range cfg.batch {
			if _, err := stmt.ExecContext(ctx, b.itemArgs(rng)...); err != nil {
				return err
			}
		}
		if err := stmt.Close(); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		r.vals["batch_rps"] = float64(cfg.batch) / time.Since(st).Seconds()
		return nil
	}(); err != nil {
		r.errs["batch_rps"] = err.Error()
	}

	var maxID int64
	if err := db.QueryRowContext(ctx, `SELECT max(id) FROM items`).Scan(&maxID); err != nil || maxID == 0 {
		r.fatal = fmt.Sprintf("no rows after inserts: %v", err)
		return r
	}

	// 3. point selects.
	{
		lat := make([]time.Duration, 0, cfg.selects)
		st := time.Now()
		var err error
		for range cfg.selects {
			s := time.Now()
			if err = b.pointSelect(ctx, rng.Int64N(maxID)+1); err != nil {
				break
			}
			lat = append(lat, time.Since(s))
		}
		el := time.Since(st)
		if err != nil {
			r.errs["pk_qps"] = err.Error()
		} else {
			r.vals["pk_qps"] = float64(cfg.selects) / el.Seconds()
			r.vals["pk_p50"] = pct(lat, 0.50)
			r.vals["pk_p99"] = pct(lat, 0.99)
		}
	}

	// 4. FTS5: build an external-content index over title+summary, then query.
	if err := func() error {
		st := time.Now()
		if _, err := db.ExecContext(ctx, `CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, content='items', content_rowid='id')`); err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO items_fts(rowid, title, summary) SELECT id, title, summary FROM items`); err != nil {
			return err
		}
		r.vals["fts_build"] = float64(maxID) / time.Since(st).Seconds()

		lat := make([]time.Duration, 0, cfg.ftsQueries)
		hits := 0
		st = time.Now()
		for range cfg.ftsQueries {
			q := vocab[rng.IntN(len(vocab))] + " " + vocab[rng.IntN(len(vocab))]
			s := time.Now()
			n, err := b.ftsOne(ctx, q)
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(s))
			hits += n
		}
		el := time.Since(st)
		r.vals["fts_qps"] = float64(cfg.ftsQueries) / el.Seconds()
		r.vals["fts_p50"] = pct(lat, 0.50)
		r.vals["fts_p99"] = pct(lat, 0.99)
		r.ftsHits = float64(hits) / float64(cfg.ftsQueries)
		return nil
	}(); err != nil {
		r.errs["fts_p50"] = firstLine(err.Error())
		r.facts["fts5"] = "MISSING: " + firstLine(err.Error())
	} else {
		r.facts["fts5"] = "yes"
	}

	// 5. concurrent: readers doing point selects while one writer creates rows.
	{
		var stop atomic.Bool
		var reads, writes, errCount atomic.Int64
		var mu sync.Mutex
		var readLat []time.Duration
		var wg sync.WaitGroup
		timer := time.AfterFunc(cfg.conc, func() { stop.Store(true) })
		st := time.Now()
		for g := range cfg.readers {
			wg.Go(func() {
				rr := rand.New(rand.NewPCG(cfg.seed, uint64(100+g)))
				local := make([]time.Duration, 0, 1<<16)
				for !stop.Load() {
					s := time.Now()
					if err := b.pointSelect(ctx, rr.Int64N(maxID)+1); err != nil {
						errCount.Add(1)
						continue
					}
					local = append(local, time.Since(s))
					reads.Add(1)
				}
				mu.Lock()
				readLat = append(readLat, local...)
				mu.Unlock()
			})
		}
		wg.Go(func() {
			wr := rand.New(rand.NewPCG(cfg.seed, 99))
			for !stop.Load() {
				if err := b.createOne(ctx, wr); err != nil {
					errCount.Add(1)
					continue
				}
				writes.Add(1)
			}
		})
		wg.Wait()
		timer.Stop()
		el := time.Since(st).Seconds()
		r.vals["conc_reads"] = float64(reads.Load()) / el
		r.vals["conc_writes"] = float64(writes.Load()) / el
		r.vals["conc_read_p99"] = pct(readLat, 0.99)
		r.concErrs = errCount.Load()
	}
	return r
}

func probeFTS5(d drv, dsn string, withFTS bool) string {
	db, err := d.open(dsn, withFTS)
	if err != nil {
		return "open failed: " + firstLine(err.Error())
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE VIRTUAL TABLE t USING fts5(x)`); err != nil {
		return "no (" + firstLine(err.Error()) + ")"
	}
	return "yes"
}

func checkPragmas(ctx context.Context, db *sql.DB) string {
	// Check two connections held at once, so per-connection settings are
	// known to reach every pooled connection, not just the first.
	var out []string
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 2 {
		c, err := db.Conn(ctx)
		if err != nil {
			return "error: " + err.Error()
		}
		conns = append(conns, c)
		var jm string
		var fk, bt, sy int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&jm); err != nil {
			return "error: " + err.Error()
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			return "error: " + err.Error()
		}
		if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&bt); err != nil {
			return "error: " + err.Error()
		}
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sy); err != nil {
			return "error: " + err.Error()
		}
		out = append(out, fmt.Sprintf("%s/fk=%d/bt=%d/sync=%d", jm, fk, bt, sy))
	}
	if out[0] == out[1] {
		return out[0]
	}
	return strings.Join(out, " vs ")
}

// ---------------------------------------------------------------------------
// time.Time probe

// probeResult is the outcome of the time.Time probe for one driver setting.
type probeResult struct {
	storage [][]string // one row per input value
	misc    []string   // one row of other behaviours
}

// timeProbe binds time.Time values into a TIMESTAMP column (and a TEXT
// column) and reports how each driver stores them and what comes back.
func timeProbe(d drv, dir, extra string) probeResult {
	label := d.name
	if extra != "" {
		label += " `" + strings.TrimPrefix(extra, "&") + "`"
	} else {
		label += " (default)"
	}
	var pr probeResult
	fail := func(err error) probeResult {
		pr.misc = []string{label, "error: " + firstLine(err.Error()), "", "", "", "", "", ""}
		return pr
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("t%d.db", time.Now().UnixNano()))
	db, err := d.open(d.dsn(path, extra), false)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE tt(id INTEGER PRIMARY KEY, ts TIMESTAMP, txt TEXT, def TIMESTAMP DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return fail(err)
	}

	utc := time.Date(2024, 3, 9, 13, 5, 6, 123456789, time.UTC)
	offset, _ := time.Parse(time.RFC3339Nano, "2024-03-09T14:05:06.123456789+01:00")
	inputs := []struct {
		name string
		t    time.Time
	}{
		{"UTC `2024-03-09T13:05:06.123456789Z`", utc},
		{"`time.Parse` of `…14:05:06.123456789+01:00`", offset},
		{"`time.Now()` (Local=" + time.Local.String() + ", monotonic)", time.Now()},
	}
	for i, in := range inputs {
		row := []string{label, in.name}
		if _, err := db.Exec(`INSERT INTO tt(id, ts, txt) VALUES (?, ?, ?)`, i+1, in.t, in.t); err != nil {
			pr.storage = append(pr.storage, append(row, "insert error: "+firstLine(err.Error()), "", ""))
			continue
		}
		var raw string
		var sqlDT sql.NullString
		if err := db.QueryRow(`SELECT CAST(ts AS TEXT), datetime(ts) FROM tt WHERE id = ?`, i+1).Scan(&raw, &sqlDT); err != nil {
			pr.storage = append(pr.storage, append(row, "error: "+firstLine(err.Error()), "", ""))
			continue
		}
		row = append(row, "`"+raw+"`")
		if sqlDT.Valid {
			row = append(row, "`"+sqlDT.String+"`")
		} else {
			row = append(row, "NULL (unparsable)")
		}
		var out time.Time
		if err := db.QueryRow(`SELECT ts FROM tt WHERE id = ?`, i+1).Scan(&out); err != nil {
			row = append(row, "**error**: "+shortScanErr(err))
		} else {
			eq := "equal"
			if !out.Equal(in.t) {
				eq = "**NOT equal** (" + out.Sub(in.t).String() + ")"
			}
			row = append(row, fmt.Sprintf("ok, %s, loc %q", eq, out.Location().String()))
		}
		pr.storage = append(pr.storage, row)
	}

	misc := []string{label}
	check := func(q string, args ...any) string {
		var v any
		if err := db.QueryRow(q, args...).Scan(&v); err != nil {
			return "error: " + firstLine(err.Error())
		}
		return fmt.Sprint(v)
	}
	scanT := func(q string) string {
		var t time.Time
		if err := db.QueryRow(q).Scan(&t); err != nil {
			return "**error**: " + shortScanErr(err)
		}
		return "ok"
	}

	// Scan into any: what type does the driver hand back?
	var anyV any
	if err := db.QueryRow(`SELECT ts FROM tt WHERE id = 1`).Scan(&anyV); err != nil {
		misc = append(misc, "error: "+firstLine(err.Error()))
	} else {
		misc = append(misc, fmt.Sprintf("`%T`", anyV))
	}
	// Equality with the same time.Time as a parameter.
	misc = append(misc, check(`SELECT count(*) FROM tt WHERE id = 1 AND ts = ?`, utc)+" of 1")
	// Text comparison against SQLite's own format (what datetime('now') yields).
	misc = append(misc, check(`SELECT count(*) FROM tt WHERE id = 1 AND ts < '2024-03-09 13:05:07'`)+" of 1")

	// ORDER BY ts with sub-second UTC values (lexical order of the stored text).
	sub := []struct {
		id int
		t  time.Time
	}{
		{10, time.Date(2024, 3, 9, 13, 5, 6, 0, time.UTC)},
		{11, time.Date(2024, 3, 9, 13, 5, 6, 500_000_000, time.UTC)},
		{12, time.Date(2024, 3, 9, 13, 5, 6, 123_000_000, time.UTC)},
		{13, time.Date(2024, 3, 9, 13, 5, 7, 0, time.UTC)},
		{14, time.Date(2024, 3, 9, 13, 5, 6, 120_000_000, time.UTC)},
	}
	order := "ok"
	for _, s := range sub {
		if _, err := db.Exec(`INSERT INTO tt(id, ts) VALUES (?, ?)`, s.id, s.t); err != nil {
			order = "error: " + firstLine(err.Error())
		}
	}
	if order == "ok" {
		var got []string
		rows, err := db.Query(`SELECT id FROM tt WHERE id >= 10 ORDER BY ts`)
		if err != nil {
			order = "error: " + firstLine(err.Error())
		} else {
			for rows.Next() {
				var id int
				rows.Scan(&id)
				got = append(got, fmt.Sprint(id))
			}
			rows.Close()
			var distinct int
			db.QueryRow(`SELECT count(DISTINCT ts) FROM tt WHERE id >= 10`).Scan(&distinct)
			if g := strings.Join(got, ","); g != "10,14,12,11,13" {
				order = "**wrong**: " + g + " (want 10,14,12,11,13)"
				if distinct < len(sub) {
					order += fmt.Sprintf("; only %d distinct stored values (precision lost)", distinct)
				}
			}
		}
	}
	misc = append(misc, order)

	misc = append(misc, scanT(`SELECT def FROM tt WHERE id = 1`))
	misc = append(misc, scanT(`SELECT txt FROM tt WHERE id = 1`))
	misc = append(misc, scanT(`SELECT max(ts) FROM tt WHERE id = 1`))
	pr.misc = misc
	return pr
}

// shortScanErr shortens database/sql's "unsupported Scan" message.
func shortScanErr(err error) string {
	s := firstLine(err.Error())
	if i := strings.Index(s, "unsupported Scan, "); i >= 0 {
		return s[i+len("unsupported Scan, "):]
	}
	return s
}

// ---------------------------------------------------------------------------
// Report

func pct(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*q+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i].Seconds()
}

func escapeCells(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = strings.ReplaceAll(c, "|", "\\|")
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func fmtRate(v float64) string {
	n := int64(v + 0.5)
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "/s"
}

func fmtLat(sec float64) string {
	switch {
	case sec < 1e-3:
		return fmt.Sprintf("%.0f µs", sec*1e6)
	case sec < 1:
		return fmt.Sprintf("%.2f ms", sec*1e3)
	}
	return fmt.Sprintf("%.2f s", sec)
}

func printReport(cfg config, rs []*result, probes []probeResult, total time.Duration) {
	w := os.Stdout
	fmt.Fprintf(w, "Go %s %s/%s, %d CPUs, CGO_ENABLED=%s. Sizes: n=%d, batch=%d, selects=%d, fts=%d, conc=%s with %d readers + 1 writer. Rounds: %d (figures are medians; driver order rotates each round).\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cgoEnabled(), cfg.single, cfg.batch, cfg.selects, cfg.ftsQueries, cfg.conc, cfg.readers, cfg.rounds)

	metrics := []metric{
		{"single_rps", fmt.Sprintf("1. single-row create tx (BEGIN; item; audit; COMMIT), N=%d: rows/s", cfg.single), true, false},
		{"single_p50", "   … p50 latency per tx", false, true},
		{"single_p99", "   … p99 latency per tx", false, true},
		{"batch_rps", fmt.Sprintf("2. batch insert, %d rows in 1 tx: rows/s", cfg.batch), true, false},
		{"pk_qps", fmt.Sprintf("3. point SELECT by PK, %d queries: queries/s", cfg.selects), true, false},
		{"pk_p50", "   … p50 latency", false, true},
		{"pk_p99", "   … p99 latency", false, true},
		{"fts_build", "4a. FTS5 index build (INSERT…SELECT, all rows): rows/s", true, false},
		{"fts_qps", fmt.Sprintf("4b. FTS5 MATCH (2 words, ORDER BY rank LIMIT 20), %d queries: queries/s", cfg.ftsQueries), true, false},
		{"fts_p50", "   … p50 latency", false, true},
		{"fts_p99", "   … p99 latency", false, true},
		{"conc_reads", fmt.Sprintf("5. concurrent %s: reads/s (%d readers)", cfg.conc, cfg.readers), true, false},
		{"conc_writes", "   … writes/s (1 writer, create tx)", true, false},
		{"conc_read_p99", "   … read p99 latency under write load", false, true},
	}

	fmt.Fprint(w, "| metric |")
	for _, r := range rs {
		fmt.Fprintf(w, " %s |", r.d.name)
	}
	fmt.Fprint(w, "\n|---|")
	for range rs {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)

	for _, m := range metrics {
		best := 0.0
		for _, r := range rs {
			v, ok := r.vals[m.key]
			if !ok || r.fatal != "" {
				continue
			}
			if best == 0 || (m.higherBetter && v > best) || (!m.higherBetter && v < best) {
				best = v
			}
		}
		fmt.Fprintf(w, "| %s |", m.label)
		for _, r := range rs {
			v, ok := r.vals[m.key]
			switch {
			case r.fatal != "":
				fmt.Fprint(w, " n/a |")
			case !ok:
				msg := r.errs[m.key]
				if msg == "" && strings.HasPrefix(m.key, "fts") {
					msg = r.errs["fts_p50"]
				}
				if msg == "" {
					msg = "n/a"
				}
				fmt.Fprintf(w, " n/a: %s |", escapeCells([]string{firstLine(msg)})[0])
			default:
				ratio := 1.0
				if v > 0 && best > 0 {
					if m.higherBetter {
						ratio = best / v
					} else {
						ratio = v / best
					}
				}
				s := fmtRate(v)
				if m.latency {
					s = fmtLat(v)
				}
				mark := ""
				if ratio < 1.005 {
					mark = "**"
				}
				fmt.Fprintf(w, " %s%s (%.2fx)%s |", mark, s, ratio, mark)
			}
		}
		fmt.Fprintln(w)
	}

	facts := []struct {
		label string
		get   func(r *result) string
	}{
		{"module", func(r *result) string { return r.d.module }},
		{"SQLite version", func(r *result) string { return r.version }},
		{"needs cgo", func(r *result) string {
			if r.d.cgo {
				return "**yes** (C compiler at build time)"
			}
			return "no"
		}},
		{"database/sql driver", func(r *result) string {
			if r.fatal != "" {
				return "registered, but failed: " + r.fatal
			}
			return "yes (used for every figure)"
		}},
		{"FTS5 with a plain open (this build)", func(r *result) string { return r.facts["fts5_plain"] }},
		{"how FTS5 is obtained", func(r *result) string { return r.d.fts5How }},
		{"FTS5 in this run", func(r *result) string { return r.facts["fts5"] }},
		{"mean FTS hits/query", func(r *result) string {
			if r.ftsHits == 0 {
				return ""
			}
			return fmt.Sprintf("%.1f", r.ftsHits)
		}},
		{"pragmas seen on 2 pooled conns (journal/fk/busy/sync)", func(r *result) string { return r.facts["pragmas"] }},
		{"FK violation", func(r *result) string { return r.facts["fk"] }},
		{"other defaults (not changed)", func(r *result) string { return r.facts["defaults"] }},
		{"errors in concurrent phase", func(r *result) string { return fmt.Sprint(r.concErrs) }},
		{"wall time for this driver (all rounds)", func(r *result) string { return r.elapsed.Round(100 * time.Millisecond).String() }},
	}
	for _, f := range facts {
		fmt.Fprintf(w, "| %s |", f.label)
		for _, r := range rs {
			fmt.Fprintf(w, " %s |", escapeCells([]string{f.get(r)})[0])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios are relative to the best driver in that row (1.00x = best, bold; 1.50x = 1.5 times slower).")

	if cfg.rounds > 1 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Spread across the %d rounds (min – max):\n\n", cfg.rounds)
		fmt.Fprint(w, "| metric |")
		for _, r := range rs {
			fmt.Fprintf(w, " %s |", r.d.name)
		}
		fmt.Fprint(w, "\n|---|")
		for range rs {
			fmt.Fprint(w, "---|")
		}
		fmt.Fprintln(w)
		for _, m := range metrics {
			fmt.Fprintf(w, "| %s |", m.label)
			for _, r := range rs {
				lo, ok := r.lo[m.key]
				if !ok {
					fmt.Fprint(w, " n/a |")
					continue
				}
				f := fmtRate
				if m.latency {
					f = fmtLat
				}
				fmt.Fprintf(w, " %s – %s |", f(lo), f(r.hi[m.key]))
			}
			fmt.Fprintln(w)
		}
	}

	if len(probes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "time.Time probe A: a time.Time bound as a parameter into a `TIMESTAMP` column, then scanned back into `*time.Time`.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| driver (DSN option) | value bound | stored text | SQLite `datetime(ts)` | Scan into `*time.Time` |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, p := range probes {
			for _, row := range p.storage {
				fmt.Fprintf(w, "| %s |\n", strings.Join(escapeCells(row), " | "))
			}
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "time.Time probe B: other behaviours that matter for shared SQL.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| driver (DSN option) | TIMESTAMP into `any` gives | `WHERE ts = ?` (same UTC time.Time) | `ts < '2024-03-09 13:05:07'` (SQLite text format) | `ORDER BY ts`, sub-second UTC values | `DEFAULT CURRENT_TIMESTAMP` into `*time.Time` | TEXT column into `*time.Time` | `max(ts)` into `*time.Time` |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
		for _, p := range probes {
			fmt.Fprintf(w, "| %s |\n", strings.Join(escapeCells(p.misc), " | "))
		}
	}
	fmt.Fprintf(w, "\nTotal wall time: %s\n", total.Round(100*time.Millisecond))
}

// cgoEnabled reports the CGO_ENABLED setting this binary was built with.
func cgoEnabled() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "CGO_ENABLED" {
				return st.Value
			}
		}
	}
	return "unknown"
}
