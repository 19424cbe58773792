package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/platform/testclock"
	"kompas/internal/platform/web"
)

// wrong is the wrong password used throughout, so the counting check runs
// argon2 for it once per hash.
const wrong = "wrong-password-x"

// outcome names what a sign-in came to: "ok", "401", "429" or the error.
func outcome(err error) string {
	var te *auth.ThrottledError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, auth.ErrBadCredentials):
		return "401"
	case errors.As(err, &te) && errors.Is(err, fault.ErrTooManyRequests):
		return "429"
	}
	return err.Error()
}

// login signs in through the service and says how it went; wait is the
// throttle's wait when refused.
func (k *kernel) login(email, pw, client string) (result string, wait time.Duration) {
	k.t.Helper()
	_, _, err := k.svc.Login(context.Background(), email, pw, client)
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		wait = te.Wait
	}
	return outcome(err), wait
}

// mustLogin fails the test unless the sign-in comes to want.
func (k *kernel) mustLogin(email, pw, client, want string) {
	k.t.Helper()
	if got, wait := k.login(email, pw, client); got != want {
		k.t.Fatalf("Login(%s, %s) = %s (wait %v), want %s", email, client, got, wait, want)
	}
}

// apiLoginVia signs in through the API as a proxy would pass it on: with
// X-Forwarded-For naming the client.
func (k *kernel) apiLoginVia(email, pw, forwardedFor string) *response {
	k.t.Helper()
	req, err := http.NewRequest("POST", k.hs.URL+"/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)))
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", forwardedFor)
	return k.send(k.hs.Client(), req)
}

func trustLocalProxy(srv *web.Server) {
	srv.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

// TestThrottleDelaysOnlyTheFailingAddress: behind the TLS proxy, five wrong
// passwords from one client delay that client only; the account's owner,
// elsewhere, signs in at once, and so does another account at the
// attacker's address.
func TestThrottleDelaysOnlyTheFailingAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		k := newKernel(t, db, nil, trustLocalProxy)
		const attacker, owner = "203.0.113.9", "198.51.100.7"
		for i := range 5 {
			if res := k.apiLoginVia("policy@mfa.example", wrong, attacker); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s, want 401", i+1, res.status, res.body)
			}
		}
		// The attacker's sixth try waits, even with the right password, in
		// the API…
		res := k.apiLoginVia("policy@mfa.example", password, attacker)
		if res.status != http.StatusTooManyRequests {
			t.Fatalf("sixth try from the attacker: %d %s, want 429", res.status, res.body)
		}
		if got := res.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1", got)
		}
		if p := res.problem(t); p.Title != "Too many attempts" || p.Detail != "Too many failed sign-ins. Try again in 1 second." {
			t.Errorf("problem %+v", p)
		}
		// … and in the form, with a page that says when.
		req, _ := http.NewRequest("POST", k.hs.URL+"/login", strings.NewReader(url.Values{"email": {"policy@mfa.example"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", attacker)
		form := k.send(k.browser(), req)
		if form.status != http.StatusTooManyRequests || form.header.Get("Retry-After") != "1" {
			t.Errorf("form: %d, Retry-After %q; want 429 and 1", form.status, form.header.Get("Retry-After"))
		}
		if !strings.Contains(string(form.body), "Try again in 1 second.") {
			t.Errorf("the form page does not say when to try again:\n%s", form.body)
		}
		if strings.Contains(strings.Join(form.header.Values("Set-Cookie"), ";"), auth.SessionCookie+"=ks_") {
			t.Error("a throttled sign-in set a session cookie")
		}
		if n := k.count(`SELECT COUNT(*) FROM sessions`); n != 0 {
			t.Errorf("%d sessions opened while throttled", n)
		}
		if n := k.checks.Load(); n != 5 {
			t.Errorf("%d password checks, want 5: a throttled attempt is not checked", n)
		}
		// The owner, at another address, signs in at the first try.
		if res := k.apiLoginVia("policy@mfa.example", password, owner); res.status != http.StatusOK {
			t.Errorf("the owner from another address: %d %s", res.status, res.body)
		}
		// Another account at the attacker's address is not held up.
		if res := k.apiLoginVia("admin@mfa.example", password, attacker); res.status != http.StatusOK {
			t.Errorf("another account at the attacker's address: %d %s", res.status, res.body)
		}
		// Once the delay has passed, the attacker's address may try again.
		k.clock.Advance(time.Second)
		if res := k.apiLoginVia("policy@mfa.example", password, attacker); res.status != http.StatusOK {
			t.Errorf("after the delay: %d %s", res.status, res.body)
		}
		if n := k.count(`SELECT COUNT(*) FROM audit_events WHERE action = ?`, audit.ActionLoginFailed); n != 5 {
			t.Errorf("%d failed sign-ins audited, want 5", n)
		}
	}, audit.Migrations, auth.Migrations)
}

// TestThrottleClientAddress: X-Forwarded-For names the client only when it
// comes from a trusted proxy; a client that sends it itself is counted at its
// own address, whatever it claims.
func TestThrottleClientAddress(t *testing.T) {
	tests := []struct {
		name       string
		configure  []func(*web.Server)
		wantSixth  int
		wantClient string // as audited
	}{
		{"no trusted proxy: a rotating X-Forwarded-For is ignored", nil, http.StatusTooManyRequests, "127.0.0.1"},
		{"trusted proxy: each forwarded client counts apart", []func(*web.Server){trustLocalProxy}, http.StatusOK, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				k := newKernel(t, db, nil, tt.configure...)
				for i := range 5 {
					if res := k.apiLoginVia("policy@mfa.example", wrong, fmt.Sprintf("192.0.2.%d", i+1)); res.status != http.StatusUnauthorized {
						t.Fatalf("failure %d: %d", i+1, res.status)
					}
				}
				if res := k.apiLoginVia("policy@mfa.example", password, "192.0.2.6"); res.status != tt.wantSixth {
					t.Errorf("sixth: %d %s, want %d", res.status, res.body, tt.wantSixth)
				}
				events, err := audit.List(context.Background(), k.db, audit.Filter{ObjectType: "session"})
				if err != nil || len(events) == 0 {
					t.Fatalf("audit: %v, %d events", err, len(events))
				}
				if first := events[len(events)-1]; first.Detail != "client="+tt.wantClient {
					t.Errorf("first failure audited with %q, want client=%s", first.Detail, tt.wantClient)
				}
			}, audit.Migrations, auth.Migrations)
		})
	}
}

