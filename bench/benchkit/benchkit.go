// Package benchkit holds what Kompas's benchmark programs share: running a
// bounded amount of work on several goroutines, and reading the machine's
// load so each run can say how busy the shared machine was.
package benchkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RunN runs fn(0) … fn(n-1) on conc goroutines and returns the wall time;
// the first error stops every goroutine and is returned.
func RunN(ctx context.Context, conc, n int, fn func(i int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var failed atomic.Bool
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return time.Since(start), first
}

// LoadAvg is the first three fields of /proc/loadavg, or "" where there is
// none.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// ErrNoPostgres is FreshDB's error when no PostgreSQL answers at the URL
// given: the benchmark skips that engine, saying so.
var ErrNoPostgres = errors.New("skipped")

// FreshDB makes a fresh database for engine ("sqlite": a file in a new
// temporary folder; "postgres": a new schema in the database at pg) and
// returns its URL and a cleanup that removes it. prefix names the folder or
// schema, so a leftover says which benchmark made it.
func FreshDB(ctx context.Context, engine, pg, prefix string) (string, func(), error) {
	switch engine {
	case "sqlite":
		dir, err := os.MkdirTemp("", "kompas-bench-"+prefix+"-")
		if err != nil {
			return "", nil, err
		}
		return "sqlite:" + filepath.Join(dir, "kompas.db"), func() { os.RemoveAll(dir) }, nil
	case "postgres":
		admin, err := sql.Open("pgx", pg)
		if err != nil {
			return "", nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := admin.PingContext(pctx); err != nil {
			admin.Close()
			return "", nil, fmt.Errorf("%w: no PostgreSQL at %s: %v", ErrNoPostgres, pg, err)
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		schema := "kb" + prefix + "_" + hex.EncodeToString(b[:])
		if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
			admin.Close()
			return "", nil, err
		}
		u, err := url.Parse(pg)
		if err != nil {
			admin.Close()
			return "", nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), func() {
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			_, _ = admin.ExecContext(dctx, `DROP SCHEMA `+schema+` CASCADE`)
			admin.Close()
		}, nil
	}
	return "", nil, fmt.Errorf("unknown engine %q (sqlite or postgres)", engine)
}
