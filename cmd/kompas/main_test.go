package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

// reexecEnv makes the test binary act as the kompas binary (see TestMain),
// so the two-process test needs no separate build.
const reexecEnv = "KOMPAS_TEST_REEXEC"

func TestMain(m *testing.M) {
	if os.Getenv(reexecEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// lockedBuffer is a bytes.Buffer safe for a server goroutine to write while
// the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type outcome struct {
	code           int
	stdout, stderr string
}

func (o outcome) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", o.code, o.stdout, o.stderr)
}

// cli runs kompas in-process with a fake environment: vars are the only
// environment variables it sees, stdin its standard input.
func cli(t *testing.T, vars map[string]string, stdin string, args ...string) outcome {
	t.Helper()
	var stdout, stderr lockedBuffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), args, e)
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// must runs cli and fails the test unless it exits 0.
func must(t *testing.T, vars map[string]string, stdin string, args ...string) outcome {
	t.Helper()
	o := cli(t, vars, stdin, args...)
	if o.code != 0 {
		t.Fatalf("kompas %s: %s", strings.Join(args, " "), o)
	}
	return o
}

func TestHelpAndUsage(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	tests := []struct {
		name     string
		args     []string
		vars     map[string]string
		wantCode int
		wantOut  []string // substrings of stdout+stderr
	}{
		{name: "no arguments", args: nil, wantCode: 2, wantOut: []string{"Usage: kompas <command>", "serve", "migrate", "audit"}},
		{name: "help", args: []string{"help"}, wantCode: 0, wantOut: []string{"Usage: kompas <command>", "KOMPAS_DB"}},
		{name: "-h", args: []string{"-h"}, wantCode: 0, wantOut: []string{"Commands:"}},
		{name: "--help", args: []string{"--help"}, wantCode: 0, wantOut: []string{"Commands:"}},
		{name: "help -h", args: []string{"help", "-h"}, wantCode: 0, wantOut: []string{"Commands:"}},
		{name: "serve -h", args: []string{"serve", "-h"}, wantCode: 0, wantOut: []string{"Usage: kompas serve", "-addr", "-demo", "-trusted-proxies", "KOMPAS_<FLAG>"}},
		{name: "migrate -h", args: []string{"migrate", "-h"}, wantCode: 0, wantOut: []string{"Usage: kompas migrate", "-db"}},
		{name: "user -h", args: []string{"user", "-h"}, wantCode: 0, wantOut: []string{"add|list|disable|enable|set-password"}},
		{name: "user add -h", args: []string{"user", "add", "-h"}, wantCode: 0, wantOut: []string{"-role", "-password-stdin", "policy_officer"}},
		{name: "user list -h", args: []string{"user", "list", "-h"}, wantCode: 0, wantOut: []string{"-db"}},
		{name: "user disable -h", args: []string{"user", "disable", "-h"}, wantCode: 0, wantOut: []string{"-email"}},
		{name: "user set-password -h", args: []string{"user", "set-password", "-h"}, wantCode: 0, wantOut: []string{"-password-stdin"}},
		{name: "token -h", args: []string{"token", "-h"}, wantCode: 0, wantOut: []string{"token create"}},
		{name: "token create -h", args: []string{"token", "create", "-h"}, wantCode: 0, wantOut: []string{"-days"}},
		{name: "token revoke -h", args: []string{"token", "revoke", "-h"}, wantCode: 0, wantOut: []string{"-token"}},
		{name: "audit -h", args: []string{"audit", "-h"}, wantCode: 0, wantOut: []string{"audit verify"}},
		{name: "audit verify -h", args: []string{"audit", "verify", "-h"}, wantCode: 0, wantOut: []string{"-db", "-checkpoint", "-key"}},
		{name: "audit keygen -h", args: []string{"audit", "keygen", "-h"}, wantCode: 0, wantOut: []string{"-out", "-name"}},
		{name: "audit checkpoint -h", args: []string{"audit", "checkpoint", "-h"}, wantCode: 0, wantOut: []string{"-audit-key", "-audit-checkpoints"}},
		{name: "serve -h", args: []string{"serve", "-h"}, wantCode: 0, wantOut: []string{"-audit-key", "-audit-checkpoints"}},
		{name: "version -h", args: []string{"version", "-h"}, wantCode: 0, wantOut: []string{"kompas"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantOut: []string{`unknown command "frobnicate"`, "Commands:"}},
		{name: "unknown flag", args: []string{"serve", "--frobnicate"}, wantCode: 2, wantOut: []string{"frobnicate"}},
		{name: "stray argument", args: []string{"serve", "--db", db, "extra"}, wantCode: 2, wantOut: []string{"unexpected arguments: extra"}},
		{name: "bad log level", args: []string{"serve", "--db", db, "--log-level", "loud"}, wantCode: 2, wantOut: []string{"--log-level"}},
		{name: "serve --demo without password", args: []string{"serve", "--db", db, "--demo"}, wantCode: 2, wantOut: []string{"KOMPAS_DEMO_PASSWORD"}},
		{name: "serve --demo with a short password", args: []string{"serve", "--db", db, "--demo"}, vars: map[string]string{"KOMPAS_DEMO_PASSWORD": "short"},
			wantCode: 2, wantOut: []string{"KOMPAS_DEMO_PASSWORD must be at least 12"}},
		{name: "KOMPAS_DEMO=true without password", args: []string{"serve", "--db", db}, vars: map[string]string{"KOMPAS_DEMO": "true"}, wantCode: 2, wantOut: []string{"KOMPAS_DEMO_PASSWORD"}},
		{name: "bad boolean in the environment", args: []string{"serve", "--db", db}, vars: map[string]string{"KOMPAS_DEMO": "maybe"}, wantCode: 2, wantOut: []string{"KOMPAS_DEMO"}},
		{name: "bad trusted proxy", args: []string{"serve", "--db", db, "--trusted-proxies", "10.0.0.0/8,proxy.example"}, wantCode: 2, wantOut: []string{"--trusted-proxies", "proxy.example"}},
		{name: "bad trusted proxy in the environment", args: []string{"serve", "--db", db}, vars: map[string]string{"KOMPAS_TRUSTED_PROXIES": "10.0.0.0/33"}, wantCode: 2, wantOut: []string{"--trusted-proxies", "10.0.0.0/33"}},
		{name: "user without subcommand", args: []string{"user"}, wantCode: 2, wantOut: []string{"subcommand"}},
		{name: "user unknown subcommand", args: []string{"user", "promote"}, wantCode: 2, wantOut: []string{`"promote"`}},
		{name: "user disable without e-mail", args: []string{"user", "disable", "--db", db}, wantCode: 2, wantOut: []string{"--email is required"}},
		{name: "token without subcommand", args: []string{"token"}, wantCode: 2, wantOut: []string{"create or revoke"}},
		{name: "audit without subcommand", args: []string{"audit"}, wantCode: 2, wantOut: []string{"subcommand is needed: verify, keygen or checkpoint"}},
		{name: "audit unknown subcommand", args: []string{"audit", "rewrite"}, wantCode: 2, wantOut: []string{`"rewrite"`}},
		{name: "audit verify --checkpoint without a key", args: []string{"audit", "verify", "--db", db, "--checkpoint", "cp.txt"}, wantCode: 2, wantOut: []string{"--checkpoint needs --key"}},
		{name: "audit keygen without --out", args: []string{"audit", "keygen"}, wantCode: 2, wantOut: []string{"--out is required"}},
		{name: "audit keygen with a bad name", args: []string{"audit", "keygen", "--out", filepath.Join(t.TempDir(), "k"), "--name", "two words"}, wantCode: 2, wantOut: []string{"--name"}},
		{name: "audit checkpoint without a key", args: []string{"audit", "checkpoint", "--db", db}, wantCode: 2, wantOut: []string{"--audit-key is required"}},
		{name: "serve with a missing audit key", args: []string{"serve", "--db", db, "--audit-key", filepath.Join(t.TempDir(), "none.key")}, wantCode: 1, wantOut: []string{"audit: key", "none.key"}},
		{name: "serve --audit-checkpoints without a key", args: []string{"serve", "--db", db, "--audit-checkpoints", "cps"}, wantCode: 2, wantOut: []string{"--audit-checkpoints needs --audit-key"}},
		{name: "audit verify unknown flag", args: []string{"audit", "verify", "--deep"}, wantCode: 2, wantOut: []string{"deep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := cli(t, tt.vars, "", tt.args...)
			if o.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s", o.code, tt.wantCode, o)
			}
			all := o.stdout + o.stderr
			for _, s := range tt.wantOut {
				if !strings.Contains(all, s) {
					t.Errorf("output lacks %q\n%s", s, o)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(strings.TrimPrefix(db, "sqlite:")), "k.db")); err == nil {
		t.Error("a refused command created the database")
	}
	if _, err := os.Stat("data"); err == nil {
		t.Error("a test fell back to the default data folder")
	}
}

func TestVersion(t *testing.T) {
	o := must(t, nil, "", "version")
	if !regexp.MustCompile(`^kompas \S+`).MatchString(o.stdout) {
		t.Errorf("version printed %q", o.stdout)
	}
}

func TestMigrateTwice(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			first := must(t, nil, "", "migrate", "--db", u)
			for _, want := range []string{"applied audit/0001_audit." + engine + ".sql", "applied auth/0001_accounts." + engine + ".sql"} {
				if !strings.Contains(first.stdout, want) {
					t.Errorf("first migrate lacks %q:\n%s", want, first.stdout)
				}
			}
			second := must(t, nil, "", "migrate", "--db", u)
			if strings.TrimSpace(second.stdout) != "the schema is up to date" {
				t.Errorf("second migrate printed %q", second.stdout)
			}
		})
	}
	o := cli(t, nil, "", "migrate", "--db", "mysql://localhost/x")
	if o.code != 1 || !strings.Contains(o.stderr, "unsupported database URL") {
		t.Errorf("migrate on a bad URL:\n%s", o)
	}
}

