package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
)

// The login throttle follows OWASP's advice: no account is ever locked.
// Attempts are counted per (account, client address) and per client address;
// each scope lets a number of attempts through freely, then allows the next
// one only after a delay that doubles with every further attempt, up to
// maxDelay. An attempt is reserved in the database before the password is
// checked, so parallel guesses cannot slip past the count, and a refused
// attempt costs no password check. A correct password clears its (account,
// address) counter and gives back its reservation at the address.

// throttleScope is one dimension the throttle counts in.
type throttleScope struct {
	prefix string        // of the key
	free   int           // attempts that pass before delays begin
	window time.Duration // a counter starts over this long after its first attempt
}

var (
	// A person mistyping their own password meets delays only after
	// pairScope.free attempts; success clears the counter.
	pairScope = throttleScope{prefix: "account:", free: 5, window: 24 * time.Hour}
	// Many people may share an address (an office behind NAT), so the
	// address allows many more attempts, and only failures stay counted.
	// Its shorter window lets a shared address recover within the hour.
	addressScope = throttleScope{prefix: "address:", free: 100, window: time.Hour}
)

// Delays after the free attempts: firstDelay, doubling, at most maxDelay.
const (
	firstDelay = time.Second
	maxDelay   = 15 * time.Minute
	// longestWindow bounds how long a counter row is kept.
	longestWindow = 24 * time.Hour
)

// ThrottledError is a sign-in refused by the throttle without a password
// check. It unwraps to a 429 whose detail says, in words, when to try again;
// handlers send Wait as Retry-After.
type ThrottledError struct {
	Wait time.Duration
	err  *fault.Error
}

func throttled(wait time.Duration) *ThrottledError {
	return &ThrottledError{Wait: wait, err: &fault.Error{Kind: fault.KindTooManyRequests, Title: fault.ErrTooManyRequests.Title,
		Detail: "Too many failed sign-ins. Try again in " + durationInWords(wait) + "."}}
}

func (e *ThrottledError) Error() string { return e.err.Error() }
func (e *ThrottledError) Unwrap() error { return e.err }

// RetryAfter is the Retry-After header value: whole seconds, rounded up.
func (e *ThrottledError) RetryAfter() string {
	return strconv.Itoa(ceilDiv(e.Wait, time.Second))
}

// durationInWords says a wait of up to maxDelay for people: seconds under a
// minute, else whole minutes rounded up.
func durationInWords(d time.Duration) string {
	secs := ceilDiv(d, time.Second)
	if secs < 60 {
		return plural(secs, "second")
	}
	return plural(ceilDiv(d, time.Minute), "minute")
}