// TestThrottleDelaysDouble: after five free failures each further attempt
// waits twice as long as the one before, from 1 second to at most 15
// minutes; a day after the first failure the count starts over.
func TestThrottleDelaysDouble(t *testing.T) {
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900}
	eachKernel(t, func(t *testing.T, k *kernel) {
		const email, client = "policy@mfa.example", "203.0.113.9"
		for range 5 {
			k.mustLogin(email, wrong, client, "401")
		}
		for i, d := range want {
			d *= time.Second
			if got, wait := k.login(email, wrong, client); got != "429" || wait != d {
				t.Fatalf("delay %d: %s, wait %v; want 429, wait %v", i+1, got, wait, d)
			}
			k.clock.Advance(d - time.Millisecond)
			if got, wait := k.login(email, password, client); got != "429" || wait != time.Millisecond {
				t.Fatalf("delay %d, 1 ms early: %s, wait %v; want 429, wait 1ms", i+1, got, wait)
			}
			k.clock.Advance(time.Millisecond)
			k.mustLogin(email, wrong, client, "401")
		}
		if n, want := k.checks.Load(), int64(5+len(want)); n != want {
			t.Errorf("%d password checks, want %d", n, want)
		}
		// The counter's window began with the first failure; a day later
		// it starts over.
		k.clock.Advance(24 * time.Hour)
		for range 5 {
			k.mustLogin(email, wrong, client, "401")
		}
		k.mustLogin(email, password, client, "429")
	})
}

// TestThrottleAddress: one address may fail 100 times across accounts
// (spraying one password over many) before it is delayed; successes there do
// not count, so an office behind one address is not held up by its own
// sign-ins.
func TestThrottleAddress(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		const office, elsewhere = "203.0.113.9", "198.51.100.7"
		for i := range 99 {
			k.mustLogin(fmt.Sprintf("guess%d@mfa.example", i), wrong, office, "401")
		}
		for i := range 10 {
			k.mustLogin(accounts[i%len(accounts)].Email, password, office, "ok")
		}
		k.mustLogin("guess99@mfa.example", wrong, office, "401")
		if got, wait := k.login("policy@mfa.example", password, office); got != "429" || wait != time.Second {
			t.Errorf("after 100 failures at one address: %s, wait %v; want 429, 1s", got, wait)
		}
		if n := k.checks.Load(); n != 110 {
			t.Errorf("%d password checks, want 110", n)
		}
		k.mustLogin("policy@mfa.example", password, elsewhere, "ok")
	})
}

