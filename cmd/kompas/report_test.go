package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

// TestReportCommand writes the demo review in each format from the CLI, on
// both engines, and refuses wrong use with exit code 2.
func TestReportCommand(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			u := storetest.URL(t, engine)
			db, err := store.Open(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Migrate(context.Background(), db); err != nil {
				t.Fatal(err)
			}
			if _, err := demo.Load(context.Background(), db, "test-password-123"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			dir := t.TempDir()
			magic := map[string][]byte{"html": []byte("<!doctype html>"), "md": []byte("# Implementation of the Global Compact"), "pdf": []byte("%PDF-"), "docx": []byte("PK")}
			for format, head := range magic {
				out := filepath.Join(dir, "review."+format)
				o := must(t, nil, "", "report", "--db", u, "--format", format, "--out", out)
				if !strings.Contains(o.stdout, "wrote "+out) || !strings.Contains(o.stdout, "sha256 ") {
					t.Errorf("%s: stdout %q", format, o.stdout)
				}
				b, err := os.ReadFile(out)
				if err != nil || !bytes.HasPrefix(b, head) {
					t.Errorf("%s: file starts %q (%v)", format, b[:min(len(b), 20)], err)
				}
			}
			o := must(t, nil, "", "report", "--db", u, "--format", "md", "--out", "-")
			if !strings.Contains(o.stdout, "### Promoting safe and dignified returns and sustainable re-integration") {
				t.Error("Markdown on stdout lacks the returns section")
			}
			for _, args := range [][]string{
				{"report", "--db", u, "--format", "odt", "--out", filepath.Join(dir, "x")},
				{"report", "--db", u, "--format", "md"},
			} {
				if o := cli(t, nil, "", args...); o.code != exitUsage {
					t.Errorf("%v: %s, want exit 2", args, o)
				}
			}
			if o := cli(t, nil, "", "report", "--db", u, "--edition", "42", "--out", filepath.Join(dir, "x")); o.code != 1 || !strings.Contains(o.stderr, "edition 42") {
				t.Errorf("unknown edition: %s", o)
			}
		})
	}
}