func ceilDiv(d, unit time.Duration) int {
	n := int((d + unit - 1) / unit)
	return max(n, 1)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// throttleKeys are the counters a sign-in for email from client reserves
// from, the narrower scope first.
func throttleKeys(email, client string) []scopedKey {
	addr := addressKey(client)
	return []scopedKey{
		{scope: pairScope, reserve: reservePairSQL, key: pairScope.prefix + email + "|" + addr},
		{scope: addressScope, reserve: reserveAddressSQL, key: addressScope.prefix + addr},
	}
}

type scopedKey struct {
	scope   throttleScope
	reserve string // reserveSQL(scope)
	key     string
}

// addressKey is what the throttle counts an address as: an IPv6 client is
// its /64, since one subscriber usually holds the whole /64 and could
// otherwise take a fresh address for every guess.
func addressKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil || !a.Is6() || a.Is4In6() {
		return client
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// delaySQL is the delay in milliseconds that attempt number n (an SQL
// expression) of scope sc imposes on the next one. The constants are ours, not
// input, so they are written into the statement: PostgreSQL then needs no
// guess at a parameter's type in the shift.
func delaySQL(sc throttleScope, n string) string {
	doublings := 0
	for firstDelay<<doublings < maxDelay {
		doublings++
	}
	return fmt.Sprintf("(CASE WHEN %[1]s < %[2]d THEN 0 WHEN %[1]s - %[2]d >= %[3]d THEN %[4]d ELSE CAST(%[5]d AS BIGINT) << (%[1]s - %[2]d) END)",
		n, sc.free, doublings, maxDelay.Milliseconds(), firstDelay.Milliseconds())
}

// reserveSQL counts one attempt for a key and returns the new count, or
// returns no row when the key's next attempt is not due yet. Being one upsert,
// it checks and counts at once: of N parallel attempts, no more than the
// allowance get a row. A counter whose window has passed starts over.
// The arguments are: key, now, now, cutoff, cutoff, now, now, cutoff, now,
// cutoff (cutoff = now - window, all in Unix milliseconds).
func reserveSQL(sc throttleScope) string {
	return `INSERT INTO login_throttle (key, attempts, window_start, next_at)
	VALUES (?, 1, CAST(? AS BIGINT), CAST(? AS BIGINT) + ` + delaySQL(sc, "1") + `)
	ON CONFLICT (key) DO UPDATE SET
		attempts = CASE WHEN login_throttle.window_start <= CAST(? AS BIGINT) THEN 1 ELSE login_throttle.attempts + 1 END,
		window_start = CASE WHEN login_throttle.window_start <= CAST(? AS BIGINT) THEN CAST(? AS BIGINT) ELSE login_throttle.window_start END,
		next_at = CAST(? AS BIGINT) + CASE WHEN login_throttle.window_start <= CAST(? AS BIGINT) THEN ` + delaySQL(sc, "1") +
		` ELSE ` + delaySQL(sc, "(login_throttle.attempts + 1)") + ` END
	WHERE login_throttle.next_at <= CAST(? AS BIGINT) OR login_throttle.window_start <= CAST(? AS BIGINT)
	RETURNING attempts`
}

var (
	reservePairSQL    = reserveSQL(pairScope)
	reserveAddressSQL = reserveSQL(addressScope)
)

// errRefused rolls the reservation back when one scope refuses.
var errRefused = errors.New("auth: throttle: refused")

// reserve counts one attempt in every scope, all or none, in one short
// transaction. It returns 0 when the password may be checked, else how long
// until the next attempt is due.
func (s *Service) reserve(ctx context.Context, keys []scopedKey, now time.Time) (time.Duration, error) {
	ms := now.UnixMilli()
	var wait time.Duration
	err := s.DB.Transact(ctx, func(tx *store.Tx) error {
		for i, k := range keys {
			cutoff := ms - k.scope.window.Milliseconds()
			var attempts int
			err := tx.QueryRow(ctx, k.reserve, k.key, ms, ms, cutoff, cutoff, ms, ms, cutoff, ms, cutoff).Scan(&attempts)
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("reserve %s: %w", k.scope.prefix, err)
			}
			// Refused: wait until this scope and the ones after it are due
			// (those before were due: they just counted this attempt).
			for _, k := range keys[i:] {
				var next int64
				err := tx.QueryRow(ctx, `SELECT next_at FROM login_throttle WHERE key = ?`, k.key).Scan(&next)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("throttle: %w", err)
				}
				wait = max(wait, time.Duration(next-ms)*time.Millisecond)
			}
			wait = max(wait, time.Millisecond)
			return errRefused
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		return wait, nil
	}
	if err != nil {
		return 0, fmt.Errorf("auth: throttle: %w", err)
	}
	return 0, nil
}

// releaseOnSuccess runs in the transaction of a successful sign-in: it
// clears the (account, address) counter and gives back the attempt reserved
// at the address, so an address where many people sign in counts only
// their failures. Below the free allowance the next attempt is due at once
// again (the reservation may have been the one that started the delays).
func releaseOnSuccess(ctx context.Context, tx *store.Tx, keys []scopedKey) error {
	if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, keys[0].key); err != nil {
		return err
	}
	address := keys[1]
	_, err := tx.Exec(ctx, `UPDATE login_throttle SET attempts = attempts - 1,
		next_at = CASE WHEN attempts - 1 < ? THEN 0 ELSE next_at END
		WHERE key = ? AND attempts > 0`, address.scope.free, address.key)
	return err
}

// forgetOldCounters deletes counters whose every window has passed.
func forgetOldCounters(ctx context.Context, tx *store.Tx, now time.Time) error {
	_, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE window_start < ?`, now.Add(-longestWindow).UnixMilli())
	return err
}