// TestThrottleIPv6Prefix: an IPv6 client is counted by its /64, so taking a
// fresh address from its own network for each guess gains nothing.
func TestThrottleIPv6Prefix(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		for i := range 5 {
			k.mustLogin("policy@mfa.example", wrong, fmt.Sprintf("2001:db8:1:2::%x", i+1), "401")
		}
		k.mustLogin("policy@mfa.example", password, "2001:db8:1:2:ffff::1", "429")
		k.mustLogin("policy@mfa.example", password, "2001:db8:1:3::1", "ok")
	})
}

// TestThrottleParallelGuesses: of N guesses sent at once, no more than the
// allowance get a password check, for an account and for an address. Each
// attempt is reserved by one upsert before its check, so none can read a
// stale count.
func TestThrottleParallelGuesses(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		email     func(i int) string
		wantCheck int
	}{
		{"50 at one account", 50, func(int) string { return "policy@mfa.example" }, 5},
		{"50 at an unknown account", 50, func(int) string { return "ghost@mfa.example" }, 5},
		{"150 at 150 accounts from one address", 150, func(i int) string { return fmt.Sprintf("guess%d@mfa.example", i) }, 100},
	}
	eachKernel(t, func(t *testing.T, k *kernel) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := k.with(t)
				client := fmt.Sprintf("203.0.113.%d", i+1)
				before, events := k.checks.Load(), k.count(`SELECT COUNT(*) FROM audit_events WHERE action = ?`, audit.ActionLoginFailed)
				got := map[string]int{}
				var mu sync.Mutex
				var wg sync.WaitGroup
				for j := range tt.n {
					wg.Go(func() {
						_, _, err := k.svc.Login(context.Background(), tt.email(j), wrong, client)
						mu.Lock()
						got[outcome(err)]++
						mu.Unlock()
					})
				}
				wg.Wait()
				checks := int(k.checks.Load() - before)
				if checks > tt.wantCheck {
					t.Errorf("%d of %d parallel guesses were checked, over the allowance of %d", checks, tt.n, tt.wantCheck)
				}
				if checks != tt.wantCheck || got["401"] != tt.wantCheck || got["429"] != tt.n-tt.wantCheck || len(got) != 2 {
					t.Errorf("outcomes %v, %d checks; want %d × 401 (each checked) and the rest 429", got, checks, tt.wantCheck)
				}
				if n := k.count(`SELECT COUNT(*) FROM audit_events WHERE action = ?`, audit.ActionLoginFailed) - events; n != tt.wantCheck {
					t.Errorf("%d failed sign-ins audited, want %d", n, tt.wantCheck)
				}
			})
		}
	})
}

// TestThrottleParallelRightAmongWrong: an attacker who sends 19 wrong
// guesses and the right one at once gets no more than the allowance
// checked, so the right one signs in only if it was among the first five.
func TestThrottleParallelRightAmongWrong(t *testing.T) {
	const email, free = "policy@mfa.example", 5
	eachKernel(t, func(t *testing.T, k *kernel) {
		for round := range 8 {
			client := fmt.Sprintf("203.0.113.%d", round+1)
			before := k.checks.Load()
			var right string
			wrongs := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for j := range 20 {
				wg.Go(func() {
					pw := wrong
					if j == 10 {
						pw = password
					}
					_, _, err := k.svc.Login(context.Background(), email, pw, client)
					mu.Lock()
					defer mu.Unlock()
					if pw == password {
						right = outcome(err)
					} else {
						wrongs[outcome(err)]++
					}
				})
			}
			wg.Wait()
			checks := int(k.checks.Load() - before)
			switch right {
			case "429":
				// Five wrong guesses took the allowance; the right one was
				// not checked.
				if checks != free || wrongs["401"] != free {
					t.Errorf("round %d: right one refused, but %d checks (%v); want %d", round, checks, wrongs, free)
				}
			case "ok":
				// It was one of the first five. Its success cleared the
				// counter, so guesses after it start a new count of five:
				// at most four before it and five after.
				if wrongs["401"] > 2*free-1 || checks != wrongs["401"]+1 {
					t.Errorf("round %d: signed in with %d wrong guesses checked (%v)", round, wrongs["401"], wrongs)
				}
			default:
				t.Errorf("round %d: the right password came to %s", round, right)
			}
			if wrongs["401"]+wrongs["429"] != 19 {
				t.Errorf("round %d: wrong guesses came to %v", round, wrongs)
			}
		}
		// In turn, not at once: 19 wrong, then the right one is not checked.
		const client = "198.51.100.99"
		for range 19 {
			k.login(email, wrong, client)
		}
		before := k.checks.Load()
		k.mustLogin(email, password, client, "429")
		if k.checks.Load() != before {
			t.Error("the 20th guess was checked")
		}
	})
}