func TestEnvironmentVariables(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		wantFile string // the database file that must exist afterwards
	}{
		{"KOMPAS_DB", map[string]string{"KOMPAS_DB": "sqlite:" + filepath.Join(dir, "env.db")}, []string{"migrate"}, filepath.Join(dir, "env.db")},
		{"--db wins over KOMPAS_DB", map[string]string{"KOMPAS_DB": "mysql://nowhere"}, []string{"migrate", "--db", "sqlite:" + filepath.Join(dir, "flag.db")}, filepath.Join(dir, "flag.db")},
		{"KOMPAS_DATA", map[string]string{"KOMPAS_DATA": filepath.Join(dir, "folder")}, []string{"migrate"}, filepath.Join(dir, "folder", "kompas.db")},
		{"--data", nil, []string{"migrate", "--data", filepath.Join(dir, "other")}, filepath.Join(dir, "other", "kompas.db")},
		{"KOMPAS_DB for audit verify", map[string]string{"KOMPAS_DB": "sqlite:" + filepath.Join(dir, "env.db")}, []string{"audit", "verify"}, filepath.Join(dir, "env.db")},
		{"KOMPAS_DB for user list", map[string]string{"KOMPAS_DB": "sqlite:" + filepath.Join(dir, "env.db")}, []string{"user", "list"}, filepath.Join(dir, "env.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := must(t, tt.vars, "", tt.args...)
			if _, err := os.Stat(tt.wantFile); err != nil {
				t.Errorf("%s not created: %v\n%s", tt.wantFile, err, o)
			}
		})
	}
	// A bad value in the environment is a usage error naming the variable.
	o := cli(t, map[string]string{"KOMPAS_DB": "sqlite:" + filepath.Join(dir, "env.db"), "KOMPAS_DAYS": "many"}, "", "token", "create", "--email", "x@y.example")
	if o.code != 2 || !strings.Contains(o.stderr, "KOMPAS_DAYS") {
		t.Errorf("bad KOMPAS_DAYS:\n%s", o)
	}
}

func TestUserCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			db := []string{"--db", u}
			add := func(extra ...string) []string {
				return append(append([]string{"user", "add"}, db...), extra...)
			}
			tests := []struct {
				name     string
				args     []string
				stdin    string
				wantCode int
				wantOut  string
			}{
				{"add with a new organisation", add("--email", "Ada@MFA.example", "--name", "Ada", "--org", "mfa", "--org-name", "Ministry", "--org-kind", "ministry", "--role", "admin", "--password-stdin"),
					"first-password-1\n", 0, "added ada@mfa.example"},
				{"add to an existing organisation, CRLF", add("--email", "bo@mfa.example", "--name", "Bo", "--org", "mfa", "--role", "policy_officer", "--password-stdin"),
					"second-password-2\r\n", 0, "added bo@mfa.example"},
				{"add twice", add("--email", "ada@mfa.example", "--name", "Ada", "--org", "mfa", "--role", "admin", "--password-stdin"), "first-password-1\n", 1, "exists already"},
				{"add without --password-stdin", add("--email", "c@mfa.example", "--name", "C", "--org", "mfa", "--role", "admin"), "", 2, "--password-stdin"},
				{"add with a short password", add("--email", "c@mfa.example", "--name", "C", "--org", "mfa", "--role", "admin", "--password-stdin"), "short\n", 1, "at least 12"},
				{"add with an unknown role", add("--email", "c@mfa.example", "--name", "C", "--org", "mfa", "--role", "king", "--password-stdin"), "long-enough-password\n", 1, "unknown role"},
				{"add to an unknown organisation", add("--email", "c@mfa.example", "--name", "C", "--org", "nowhere", "--role", "admin", "--password-stdin"), "long-enough-password\n", 1, "no organisation"},
				{"add a new organisation of unknown kind", add("--email", "c@x.example", "--name", "C", "--org", "x", "--org-name", "X", "--org-kind", "cartel", "--role", "admin", "--password-stdin"), "long-enough-password\n", 1, "unknown organisation kind"},
				{"add without a role", add("--email", "c@mfa.example", "--name", "C", "--org", "mfa", "--password-stdin"), "long-enough-password\n", 2, "--role"},
				{"disable", append([]string{"user", "disable", "--email", "bo@mfa.example"}, db...), "", 0, "disabled bo@mfa.example"},
				{"disable an unknown user", append([]string{"user", "disable", "--email", "zed@mfa.example"}, db...), "", 1, "no user"},
				{"set-password", append([]string{"user", "set-password", "--email", "ada@mfa.example", "--password-stdin"}, db...), "third-password-3\n", 0, "password set for ada@mfa.example"},
				{"set-password without stdin flag", append([]string{"user", "set-password", "--email", "ada@mfa.example"}, db...), "", 2, "--password-stdin"},
				{"set-password too short", append([]string{"user", "set-password", "--email", "ada@mfa.example", "--password-stdin"}, db...), "tiny\n", 1, "at least 12"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					o := cli(t, nil, tt.stdin, tt.args...)
					if o.code != tt.wantCode || !strings.Contains(o.stdout+o.stderr, tt.wantOut) {
						t.Errorf("want exit %d and %q\n%s", tt.wantCode, tt.wantOut, o)
					}
				})
			}
			list := must(t, nil, "", append([]string{"user", "list"}, db...)...)
			lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "EMAIL") {
				t.Fatalf("user list:\n%s", list.stdout)
			}
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^ada@mfa\.example\s+Ada\s+mfa\s+admin\s+active$`),
				regexp.MustCompile(`(?m)^bo@mfa\.example\s+Bo\s+mfa\s+policy_officer\s+disabled$`),
			} {
				if !want.MatchString(list.stdout) {
					t.Errorf("user list does not match %s:\n%s", want, list.stdout)
				}
			}
			// The passwords set are the ones that work, the stdin line ending
			// not included.
			conn := openDB(t, u)
			checks := []struct {
				email, pw string
				want      bool
			}{
				{"ada@mfa.example", "third-password-3", true},
				{"ada@mfa.example", "first-password-1", false},
			}
			for _, c := range checks {
				var hash string
				if err := conn.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE email = ?`, c.email).Scan(&hash); err != nil {
					t.Fatal(err)
				}
				if got := auth.CheckPassword(hash, c.pw); got != c.want {
					t.Errorf("password %q for %s works = %v, want %v", c.pw, c.email, got, c.want)
				}
			}
			var hash string
			if err := conn.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE email = ?`, "bo@mfa.example").Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if !auth.CheckPassword(hash, "second-password-2") {
				t.Error("a CRLF-terminated password kept its CR")
			}
			must(t, nil, "", append([]string{"user", "enable", "--email", "bo@mfa.example"}, db...)...)
			if list := must(t, nil, "", append([]string{"user", "list"}, db...)...); strings.Contains(list.stdout, "disabled") {
				t.Errorf("enable did not enable:\n%s", list.stdout)
			}
		})
	}
}

func openDB(t *testing.T, u string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readyAddr waits until the log in buf says where the server listens.
func readyAddr(t *testing.T, log func() string, exited <-chan struct{}) string {
	t.Helper()
	re := regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(log()); m != nil {
			return m[1]
		}
		select {
		case <-exited:
			t.Fatalf("the server exited before serving:\n%s", log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("the server did not start serving:\n%s", log())
	return ""
}

func httpJSON(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func login(t *testing.T, base, email, pw string) string {
	t.Helper()
	status, body := httpJSON(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"email": email, "password": pw})
	if status != http.StatusOK {
		t.Fatalf("login %s at %s: %d %s", email, base, status, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		t.Fatalf("login body %s: %v", body, err)
	}
	return out.Token
}

// serveInProcess runs `kompas serve` in a goroutine and returns its base URL
// and a stop function that returns the exit code.
func serveInProcess(t *testing.T, vars map[string]string, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	done := make(chan struct{})
	code := -1
	go func() {
		defer close(done)
		code = run(ctx, append([]string{"serve"}, args...), e)
	}()
	stop := func() int {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("serve did not stop:\n%s", stderr.String())
		}
		return code
	}
	t.Cleanup(func() { stop() })
	addr := readyAddr(t, stderr.String, done)
	return "http://" + addr, stop
}

func TestServeInProcess(t *testing.T) {
	const pw = "demo-password-for-tests"
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			// Address and database from the environment, --demo as a flag.
			base, stop := serveInProcess(t, map[string]string{"KOMPAS_DB": u, "KOMPAS_ADDR": "127.0.0.1:0", "KOMPAS_DEMO_PASSWORD": pw}, "--demo", "--log-level", "info")
			for _, path := range []string{"/healthz", "/readyz"} {
				if status, body := httpJSON(t, "GET", base+path, "", nil); status != 200 {
					t.Errorf("%s = %d %s", path, status, body)
				}
			}
			tok := login(t, base, "policy@mfa.example", pw)
			status, body := httpJSON(t, "GET", base+"/api/v1/me", tok, nil)
			if status != 200 || !strings.Contains(string(body), `"role":"policy_officer"`) {
				t.Errorf("/me = %d %s", status, body)
			}
			if code := stop(); code != 0 {
				t.Errorf("serve exited %d after cancel, want 0", code)
			}
			if _, err := http.Get(base + "/healthz"); err == nil {
				t.Error("the server still answers after stopping")
			}
			// --demo is idempotent: a second start adds nothing and the
			// password still works.
			base, stop = serveInProcess(t, map[string]string{"KOMPAS_DEMO_PASSWORD": pw}, "--db", u, "--addr", "127.0.0.1:0", "--demo")
			login(t, base, "admin@mfa.example", pw)
			if code := stop(); code != 0 {
				t.Errorf("second serve exited %d", code)
			}
			conn := openDB(t, u)
			var n int
			if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM users WHERE email = ?`, "admin@mfa.example").Scan(&n); err != nil || n != 1 {
				t.Errorf("admin accounts after two --demo starts: %d, %v", n, err)
			}
		})
	}
}

