// Command audit benchmarks audit appends (issue: the verifiable log must keep
// appends within 10% of the hash chain's write throughput). In one run, in
// short alternating rounds, it measures appends per second of
//
//   - before: the hash-chained Append as it was (head by id, no seq, no
//     signature), on a database with only migration 0001;
//   - after: today's Append without a key (seq from the head row; the tree
//     is left to Sync);
//   - after, signed: today's Append with an audit key (an Ed25519 signature
//     per event, made before the chain lock);
//
// each in two shapes: one write transaction per event ("tx": what a
// request does), and many events inside one write transaction ("in tx":
// Append's own cost). A third shape, "initiative", is a real module write
// (programmes.Register.Create with its audit event) without and with the
// key: what signing costs a request (the old Append cannot run under the
// modules, so it has no "before"). It then times the deferred work: Sync
// over the whole log, and Check (signatures included). Beside appends/s it
// reports this process's CPU time per append, which the shared machine's
// load hardly moves. SQLite runs in a temporary file; PostgreSQL, when -pg
// answers, in a fresh schema.
//
//	go run ./bench/audit
//	go run ./bench/audit -n 20000 -batch 50 -engines sqlite
package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing/fstest"
	"time"

	"kompas/bench/benchkit"
	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

// errSkip is benchkit.FreshDB's: no PostgreSQL to measure on.
var errSkip = benchkit.ErrNoPostgres

func main() {
	n := flag.Int("n", 10000, "events per variant and shape (a quarter of it for PostgreSQL's one-transaction-per-event shapes)")
	batch := flag.Int("batch", 50, "events per round: variants alternate every round (a fifth of it for PostgreSQL's one-transaction-per-event shapes)")
	conc := flag.Int("c", 1, "concurrent writers in the tx shape")
	pg := flag.String("pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server (a fresh schema is made and dropped)")
	engines := flag.String("engines", "sqlite,postgres", "engines to run, comma-separated")
	flag.Parse()
	ctx := context.Background()
	fmt.Printf("Audit appends per second: %d events per variant and shape in rounds of %d, %d writer(s); load before %s\n\n", *n, *batch, *conc, benchkit.LoadAvg())
	fmt.Println("| engine | shape | before (chain only) | after, no key | × before | after, signed | × before | CPU µs/append: before, no key, signed |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---|")
	var notes []string
	for _, engine := range strings.Split(*engines, ",") {
		res, err := run(ctx, engine, *pg, *n, *batch, *conc)
		if errors.Is(err, errSkip) {
			notes = append(notes, fmt.Sprintf("%s: %v", engine, err))
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", engine, err)
			os.Exit(1)
		}
		for _, shape := range shapes {
			b, a, s := res.rate[shape][0], res.rate[shape][1], res.rate[shape][2]
			c := res.cpu[shape]
			if b == 0 {
				fmt.Printf("| %s | %s | — | %.0f/s | — | %.0f/s | %.2f × no key | —, %.0f, %.0f |\n", engine, shape, a, s, s/a, c[1], c[2])
				continue
			}
			fmt.Printf("| %s | %s | %.0f/s | %.0f/s | %.2f | %.0f/s | %.2f | %.0f, %.0f, %.0f |\n", engine, shape, b, a, a/b, s, s/b, c[0], c[1], c[2])
		}
		notes = append(notes, fmt.Sprintf("%s: Sync of %d events %s (%.1f µs/event); Check with signatures %s (%.1f µs/event)",
			engine, res.events, res.sync.Round(time.Millisecond), perEvent(res.sync, res.events), res.check.Round(time.Millisecond), perEvent(res.check, res.events)))
	}
	fmt.Println()
	for _, n := range notes {
		fmt.Println("- " + n)
	}
	fmt.Printf("- load after %s\n", benchkit.LoadAvg())
}

func perEvent(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

// cpuTime is the user and system CPU this process has used: unlike wall
// time it hardly moves with the load other work puts on the machine (for
// SQLite it is the whole cost; PostgreSQL's server works outside it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type result struct {
	rate        map[string][3]float64 // shape → before, after, signed (appends/s)
	cpu         map[string][3]float64 // the same, this process's CPU µs per append
	events      int
	sync, check time.Duration
}

var shapes = []string{"tx", "in tx", "initiative"}

// variant is one way of appending, on its own database.
type variant struct {
	db     *store.DB
	key    *audit.Key
	append func(ctx context.Context, tx *store.Tx, e audit.Event) error
	reg    *programmes.Register // the initiative shape; nil for the old Append
	p      *auth.Principal
}

