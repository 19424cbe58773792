package benchkit

import (
	"context"
	"errors"
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
	boom := errors.New("boom")
	var calls atomic.Int32
	_, err := RunN(context.Background(), 2, 1000, func(i int) error {
		calls.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls.Load() == 1000 {
		t.Errorf("error did not stop the run: %v after %d calls", err, calls.Load())
	}
}
