// Package benchkit holds what Kompas's benchmark programs share: running a
// bounded amount of work on several goroutines, and reading the machine's
// load so each run can say how busy the shared machine was.
package benchkit

import (
	"context"
	"os"
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
