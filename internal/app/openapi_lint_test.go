package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"kompas/internal/app/apptest"
)

// TestOpenAPIPassesLinter holds the generated document to a standard
// linter's recommended rules (Redocly CLI, from package.json): any error or
// warning fails the test, so a new route cannot bring back a missing
// security requirement, an ambiguous path or an undocumented parameter.
func TestOpenAPIPassesLinter(t *testing.T) {
	redocly := redoclyBinary(t)
	e := apptest.New(t, "sqlite")
	res := e.Do("GET", "/api/v1/openapi.json", "", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("openapi.json: %d", res.Status)
	}
	var doc map[string]any
	res.JSON(&doc)

	t.Run("the document", func(t *testing.T) {
		out, findings := lintOpenAPI(t, redocly, doc)
		if len(findings) > 0 {
			t.Errorf("the linter reports %s:\n%s", countByRule(findings), out)
		}
	})
	// The gate is only as good as the reading of the linter's output: a
	// document with known faults must be reported, rule by rule.
	t.Run("a faulty copy is caught", func(t *testing.T) {
		bad := map[string]any{}
		for k, v := range doc {
			bad[k] = v
		}
		bad["servers"] = []any{}
		info := map[string]any{}
		for k, v := range doc["info"].(map[string]any) {
			info[k] = v
		}
		delete(info, "license")
		bad["info"] = info
		_, findings := lintOpenAPI(t, redocly, bad)
		for _, rule := range []string{"no-empty-servers", "info-license"} {
			if findings[rule] == 0 {
				t.Errorf("the linter did not report %s in a faulty document; it reported %s", rule, countByRule(findings))
			}
		}
	})
}

// redoclyBinary finds Redocly CLI: KOMPAS_REDOCLY, else node_modules/.bin
// at the module root (npm ci installs it there). It skips the test when the
// binary is missing, unless KOMPAS_REQUIRE_OPENAPI_LINT=1 (CI) says it must run.
func redoclyBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("KOMPAS_REDOCLY")
	if bin == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(root, "node_modules", ".bin", "redocly")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("Redocly CLI not found at %s (run `npm ci` at the module root, or set KOMPAS_REDOCLY): %v", bin, err)
		if os.Getenv("KOMPAS_REQUIRE_OPENAPI_LINT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// finding is one line of the stylish format: "  12:5  warning  rule  message".
var finding = regexp.MustCompile(`(?m)^\s*\d+:\d+\s+(error|warning)\s+(\S+)\s`)

// lintOpenAPI writes doc to a file and runs the linter with the recommended
// rules on it, returning the output and the number of findings per rule.
func lintOpenAPI(t *testing.T, redocly string, doc map[string]any) (string, map[string]int) {
	t.Helper()
	// Indented, so the line numbers in the output point somewhere useful.
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, redocly, "lint", "--extends=recommended", "--format=stylish", file)
	// Run in the temporary directory so that no redocly.yaml changes the
	// rules; no network is there, so nothing may phone home.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	raw, runErr := cmd.CombinedOutput()
	out := string(raw)
	if !strings.Contains(out, "openapi.json: validated in") {
		t.Fatalf("the linter did not validate the document (%v):\n%s", runErr, out)
	}
	findings := map[string]int{}
	for _, m := range finding.FindAllStringSubmatch(out, -1) {
		findings[m[2]]++
	}
	// Redocly exits non-zero on errors only; an exit it explains with no
	// finding we can read is a failure of the test, not a pass.
	if runErr != nil && len(findings) == 0 {
		t.Fatalf("the linter failed (%v) with no finding read:\n%s", runErr, out)
	}
	return out, findings
}

func countByRule(findings map[string]int) string {
	if len(findings) == 0 {
		return "nothing"
	}
	var parts []string
	for rule, n := range findings {
		parts = append(parts, fmt.Sprintf("%s ×%d", rule, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