// TestServeTrustedProxies: with KOMPAS_TRUSTED_PROXIES naming the proxy in
// front (here the test itself, at 127.0.0.1), the login throttle counts the
// clients it forwards apart; without it, they are one address.
func TestServeTrustedProxies(t *testing.T) {
	tests := []struct {
		name      string
		trusted   string
		wantOther int // a correct sign-in forwarded for another client
	}{
		{"trusted", "127.0.0.1/32", http.StatusOK},
		{"not trusted", "", http.StatusTooManyRequests},
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			must(t, nil, "long-enough-password\n", "user", "add", "--db", u, "--email", "ana@mfa.example", "--name", "Ana", "--org", "mfa",
				"--org-name", "Ministry", "--org-kind", "ministry", "--role", "analyst", "--password-stdin")
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					base, stop := serveInProcess(t, map[string]string{"KOMPAS_TRUSTED_PROXIES": tt.trusted}, "--db", u, "--addr", "127.0.0.1:0")
					defer stop()
					send := func(pw, client string) *http.Response {
						t.Helper()
						req, _ := http.NewRequest("POST", base+"/api/v1/auth/login", strings.NewReader(`{"email":"ana@mfa.example","password":"`+pw+`"}`))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("X-Forwarded-For", client)
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						res.Body.Close()
						return res
					}
					const attacker = "203.0.113.9"
					for range 5 {
						if res := send("wrong-password-x", attacker); res.StatusCode != http.StatusUnauthorized {
							t.Fatalf("wrong password: %d", res.StatusCode)
						}
					}
					// The next try waits at least a second; a slow machine
					// may pass it, so try until refused (the waits double).
					refused := false
					for range 4 {
						res := send("wrong-password-x", attacker)
						if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "" {
							refused = true
							break
						}
						if res.StatusCode != http.StatusUnauthorized {
							t.Fatalf("wrong password: %d", res.StatusCode)
						}
					}
					if !refused {
						t.Fatal("the attacker was never refused with Retry-After")
					}
					if res := send("long-enough-password", "198.51.100.7"); res.StatusCode != tt.wantOther {
						t.Errorf("another client: %d, want %d", res.StatusCode, tt.wantOther)
					}
				})
			}
		})
	}
}

func TestTokenCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			must(t, nil, "long-enough-password\n", "user", "add", "--db", u, "--email", "bot@mfa.example", "--name", "Bot", "--org", "mfa",
				"--org-name", "Ministry", "--org-kind", "ministry", "--role", "analyst", "--password-stdin")
			created := must(t, nil, "", "token", "create", "--db", u, "--email", "bot@mfa.example", "--name", "ci", "--days", "1")
			token := strings.TrimSpace(created.stdout)
			if !regexp.MustCompile(`^kt_[A-Za-z0-9_-]{43}$`).MatchString(token) {
				t.Fatalf("token create printed %q", created.stdout)
			}
			m := regexp.MustCompile(`id: ([0-9a-f]{12})`).FindStringSubmatch(created.stderr)
			if m == nil {
				t.Fatalf("token create did not print the id:\n%s", created)
			}
			base, stop := serveInProcess(t, nil, "--db", u, "--addr", "127.0.0.1:0")
			status, body := httpJSON(t, "GET", base+"/api/v1/me", token, nil)
			if status != 200 || !strings.Contains(string(body), `"email":"bot@mfa.example"`) {
				t.Fatalf("/me with the token = %d %s", status, body)
			}
			tests := []struct {
				name     string
				args     []string
				wantCode int
				wantOut  string
			}{
				{"create for an unknown user", []string{"token", "create", "--db", u, "--email", "ghost@mfa.example"}, 1, "no user"},
				{"create without e-mail", []string{"token", "create", "--db", u}, 2, "--email is required"},
				{"create for zero days", []string{"token", "create", "--db", u, "--email", "bot@mfa.example", "--days", "0"}, 2, "--days"},
				{"revoke without token", []string{"token", "revoke", "--db", u}, 2, "--token is required"},
				{"revoke by id", []string{"token", "revoke", "--db", u, "--token", m[1]}, 0, "revoked"},
				{"revoke again", []string{"token", "revoke", "--db", u, "--token", token}, 1, "no active token"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					o := cli(t, nil, "", tt.args...)
					if o.code != tt.wantCode || !strings.Contains(o.stdout+o.stderr, tt.wantOut) {
						t.Errorf("want exit %d and %q\n%s", tt.wantCode, tt.wantOut, o)
					}
				})
			}
			if status, _ := httpJSON(t, "GET", base+"/api/v1/me", token, nil); status != http.StatusUnauthorized {
				t.Errorf("/me with a revoked token = %d, want 401", status)
			}
			// A second token revoked by its full value.
			second := strings.TrimSpace(must(t, nil, "", "token", "create", "--db", u, "--email", "bot@mfa.example").stdout)
			if status, _ := httpJSON(t, "GET", base+"/api/v1/me", second, nil); status != 200 {
				t.Errorf("/me with the second token = %d", status)
			}
			must(t, nil, "", "token", "revoke", "--db", u, "--token", second)
			if status, _ := httpJSON(t, "GET", base+"/api/v1/me", second, nil); status != http.StatusUnauthorized {
				t.Errorf("/me with the second token revoked = %d, want 401", status)
			}
			if code := stop(); code != 0 {
				t.Errorf("serve exited %d", code)
			}
		})
	}
}