// TestThrottleLeavesTheOwnerIn: 1,000 failures against an account from 50
// addresses, with the clock running, cost far fewer than 1,000 password
// checks, and the owner then signs in from a fresh address at the first try.
func TestThrottleLeavesTheOwnerIn(t *testing.T) {
	const email, addresses, rounds, step = "policy@mfa.example", 50, 20, time.Minute
	// What one address may check in rounds tries a step apart: five free,
	// then delays of 1 s, 2 s, … (the schedule TestThrottleDelaysDouble pins).
	perAddress := 0
	var next time.Duration
	for r := range rounds {
		at := time.Duration(r) * step
		if at < next {
			continue
		}
		perAddress++
		if perAddress >= 5 {
			next = at + min(time.Second<<(perAddress-5), 15*time.Minute)
		}
	}
	eachKernel(t, func(t *testing.T, k *kernel) {
		got := map[string]int{}
		var mu sync.Mutex
		for range rounds {
			var wg sync.WaitGroup
			for a := range addresses {
				wg.Go(func() {
					res, _ := k.login(email, wrong, fmt.Sprintf("203.0.113.%d", a+1))
					mu.Lock()
					got[res]++
					mu.Unlock()
				})
			}
			wg.Wait()
			k.clock.Advance(step)
		}
		checks := int(k.checks.Load())
		if got["401"]+got["429"] != addresses*rounds || checks != got["401"] {
			t.Errorf("outcomes %v with %d checks; want 1,000 failures, every 401 checked and no 429", got, checks)
		}
		if want := addresses * perAddress; checks != want {
			t.Errorf("%d password checks for %d failures, want %d", checks, addresses*rounds, want)
		}
		t.Logf("%d failures: %d checked, %d refused unchecked", addresses*rounds, got["401"], got["429"])
		before := k.checks.Load()
		k.mustLogin(email, password, "198.51.100.7", "ok")
		if k.checks.Load() != before+1 {
			t.Errorf("the owner's sign-in took %d checks", k.checks.Load()-before)
		}
	})
}

// TestLoginRefusesImpossibleAddresses: an e-mail address no account can have
// (over 254 bytes, or not UTF-8) is refused without a check or a counter.
func TestLoginRefusesImpossibleAddresses(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		for _, email := range []string{strings.Repeat("a", 250) + "@x.example", "bad\xff@mfa.example"} {
			k.mustLogin(email, wrong, "203.0.113.9", "401")
		}
		if n := k.checks.Load(); n != 0 {
			t.Errorf("%d password checks", n)
		}
		if n := k.count(`SELECT COUNT(*) FROM login_throttle`); n != 0 {
			t.Errorf("%d throttle counters", n)
		}
	})
}

func TestDurationInWords(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Millisecond, "1 second"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{59 * time.Second, "59 seconds"},
		{60 * time.Second, "1 minute"},
		{61 * time.Second, "2 minutes"},
		{512 * time.Second, "9 minutes"},
		{15 * time.Minute, "15 minutes"},
	}
	for _, tt := range tests {
		if got := auth.DurationInWords(tt.d); got != tt.want {
			t.Errorf("DurationInWords(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// BenchmarkLogin measures what a guess costs the server: one the throttle
// refuses (a rolled-back upsert, no argon2) and one it lets through to a
// failed password check (argon2 and an audit append).
//
//	KOMPAS_TEST_POSTGRES=… go test ./internal/platform/auth -run '^$' -bench Login -benchtime 200x
func BenchmarkLogin(b *testing.B) {
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler)) // one "sign-in throttled" line per refusal
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine)
			ctx := context.Background()
			if _, err := db.Migrate(ctx, audit.Migrations, auth.Migrations); err != nil {
				b.Fatal(err)
			}
			clock := testclock.New(time.Now())
			svc := &auth.Service{DB: db, Now: clock.Now}
			b.Run("refused", func(b *testing.B) {
				for range 5 {
					_, _, _ = svc.Login(ctx, "ghost@mfa.example", wrong, "203.0.113.9")
				}
				for b.Loop() {
					if _, _, err := svc.Login(ctx, "ghost@mfa.example", wrong, "203.0.113.9"); outcome(err) != "429" {
						b.Fatalf("got %v, want 429", err)
					}
				}
			})
			b.Run("checked", func(b *testing.B) {
				i := 0
				for b.Loop() {
					i++ // a fresh account each time, so none is throttled
					if _, _, err := svc.Login(ctx, fmt.Sprintf("ghost%d@mfa.example", i), wrong, fmt.Sprintf("198.51.%d.%d", i/250, i%250)); outcome(err) != "401" {
						b.Fatalf("got %v, want 401", err)
					}
				}
			})
		})
	}
}