func run(ctx context.Context, engine, pg string, n, batch, conc int) (*result, error) {
	private, _, err := audit.GenerateKey("bench")
	if err != nil {
		return nil, err
	}
	key, err := audit.ParseKey(private)
	if err != nil {
		return nil, err
	}
	old, err := firstMigration()
	if err != nil {
		return nil, err
	}
	// before, after and signed on databases with the audit table alone;
	// after and signed again with the whole schema and the demo's
	// organisations for the module write (index 3 and 4).
	var vs [5]variant
	for i := range vs {
		u, cleanup, err := benchkit.FreshDB(ctx, engine, pg, "audit")
		if err != nil {
			return nil, err
		}
		defer cleanup()
		db, err := store.Open(ctx, u)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		vs[i] = variant{db: db, append: audit.Append}
		switch i {
		case 0:
			vs[i].append = legacyAppend
			_, err = db.Migrate(ctx, old)
		case 1, 2:
			_, err = db.Migrate(ctx, audit.Migrations)
		default:
			if _, err := app.Migrate(ctx, db); err != nil {
				return nil, err
			}
			if _, err := demo.Load(ctx, db, "bench-password-123"); err != nil {
				return nil, err
			}
			mfa, err := (&auth.Service{DB: db}).OrgBySlug(ctx, db, "mfa")
			if err != nil {
				return nil, err
			}
			services, err := app.Build(ctx, db)
			if err != nil {
				return nil, err
			}
			vs[i].reg = services.Register
			vs[i].p = &auth.Principal{UserID: 1, Email: "bench@mfa.example", Role: auth.RolePolicyOfficer, OrgID: mfa.ID, OrgSlug: mfa.Slug, OrgName: mfa.Name}
		}
		if err != nil {
			return nil, err
		}
	}
	vs[2].key, vs[4].key = key, key

	res := &result{rate: map[string][3]float64{}, cpu: map[string][3]float64{}}
	for _, shape := range shapes {
		group := vs[:3]
		if shape == "initiative" {
			group = []variant{{}, vs[3], vs[4]}
		}
		// Short rounds, the variants' order rotated each round, so that the
		// shared machine's load falls on every variant alike.
		total, size := n, batch
		if engine == "postgres" && shape != "in tx" {
			total, size = max(1, n/4), max(1, batch/5) // a commit waits for the disk
		}
		var spent, cpu [3]time.Duration
		var done [3]int
		for r := 0; r*size < total; r++ {
			for k := range group {
				i := (k + r) % len(group)
				v := group[i]
				if v.db == nil {
					continue // no old Append under the modules
				}
				audit.Configure(v.key)
				start, cpuStart := time.Now(), cpuTime()
				var err error
				switch shape {
				case "tx":
					_, err = benchkit.RunN(ctx, conc, size, func(j int) error {
						return v.db.Transact(ctx, func(tx *store.Tx) error { return v.append(ctx, tx, event(j)) })
					})
				case "initiative":
					_, err = benchkit.RunN(ctx, conc, size, func(j int) error {
						_, err := v.reg.Create(ctx, v.p, programmes.Input{Title: fmt.Sprintf("Bench initiative %d-%d", r, j), Kind: "project",
							Status: "active", Lead: "mfa", Start: "2024", Objectives: []int{1 + j%23}, Countries: []string{"TR"}})
						return err
					})
				default:
					err = v.db.Transact(ctx, func(tx *store.Tx) error {
						for j := range size {
							if err := v.append(ctx, tx, event(j)); err != nil {
								return err
							}
						}
						return nil
					})
				}
				spent[i] += time.Since(start)
				cpu[i] += cpuTime() - cpuStart
				done[i] += size
				audit.Configure(nil)
				if err != nil {
					return nil, fmt.Errorf("%s %s variant %d: %w", engine, shape, i, err)
				}
			}
		}
		var rate, perCPU [3]float64
		for i := range rate {
			if done[i] > 0 {
				rate[i] = float64(done[i]) / spent[i].Seconds()
				perCPU[i] = float64(cpu[i].Microseconds()) / float64(done[i])
			}
		}
		res.rate[shape] = rate
		res.cpu[shape] = perCPU
	}
	// The deferred work on the signed log.
	signed := vs[2].db
	start := time.Now()
	size, err := audit.Sync(ctx, signed)
	if err != nil {
		return nil, err
	}
	res.sync, res.events = time.Since(start), int(size)
	start = time.Now()
	rep, err := audit.Check(ctx, signed, audit.CheckOptions{Verifier: key.Verifier()})
	if err != nil {
		return nil, err
	}
	if rep.Err() != nil {
		return nil, rep.Err()
	}
	res.check = time.Since(start)
	return res, nil
}

// event is a typical update event.
func event(i int) audit.Event {
	return audit.Event{ActorID: int64(i%50 + 1), Actor: fmt.Sprintf("officer%d@mfa.example", i%50), Org: "mfa",
		Action: audit.ActionUpdate, ObjectType: "initiative", ObjectID: strconv.Itoa(i%5000 + 1), Purpose: "register upkeep",
		Detail: "title, status and budget changed; version " + strconv.Itoa(i%9+2)}
}

// firstMigration is the audit module as it was before the verifiable log:
// migration 0001 only.
func firstMigration() (store.Migrations, error) {
	m := fstest.MapFS{}
	err := fs.WalkDir(audit.Migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(path, "0001_") {
			return err
		}
		b, err := fs.ReadFile(audit.Migrations.FS, path)
		m[path] = &fstest.MapFile{Data: b}
		return err
	})
	return store.Migrations{Module: "audit", FS: m}, err
}

// legacyAppend is audit.Append as it was before the verifiable log (commit
// cd43af3), kept here as the baseline.
func legacyAppend(ctx context.Context, tx *store.Tx, e audit.Event) error {
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, 0x61756474); err != nil {
			return err
		}
	}
	prev := strings.Repeat("0", 64)
	err := tx.QueryRow(ctx, `SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	e.At = store.Now()
	e.PrevHash = prev
	h := sha256.New()
	for _, f := range []string{e.PrevHash, store.FormatTime(e.At), strconv.FormatInt(e.ActorID, 10), e.Actor, e.Org,
		e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	e.Hash = hex.EncodeToString(h.Sum(nil))
	var actorID any
	if e.ActorID != 0 {
		actorID = e.ActorID
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events
		(at, actor_id, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		store.FormatTime(e.At), actorID, e.Actor, e.Org, e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail, e.PrevHash, e.Hash)
	return err
}
