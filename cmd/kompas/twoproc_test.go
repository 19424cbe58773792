package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

// childEnv is the environment of a kompas child process: the test's own
// without any KOMPAS_ variable (so nothing leaks in from the shell), plus
// the re-exec switch and vars.
func childEnv(vars ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KOMPAS_") {
			out = append(out, kv)
		}
	}
	return append(append(out, reexecEnv+"=1"), vars...)
}

// kompasExec runs the kompas binary (this test binary re-executed) to
// completion and returns its outcome.
func kompasExec(t *testing.T, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = childEnv()
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("kompas %s: %v", strings.Join(args, " "), err)
	}
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// node is a `kompas serve` child process.
type node struct {
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
	err  error
	base string
}

func startNode(t *testing.T, dbURL string, args ...string) *node {
	t.Helper()
	n := spawnNode(t, childEnv(), append([]string{"serve", "--db", dbURL, "--addr", "127.0.0.1:0"}, args...)...)
	n.base = "http://" + readyAddr(t, n.log.String, n.done)
	return n
}

// spawnNode starts a kompas child process with env and args and returns
// without waiting for it to serve; it is killed when the test ends.
func spawnNode(t *testing.T, env []string, args ...string) *node {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: cmd, log: &lockedBuffer{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Drain the log for as long as the process runs.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(n.log, sc.Text())
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-drained
		n.err = cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		select {
		case <-n.done:
		default:
			_ = cmd.Process.Kill()
			<-n.done
		}
	})
	return n
}

