package main

// kompas import iati and kompas export iati.

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kompas/internal/app"
	"kompas/internal/gcm"
	"kompas/internal/iati"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

// cliOrg is the organisation that owns initiatives the CLI imports unless
// --owner names another.
const cliOrg = "iati-import"

// sizeFlag is a byte size flag that accepts 1GiB, 500MiB or bytes.
type sizeFlag struct{ n int64 }

func (s *sizeFlag) String() string {
	if s == nil || s.n == 0 {
		return iati.FormatSize(iati.DefaultMaxBytes)
	}
	return iati.FormatSize(s.n)
}

func (s *sizeFlag) Set(v string) error {
	n, err := iati.ParseSize(v)
	if err != nil {
		return err
	}
	s.n = n
	return nil
}

// cliPrincipal acts for the command line: an administrator of the owner
// organisation (created as "IATI import" when it is the default and
// missing). The audit log names it kompas-cli.
func cliPrincipal(ctx context.Context, db *store.DB, owner string) (*auth.Principal, error) {
	svc := &auth.Service{DB: db}
	if owner == "" {
		owner = cliOrg
		err := db.Transact(ctx, func(tx *store.Tx) error {
			_, err := svc.EnsureOrg(ctx, tx, auth.Org{Slug: cliOrg, Name: "IATI import", Kind: "other"})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	o, err := svc.OrgBySlug(ctx, db, owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, usageError{fmt.Sprintf("--owner: no organisation %q", owner)}
	}
	if err != nil {
		return nil, err
	}
	return &auth.Principal{Email: "kompas-cli", Name: "kompas command line", Role: auth.RoleAdmin, OrgID: o.ID, OrgSlug: o.Slug, OrgName: o.Name, OrgKind: o.Kind, Via: "cli"}, nil
}

func cmdImport(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 || args[0] != "iati" {
		fmt.Fprintln(e.stderr, "Usage: kompas import iati [--db URL] [--data DIR] [--max-size N] [--owner ORG] FILE…")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageError{"what to import is needed: iati"}
	}
	fs := flags("import iati", "import iati [--db URL] [--data DIR] [--max-size N] [--owner ORG] FILE…", e)
	var d dbFlags
	d.add(fs)
	var maxSize sizeFlag
	fs.Var(&maxSize, "max-size", "largest file to accept, e.g. 1GiB or 500MiB")
	owner := fs.String("owner", "", "slug of the organisation that owns new initiatives (default: "+cliOrg+", created when missing)")
	publisher := fs.String("publisher", "", "reporting-org reference of this register's own exports (default "+iati.DefaultPublisher+")")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parse(fs, args[1:], e); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usageError{"name at least one IATI file"}
	}
	limit := maxSize.n
	if limit == 0 {
		limit = iati.DefaultMaxBytes
	}
	// Check every file before touching the database.
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a file", f)
		}
		if st.Size() > limit {
			return fmt.Errorf("%s is %s, over the limit of %s (raise it with --max-size)", f, iati.FormatSize(st.Size()), iati.FormatSize(limit))
		}
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := cliPrincipal(ctx, db, *owner)
	if err != nil {
		return err
	}
	cfg := iati.Config{MaxBytes: limit, Publisher: *publisher}
	defer iati.TuneGC()()
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		return err
	}
	reg := &programmes.Register{DB: db, GCM: cat}
	failed := 0
	for _, f := range files {
		if err := importFile(ctx, reg, p, cfg, f, e, *quiet); err != nil {
			var fe *iati.FileError
			if !errors.As(err, &fe) {
				return err
			}
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files stopped on a problem (see above)", failed, len(files))
	}
	return nil
}

func importFile(ctx context.Context, reg *programmes.Register, p *auth.Principal, cfg iati.Config, name string, e *env, quiet bool) error {
	db := reg.DB
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	id, err := iati.CreateJob(ctx, db, p, "cli", filepath.Base(name), st.Size(), iati.JobRunning)
	if err != nil {
		return err
	}
	bar := newProgressBar(e.stderr, filepath.Base(name), quiet)
	im := &iati.Importer{DB: db, Reg: app.IATIRegister(reg), Orgs: &auth.Service{DB: db}, Config: cfg, OnProgress: bar.update}
	j, err := im.RunJob(ctx, p, id, f, st.Size())
	bar.done()
	if j == nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "%s (import %d): %d activities: %d imported, %d updated, %d skipped as unchanged, %d skipped with problems; %d GCM objectives suggested for review\n",
		name, j.ID, j.Activities, j.Created, j.Updated, j.Unchanged, j.Skipped, j.Suggestions)
	shown := 0
	for _, ev := range j.Events {
		if ev.Kind != "skipped" {
			continue
		}
		if shown == 50 {
			fmt.Fprintf(w, "  … %d more skipped: see the job page /imports/iati/%d\n", j.Skipped-shown, j.ID)
			break
		}
		fmt.Fprintf(w, "  skipped %s: %s\n", ev.Identifier, ev.Message)
		shown++
	}
	if err != nil {
		return err
	}
	if j.Status == iati.JobFailed {
		fmt.Fprintf(e.stderr, "%s: stopped at line %d: %s\n", name, j.ErrorLine, j.Error)
		return &iati.FileError{Line: j.ErrorLine, Msg: j.Error}
	}
	return nil
}

