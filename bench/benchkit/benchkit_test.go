package benchkit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRunN(t *testing.T) {
	var seen [100]atomic.Int32
	if _, err := RunN(context.Background(), 4, 100, func(i int) error { seen[i].Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Errorf("fn(%d) ran %d times", i, seen[i].Load())
		}
	}
	if _, err := RunN(context.Background(), 4, 0, func(int) error { t.Error("fn called with n = 0"); return nil }); err != nil {
		t.Errorf("n = 0: %v", err)
	}
}

// TestRunNStops checks that an error or a cancelled context ends the run.
// How many calls the other goroutines make before they see the error
// depends on the scheduler (the goroutine that failed may be paused for
// any time before it records the error), so the exact calls are checked on
// one goroutine, where no schedule can change them; on several, only what
// holds in every schedule.
func TestRunNStops(t *testing.T) {
	boom3, boom5 := errors.New("boom at 3"), errors.New("boom at 5")
	cases := []struct {
		name      string
		conc      int
		fail      map[int]error // the error fn(i) returns
		cancelAt  int           // fn(cancelAt) cancels the context; -1 never
		cancelled bool          // the context is cancelled before the run
		want      error
		wantCalls []int // nil: not checked
	}{
		{"an error stops the run", 1, map[int]error{3: boom3}, -1, false, boom3, []int{0, 1, 2, 3}},
		{"the first error is returned", 1, map[int]error{3: boom3, 5: boom5}, -1, false, boom3, []int{0, 1, 2, 3}},
		{"cancelling stops the run", 1, nil, 5, false, context.Canceled, []int{0, 1, 2, 3, 4, 5}},
		{"a cancelled context runs nothing", 4, nil, -1, true, context.Canceled, []int{}},
		{"an error on one of four goroutines is returned", 4, map[int]error{3: boom3}, -1, false, boom3, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancelled {
				cancel()
			}
			var mu sync.Mutex
			var calls []int
			_, err := RunN(ctx, c.conc, 1000, func(i int) error {
				mu.Lock()
				calls = append(calls, i)
				mu.Unlock()
				if i == c.cancelAt {
					cancel()
				}
				return c.fail[i]
			})
			if !errors.Is(err, c.want) {
				t.Errorf("RunN returned %v, want %v", err, c.want)
			}
			slices.Sort(calls)
			if c.wantCalls != nil && !slices.Equal(calls, c.wantCalls) {
				t.Errorf("%d calls %v…, want %v", len(calls), calls[:min(len(calls), 10)], c.wantCalls)
			}
			// In every schedule: no index twice, none out of range, and
			// the failing call was made.
			for k := 1; k < len(calls); k++ {
				if calls[k] == calls[k-1] {
					t.Errorf("fn(%d) ran twice", calls[k])
				}
			}
			if len(calls) > 0 && (calls[0] < 0 || calls[len(calls)-1] >= 1000) {
				t.Errorf("calls out of range: %v", calls)
			}
			for i := range c.fail {
				if c.wantCalls == nil && !slices.Contains(calls, i) {
					t.Errorf("fn(%d), the failing call, never ran (%d calls)", i, len(calls))
				}
			}
		})
	}
}
