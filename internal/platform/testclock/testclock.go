// Package testclock is a clock for tests that moves only when told, so a
// test can step through delays and windows (the login throttle, the
// refusal rate limit) without sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock is safe for concurrent use: handlers read it while a test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New is a clock standing at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time; pass the method where a service takes a
// func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
