package auth

import (
	"sync"
	"sync/atomic"
)

// CountPasswordChecks makes s count the password checks it runs, so tests
// can tell a refused-by-throttle attempt (no check) from a checked one. It
// remembers each (hash, password) result, so that tests making hundreds of
// guesses with one wrong password run argon2 once, not hundreds of times.
func CountPasswordChecks(s *Service) *atomic.Int64 {
	var n atomic.Int64
	var mu sync.Mutex
	memo := map[[2]string]bool{}
	s.checkPassword = func(hash, pw string) bool {
		n.Add(1)
		mu.Lock()
		ok, seen := memo[[2]string{hash, pw}]
		mu.Unlock()
		if !seen {
			ok = CheckPassword(hash, pw)
			mu.Lock()
			memo[[2]string{hash, pw}] = ok
			mu.Unlock()
		}
		return ok
	}
	return &n
}

// DurationInWords is durationInWords, for its table test.
var DurationInWords = durationInWords