// progressBar draws the import's progress on standard error: a bar with
// activities per second on a terminal, a line every few seconds elsewhere.
type progressBar struct {
	w     io.Writer
	name  string
	tty   bool
	off   bool
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, name string, quiet bool) *progressBar {
	b := &progressBar{w: w, name: name, off: quiet}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

func (b *progressBar) update(p iati.Progress) {
	if b.off {
		return
	}
	now := time.Now()
	if !b.tty && now.Sub(b.last) < 5*time.Second {
		return
	}
	if b.tty && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	pct := 0.0
	if p.FileBytes > 0 {
		pct = float64(p.BytesRead) / float64(p.FileBytes) * 100
	}
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Activities) / s
	}
	const width = 30
	fill := int(pct / 100 * width)
	fill = min(max(fill, 0), width)
	line := fmt.Sprintf("%s [%s%s] %3.0f%%  %d activities  %.0f activities/s", b.name, strings.Repeat("#", fill), strings.Repeat("-", width-fill), pct, p.Activities, rate)
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K", line)
		b.drawn = true
	} else {
		fmt.Fprintln(b.w, line)
	}
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

func cmdExport(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 || args[0] != "iati" {
		fmt.Fprintln(e.stderr, "Usage: kompas export iati [--db URL] [--data DIR] [--out FILE]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageError{"what to export is needed: iati"}
	}
	fs := flags("export iati", "export iati [--db URL] [--data DIR] [--out FILE] [--publisher REF]", e)
	var d dbFlags
	d.add(fs)
	out := fs.String("out", "-", "file to write (- for standard output)")
	publisher := fs.String("publisher", "", "reporting-org reference, the prefix of identifiers given to initiatives without one (default "+iati.DefaultPublisher+")")
	if err := parse(fs, args[1:], e); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	p := &auth.Principal{Email: "kompas-cli", Name: "kompas command line", Role: auth.RoleAdmin, Via: "cli"}
	if err := db.Transact(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, p.Event(audit.ActionExport, "initiative", "", "programme register", "IATI 2.03 export of the register via the command line"))
	}); err != nil {
		return err
	}
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		return err
	}
	ex := &iati.Exporter{DB: db, Reg: app.IATIRegister(&programmes.Register{DB: db, GCM: cat}), Config: iati.Config{Publisher: *publisher}}
	if *out == "-" {
		n, err := ex.Write(ctx, e.stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "exported %d activities\n", n)
		return nil
	}
	// Write beside the target and rename, so a failed export leaves no half file.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".kompas-export-*.xml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := ex.Write(ctx, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d activities to %s\n", n, *out)
	return nil
}