// dropAuditTrigger removes the append-only guard for a tamper test.
func dropAuditTrigger(t *testing.T, db *store.DB) {
	t.Helper()
	q := `DROP TRIGGER audit_events_no_update`
	if db.Dialect() == store.Postgres {
		q = `DROP TRIGGER audit_events_no_change ON audit_events`
	}
	if _, err := db.Exec(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerify(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			empty := cli(t, nil, "", "audit", "verify", "--db", u)
			if empty.code != 1 {
				t.Errorf("verify on an empty database (no audit table) exit %d, want 1\n%s", empty.code, empty)
			}
			must(t, nil, "", "migrate", "--db", u)
			if o := must(t, nil, "", "audit", "verify", "--db", u); strings.TrimSpace(o.stdout) != "audit chain intact: 0 events" {
				t.Errorf("verify on a fresh database: %q", o.stdout)
			}
			for i := range 3 {
				must(t, nil, "long-enough-password\n", "user", "add", "--db", u, "--email", fmt.Sprintf("u%d@mfa.example", i), "--name", "U",
					"--org", "mfa", "--org-name", "Ministry", "--org-kind", "ministry", "--role", "analyst", "--password-stdin")
			}
			o := must(t, nil, "", "audit", "verify", "--db", u)
			if strings.TrimSpace(o.stdout) != "audit chain intact: 3 events" {
				t.Errorf("verify: %q", o.stdout)
			}
			conn := openDB(t, u)
			var id int64
			if err := conn.QueryRow(context.Background(), `SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 1`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			dropAuditTrigger(t, conn)
			if _, err := conn.Exec(context.Background(), `UPDATE audit_events SET detail = ? WHERE id = ?`, "role=admin org=mfa", id); err != nil {
				t.Fatal(err)
			}
			bad := cli(t, nil, "", "audit", "verify", "--db", u)
			if bad.code != 1 {
				t.Errorf("verify after tampering exit %d, want 1\n%s", bad.code, bad)
			}
			if want := fmt.Sprintf("chain broken at event %d", id); !strings.Contains(bad.stderr, want) {
				t.Errorf("output does not name the event (%q):\n%s", want, bad)
			}
			if !strings.Contains(bad.stderr, "after 1 good events") {
				t.Errorf("output does not say how far the chain held:\n%s", bad)
			}
		})
	}
}

