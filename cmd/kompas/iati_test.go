package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

// iatiReference is the folder of IATI reference files copied into testdata
// (their README gives source and licence).
const iatiReference = "testdata/iati"

func TestImportExportIATI(t *testing.T) {
	ref := iatiReference
	files := []string{filepath.Join(ref, "activity-standard-example-annotated.xml"), filepath.Join(ref, "diterator-activity-01.xml")}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			db := storetest.URL(t, engine)
			data := t.TempDir()
			vars := map[string]string{"KOMPAS_DB": db}
			o := must(t, vars, "", append([]string{"import", "iati", "--data", data}, files...)...)
			for _, want := range []string{"activity-standard-example-annotated.xml (import 1): 1 activities: 1 imported", "diterator-activity-01.xml (import 2): 1 activities: 1 imported", "1 GCM objectives suggested"} {
				if !strings.Contains(o.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, o)
				}
			}
			out := filepath.Join(data, "export.xml")
			o = must(t, vars, "", "export", "iati", "--out", out)
			if !strings.Contains(o.stderr, "exported 2 activities") {
				t.Errorf("export: %s", o)
			}
			b, err := os.ReadFile(out)
			if err != nil || !strings.Contains(string(b), "<iati-identifier>XM-DAC-00000-0000</iati-identifier>") {
				t.Fatalf("exported file: %v\n%.500s", err, b)
			}
			o = must(t, vars, "", "import", "iati", out)
			if !strings.Contains(o.stdout, "2 activities: 0 imported, 0 updated, 2 skipped as unchanged") {
				t.Errorf("re-import of the export: %s", o)
			}
			// To standard output.
			o = must(t, vars, "", "export", "iati")
			if !strings.HasPrefix(o.stdout, "<?xml") || !strings.Contains(o.stdout, "</iati-activities>") {
				t.Errorf("export to stdout: %.300s", o.stdout)
			}
			// The imports and exports are audited, and the new initiatives
			// belong to the IATI import organisation.
			sdb, err := store.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer sdb.Close()
			var jobs, exports int
			_ = sdb.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_events WHERE object_type = 'iati_job'`).Scan(&jobs)
			_ = sdb.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_events WHERE action = 'export' AND actor = 'kompas-cli'`).Scan(&exports)
			if jobs != 6 || exports != 2 {
				t.Errorf("audit: %d job events (want 6), %d exports (want 2)", jobs, exports)
			}
			var owner string
			_ = sdb.QueryRow(context.Background(), `SELECT o.slug FROM initiatives i JOIN organisations o ON o.id = i.owner_org_id WHERE i.iati_identifier = 'XM-DAC-00000-0000'`).Scan(&owner)
			if owner != "iati-import" {
				t.Errorf("owner %q", owner)
			}
		})
	}
}

func TestImportIATIErrors(t *testing.T) {
	data := t.TempDir()
	bad := filepath.Join(data, "bad.xml")
	if err := os.WriteFile(bad, []byte("<?xml version=\"1.0\"?>\n<iati-activities>\n<iati-activity>\n<title>\n</iati-activity>\n</iati-activities>\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	o := cli(t, vars, "", "import", "iati", "--data", data, bad)
	if o.code != 1 || !strings.Contains(o.stderr, "stopped at line 5") || !strings.Contains(o.stderr, "malformed") {
		t.Errorf("malformed file: %s", o)
	}
	o = cli(t, vars, "", "import", "iati", "--data", data, "--max-size", "10", bad)
	if o.code != 1 || !strings.Contains(o.stderr, "over the limit of 10 bytes") {
		t.Errorf("too large: %s", o)
	}
	o = cli(t, map[string]string{"KOMPAS_MAX_SIZE": "12"}, "", "import", "iati", "--data", data, bad)
	if o.code != 1 || !strings.Contains(o.stderr, "over the limit of 12 bytes") {
		t.Errorf("too large by KOMPAS_MAX_SIZE: %s", o)
	}
	o = cli(t, vars, "", "import", "iati", "--data", data, "--max-size", "lots", bad)
	if o.code != exitUsage {
		t.Errorf("bad --max-size: %s", o)
	}
	o = cli(t, vars, "", "import", "iati", "--data", data)
	if o.code != exitUsage || !strings.Contains(o.stderr, "name at least one IATI file") {
		t.Errorf("no file: %s", o)
	}
	o = cli(t, vars, "", "import", "csv")
	if o.code != exitUsage {
		t.Errorf("import csv: %s", o)
	}
	o = cli(t, vars, "", "import", "iati", "--data", data, filepath.Join(data, "missing.xml"))
	if o.code != 1 {
		t.Errorf("missing file: %s", o)
	}
	o = cli(t, vars, "", "import", "iati", "--data", data, "--owner", "nobody", bad)
	if o.code != exitUsage || !strings.Contains(o.stderr, `no organisation "nobody"`) {
		t.Errorf("unknown owner: %s", o)
	}
}