// stop sends SIGTERM and waits for a graceful exit.
func (n *node) stop(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("node did not stop within 30 s of SIGTERM:\n%s", n.log.String())
	}
	if n.err != nil {
		t.Errorf("node exited with %v after SIGTERM, want 0:\n%s", n.err, n.log.String())
	}
	if !strings.Contains(n.log.String(), `"msg":"shutting down"`) {
		t.Errorf("node did not log a graceful shutdown:\n%s", n.log.String())
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz never answered 200 (last: %v)", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoServeProcessesOneChain is the proof the issue asks for: two
// `kompas serve` processes with one audit key writing to one PostgreSQL at
// once still leave one valid, signed log that verifies against the
// checkpoints each node signed, and `kompas audit verify` finds a tampered
// event.
func TestTwoServeProcessesOneChain(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("two-process test skipped: it needs PostgreSQL; set %s=postgres://user@127.0.0.1:5432/db?sslmode=disable to run it", storetest.PostgresEnv)
	}
	const (
		password = "two-nodes-password"
		workers  = 4  // concurrent clients per node
		each     = 25 // initiatives per client: 100 per node
	)
	u := storetest.URL(t, "postgres")
	if o := kompasExec(t, "migrate", "--db", u); o.code != 0 || !strings.Contains(o.stdout, "applied audit/") {
		t.Fatalf("migrate: %s", o)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "audit.key")
	if o := kompasExec(t, "audit", "keygen", "--out", key); o.code != 0 {
		t.Fatalf("keygen: %s", o)
	}
	k, err := audit.LoadKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	audit.Configure(k) // the demo's events are signed too
	_, err = demo.Load(ctx, db, password)
	audit.Configure(nil)
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	eventsBefore := count(`SELECT COUNT(*) FROM audit_events`)
	initiativesBefore := count(`SELECT COUNT(*) FROM initiatives`)

	// One key, a checkpoint folder each.
	cpDirs := []string{filepath.Join(dir, "node0"), filepath.Join(dir, "node1")}
	nodes := []*node{startNode(t, u, "--audit-key", key, "--audit-checkpoints", cpDirs[0]), startNode(t, u, "--audit-key", key, "--audit-checkpoints", cpDirs[1])}
	if nodes[0].base == nodes[1].base {
		t.Fatalf("both nodes on %s", nodes[0].base)
	}
	tokens := make([]string, len(nodes))
	for i, n := range nodes {
		waitReady(t, n.base)
		tokens[i] = login(t, n.base, "policy@mfa.example", password)
	}
	privacy := login(t, nodes[0].base, "privacy@mfa.example", password)
	// signNow asks node i for a checkpoint now, as a witness would.
	var witnessed []string
	signNow := func(i int) {
		req, _ := http.NewRequest("POST", nodes[i].base+"/api/v1/audit/checkpoint", nil)
		req.Header.Set("Authorization", "Bearer "+privacy)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("node %d: POST checkpoint: %d %s", i, res.StatusCode, b)
			return
		}
		file := filepath.Join(dir, fmt.Sprintf("witness-%d.txt", len(witnessed)))
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		witnessed = append(witnessed, file)
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(nodes)*workers*each)
	client := &http.Client{Timeout: 30 * time.Second}
	for i, n := range nodes {
		for w := range workers {
			wg.Go(func() {
				for k := range each {
					body := fmt.Sprintf(`{"title":"node %d worker %d item %d","kind":"project","status":"active","objectives":[1]}`, i, w, k)
					req, _ := http.NewRequest("POST", n.base+"/api/v1/initiatives", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+tokens[i])
					res, err := client.Do(req)
					if err != nil {
						errs <- err
						return
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusCreated {
						errs <- fmt.Errorf("node %d: %d %s", i, res.StatusCode, b)
						return
					}
				}
			})
		}
	}
	// Checkpoints asked of both nodes while the writes run.
	for round := range 3 {
		time.Sleep(100 * time.Millisecond)
		signNow(round % 2)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	signNow(0)
	signNow(1)
	for _, n := range nodes {
		n.stop(t)
	}
	if t.Failed() {
		t.FailNow()
	}

	writes := len(nodes) * workers * each
	if got := count(`SELECT COUNT(*) FROM initiatives`) - initiativesBefore; got != writes {
		t.Errorf("%d initiatives added, want %d", got, writes)
	}
	created := count(`SELECT COUNT(*) FROM audit_events WHERE action = ? AND object_type = ? AND actor = ?`, "create", "initiative", "policy@mfa.example")
	if created != writes {
		t.Errorf("%d create events, want %d", created, writes)
	}
	total := count(`SELECT COUNT(*) FROM audit_events`)
	if total-eventsBefore < writes {
		t.Errorf("%d new events for %d writes", total-eventsBefore, writes)
	}

	ok := kompasExec(t, "audit", "verify", "--db", u)
	if ok.code != 0 {
		t.Fatalf("audit verify after two nodes: %s", ok)
	}
	m := regexp.MustCompile(`audit chain intact: (\d+) events`).FindStringSubmatch(ok.stdout)
	if m == nil {
		t.Fatalf("audit verify printed %q", ok.stdout)
	}
	if n, _ := strconv.Atoi(m[1]); n != total || n < writes {
		t.Errorf("verified %d events; the table holds %d, the writes were %d", n, total, writes)
	}
	// Every checkpoint either node signed (asked for, and each node's last
	// one on shutdown) holds, and every event is signed.
	checkpoints := append([]string{filepath.Join(cpDirs[0], "latest"), filepath.Join(cpDirs[1], "latest")}, witnessed...)
	sizes := map[string]bool{}
	for _, file := range checkpoints {
		o := kompasExec(t, "audit", "verify", "--db", u, "--checkpoint", file, "--key", key+".pub")
		if o.code != 0 {
			t.Errorf("verify against %s: %s", file, o)
			continue
		}
		m := regexp.MustCompile(`consistent with checkpoint of size (\d+)`).FindStringSubmatch(o.stdout)
		if m == nil || !strings.Contains(o.stdout, fmt.Sprintf("signatures: %d events signed", total)) {
			t.Errorf("verify against %s printed:\n%s", file, o.stdout)
			continue
		}
		sizes[m[1]] = true
	}
	if len(sizes) < 3 {
		t.Errorf("only %d distinct checkpoint sizes among %d checkpoints", len(sizes), len(checkpoints))
	}
	for i, n := range nodes {
		if !strings.Contains(n.log.String(), `"msg":"final audit checkpoint"`) {
			t.Errorf("node %d did not sign a final checkpoint:\n%s", i, n.log.String())
		}
	}

	// Tamper with one event in the middle of the concurrent stretch.
	var id int64
	if err := db.QueryRow(ctx, `SELECT id FROM audit_events WHERE action = ? AND object_type = ? ORDER BY id LIMIT 1 OFFSET ?`, "create", "initiative", writes/2).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE audit_events SET detail = 'forged' WHERE id = ?`, id); err == nil {
		t.Fatal("the database let an audit event be changed with the trigger in place")
	}
	dropAuditTrigger(t, db)
	if _, err := db.Exec(ctx, `UPDATE audit_events SET detail = 'forged' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	bad := kompasExec(t, "audit", "verify", "--db", u)
	if bad.code != 1 {
		t.Errorf("audit verify after tampering exit %d, want 1\n%s", bad.code, bad)
	}
	if want := fmt.Sprintf("event %d:", id); !strings.Contains(bad.stderr, want) {
		t.Errorf("audit verify does not name event %d:\n%s", id, bad)
	}
	// Against a checkpoint: its signature and the tree name it too.
	bad = kompasExec(t, "audit", "verify", "--db", u, "--checkpoint", filepath.Join(cpDirs[1], "latest"), "--key", key+".pub")
	if want := fmt.Sprintf("event %d (seq", id); bad.code != 1 || !strings.Contains(bad.stderr, want) || !strings.Contains(bad.stderr, "do not hash to the root of the checkpoint") {
		t.Errorf("audit verify --checkpoint after tampering does not name event %d:\n%s", id, bad)
	}
}

// TestFourNodesStartTogetherWithDemo: four `kompas serve --demo` started at
// the same moment on one empty database all migrate, load the demo and
// serve, and the demo is there once: every count equals a single load's.
// Some used to exit on a duplicate key: the organisations on
// PostgreSQL, the accounts on SQLite.
func TestFourNodesStartTogetherWithDemo(t *testing.T) {
	const password = "four-nodes-password"
	ctx := context.Background()
	// What one load gives, on a database of its own.
	ref := storetest.Open(t, "sqlite")
	if _, err := app.Migrate(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, ref, password); err != nil {
		t.Fatal(err)
	}
	counts := []string{
		`SELECT COUNT(*) FROM organisations`,
		`SELECT COUNT(*) FROM users`,
		`SELECT COUNT(*) FROM initiatives`,
		`SELECT COUNT(DISTINCT demo_key) FROM initiatives`,
		`SELECT COUNT(*) FROM initiative_partners`,
		`SELECT COUNT(*) FROM return_cases`,
		`SELECT COUNT(*) FROM return_partner_countries`,
		`SELECT COUNT(*) FROM schema_migrations`,
	}
	count := func(db *store.DB, q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			env := childEnv("KOMPAS_DEMO_PASSWORD=" + password)
			nodes := make([]*node, 4)
			for i := range nodes {
				nodes[i] = spawnNode(t, env, "serve", "--demo", "--db", u, "--addr", "127.0.0.1:0")
			}
			for _, n := range nodes {
				n.base = "http://" + readyAddr(t, n.log.String, n.done)
			}
			for _, n := range nodes {
				waitReady(t, n.base)
				login(t, n.base, "analyst@dtm.example", password)
			}
			db, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range counts {
				if got, want := count(db, q), count(ref, q); got != want {
					t.Errorf("%s: %d after four nodes, %d after one load", q, got, want)
				}
			}
			for _, n := range nodes {
				n.stop(t)
			}
			if o := kompasExec(t, "audit", "verify", "--db", u); o.code != 0 {
				t.Errorf("audit verify after four nodes: %s", o)
			}
		})
	}
}