func TestAuditKeygen(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "audit.key")
	o := must(t, nil, "", "audit", "keygen", "--out", key, "--name", "kompas.example")
	for file, mode := range map[string]os.FileMode{key: 0o600, key + ".pub": 0o644} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", file, fi.Mode().Perm(), mode)
		}
	}
	private, _ := os.ReadFile(key)
	public, _ := os.ReadFile(key + ".pub")
	if !strings.HasPrefix(string(private), "PRIVATE+KEY+kompas.example+") || !strings.HasPrefix(string(public), "kompas.example+") {
		t.Errorf("key files: %q / %q", private, public)
	}
	if !strings.Contains(o.stdout, strings.TrimSpace(string(public))) {
		t.Errorf("keygen does not print the verifier key:\n%s", o)
	}
	k, err := audit.LoadKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if k.VerifierKey() != strings.TrimSpace(string(public)) {
		t.Errorf("the .pub file is not the private key's verifier key")
	}
	// Never overwrites, neither the key nor a stray .pub.
	again := cli(t, nil, "", "audit", "keygen", "--out", key)
	if again.code != 1 || !strings.Contains(again.stderr, "refusing to overwrite") {
		t.Errorf("keygen over an existing key: %s", again)
	}
	if b, _ := os.ReadFile(key); string(b) != string(private) {
		t.Error("the key was overwritten")
	}
	other := filepath.Join(dir, "other.key")
	if err := os.WriteFile(other+".pub", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o := cli(t, nil, "", "audit", "keygen", "--out", other); o.code != 1 {
		t.Errorf("keygen over an existing .pub: %s", o)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("keygen wrote a private key beside a foreign .pub")
	}
}

// TestAuditVerifyWithCheckpoint: commands given the key sign their
// events, checkpoints go to the folder, verify proves the log against an
// old and a new one, and names what a cut or an unsigned event is.
func TestAuditVerifyWithCheckpoint(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			dir := t.TempDir()
			key, cps := filepath.Join(dir, "audit.key"), filepath.Join(dir, "checkpoints")
			must(t, nil, "", "audit", "keygen", "--out", key)
			addUser := func(i int, vars map[string]string) {
				t.Helper()
				must(t, vars, "long-enough-password\n", "user", "add", "--db", u, "--email", fmt.Sprintf("u%d@mfa.example", i), "--name", "U",
					"--org", "mfa", "--org-name", "Ministry", "--org-kind", "ministry", "--role", "analyst", "--password-stdin")
			}
			withKey := map[string]string{"KOMPAS_AUDIT_KEY": key}
			for i := range 3 {
				addUser(i, withKey)
			}
			first := must(t, nil, "", "audit", "checkpoint", "--db", u, "--audit-key", key, "--audit-checkpoints", cps)
			if !strings.HasPrefix(first.stdout, "kompas audit log kompas-audit\n3\n") {
				t.Errorf("audit checkpoint printed %q", first.stdout)
			}
			for i := 3; i < 5; i++ {
				addUser(i, withKey)
			}
			must(t, nil, "", "audit", "checkpoint", "--db", u, "--audit-key", key, "--audit-checkpoints", cps)
			for _, c := range []struct{ file, want string }{
				{"checkpoint-3.txt", "7 events, consistent with checkpoint of size 3"},
				{"latest", "7 events, consistent with checkpoint of size 6"},
			} {
				o := must(t, nil, "", "audit", "verify", "--db", u, "--checkpoint", filepath.Join(cps, c.file), "--key", key+".pub")
				if !strings.Contains(o.stdout, c.want) || !strings.Contains(o.stdout, "signatures: 7 events signed by kompas-audit, every event from seq 0 on") {
					t.Errorf("verify against %s:\n%s", c.file, o)
				}
			}
			// The private key from the environment does as well.
			if o := must(t, withKey, "", "audit", "verify", "--db", u, "--checkpoint", filepath.Join(cps, "latest")); !strings.Contains(o.stdout, "size 6") {
				t.Errorf("verify with KOMPAS_AUDIT_KEY:\n%s", o)
			}
			// A command run without the key writes an event verify flags.
			addUser(5, nil)
			unsigned := cli(t, nil, "", "audit", "verify", "--db", u, "--key", key+".pub")
			if unsigned.code != 1 || !strings.Contains(unsigned.stderr, "(seq 7) has no signature") {
				t.Errorf("verify after an unsigned event:\n%s", unsigned)
			}
			// Cut the tail behind the triggers' back.
			conn := openDB(t, u)
			for _, q := range bypassAuditGuards(conn) {
				if _, err := conn.Exec(context.Background(), q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := conn.Exec(context.Background(), `DELETE FROM audit_events WHERE seq >= 4`); err != nil {
				t.Fatal(err)
			}
			cut := cli(t, nil, "", "audit", "verify", "--db", u, "--checkpoint", filepath.Join(cps, "latest"), "--key", key+".pub")
			if cut.code != 1 || !strings.Contains(cut.stderr, "events 4..5 are missing (the log was cut)") {
				t.Errorf("verify after cutting the log:\n%s", cut)
			}
			// A checkpoint signed by another key is refused.
			must(t, nil, "", "audit", "keygen", "--out", filepath.Join(dir, "other.key"))
			wrong := cli(t, nil, "", "audit", "verify", "--db", u, "--checkpoint", filepath.Join(cps, "latest"), "--key", filepath.Join(dir, "other.key.pub"))
			if wrong.code != 1 || !strings.Contains(wrong.stderr, "not signed by") {
				t.Errorf("verify with another key:\n%s", wrong)
			}
		})
	}
}

// bypassAuditGuards lists the statements that lift the append-only
// triggers, as the schema owner could.
func bypassAuditGuards(db *store.DB) []string {
	if db.Dialect() == store.Postgres {
		return []string{`ALTER TABLE audit_events DISABLE TRIGGER USER`, `ALTER TABLE audit_tree DISABLE TRIGGER USER`}
	}
	return []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}
}
