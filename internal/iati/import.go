package iati

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

// DefaultPublisher is the reporting-organisation reference Kompas exports
// under unless configured: activities of initiatives without an IATI
// identifier of their own get the identifier <publisher>-<initiative id>.
const DefaultPublisher = "XX-KOMPAS"

// Config is the module's configuration.
type Config struct {
	// MaxBytes is the largest file an import accepts (DefaultMaxBytes when 0).
	MaxBytes int64
	// Publisher is the reporting-org reference of exports (DefaultPublisher
	// when "").
	Publisher string
}

func (c Config) publisher() string {
	if c.Publisher == "" {
		return DefaultPublisher
	}
	return c.Publisher
}

func (c Config) maxBytes() int64 {
	if c.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return c.MaxBytes
}

// Importer writes IATI files into the register.
type Importer struct {
	// DB holds the register and this module's tables.
	DB  *store.DB
	Reg Register
	// Orgs adds the organisations activities name (the accounts service).
	Orgs   Orgs
	Config Config
	// Parser limits other than the size (zero: defaults).
	Options Options
	// OnProgress, when set, is called after each batch is committed.
	OnProgress func(Progress)
	// Log receives the errors that stop an import (slog.Default when nil).
	Log *slog.Logger

	// batch bounds: activities per transaction and time a transaction is
	// held open.
	BatchSize int
	BatchTime time.Duration
}

// Progress is how far an import is.
type Progress struct {
	BytesRead   int64
	FileBytes   int64
	Activities  int
	Created     int
	Updated     int
	Unchanged   int
	Skipped     int
	Suggestions int
	Elapsed     time.Duration
}

// Result summarises an import run.
type Result struct {
	Activities  int
	Created     int
	Updated     int
	Unchanged   int
	Skipped     int
	Suggestions int
	// Err is the problem that stopped the file, if any: the activities
	// counted before it are imported.
	Err *FileError
}

func (r *Result) add(b *Result) {
	r.Activities += b.Activities
	r.Created += b.Created
	r.Updated += b.Updated
	r.Unchanged += b.Unchanged
	r.Skipped += b.Skipped
	r.Suggestions += b.Suggestions
}

type item struct {
	m    *Mapped
	aerr *ActivityError
	ferr error
}

// event is a line of a job's report: a skipped activity or a note.
type event struct {
	line         int
	identifier   string
	kind         string // "skipped" or "note"
	message      string
	initiativeID int64
}

// maxEvents bounds the events stored per job; the counts stay exact.
const maxEvents = 1000

// Run imports r as job jobID. Every activity is written whole or not at all
// (see apply), in transactions of up to BatchSize activities or BatchTime
// that also carry the job's counts, so the job never reports more than is
// committed. A bad activity is skipped with its reasons; a problem with the
// file stops the run with everything before it kept (Result.Err). The
// error is for failures of the database.
func (im *Importer) Run(ctx context.Context, p *auth.Principal, jobID int64, r io.Reader, fileBytes int64) (*Result, error) {
	if !im.Reg.MayCreate(p) {
		return &Result{}, fault.Forbidden("Only policy officers and administrators may import IATI files.")
	}
	opts := im.Options
	opts.MaxBytes = im.Config.maxBytes()
	parser := NewParser(opts)
	items := make(chan item, 256)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(items)
		err := parser.Parse(r, func(a *Activity) error {
			m, err := Map(a)
			it := item{m: m}
			if err != nil {
				var ae *ActivityError
				if !errors.As(err, &ae) {
					return err
				}
				it = item{aerr: ae}
			}
			select {
			case items <- it:
				return nil
			case <-stop:
				return ErrStop
			}
		})
		if err != nil && !errors.Is(err, ErrStop) {
			select {
			case items <- item{ferr: err}:
			case <-stop:
			}
		}
	}()
	defer func() {
		close(stop)
		for range items {
		}
		wg.Wait()
	}()

	size, maxWait := im.BatchSize, im.BatchTime
	if size <= 0 {
		size = 500
	}
	if maxWait <= 0 {
		maxWait = 500 * time.Millisecond
	}
	if im.DB.Dialect() == store.SQLite {
		// Statement journals (and the savepoints of activities that bring
		// new organisations) hold the pages a statement changes; past
		// 64 KiB SQLite spills them to a temporary file, a write per page.
		// Keep them in memory while the import runs, and checkpoint less
		// often: the write-ahead log is copied back into the database (and
		// synced) every 10,000 pages instead of every 1,000, so a page
		// changed by many batches is written once. Both are set on the one
		// write connection, outside a transaction (SQLite reads temp_store
		// when one begins), and put back after.
		if _, err := im.DB.Exec(ctx, `PRAGMA temp_store = MEMORY`); err != nil {
			return &Result{}, fmt.Errorf("iati: temp_store: %w", err)
		}
		if _, err := im.DB.Exec(ctx, `PRAGMA wal_autocheckpoint = 10000`); err != nil {
			return &Result{}, fmt.Errorf("iati: wal_autocheckpoint: %w", err)
		}
		defer func() {
			_, _ = im.DB.Exec(context.WithoutCancel(ctx), `PRAGMA temp_store = DEFAULT`)
			_, _ = im.DB.Exec(context.WithoutCancel(ctx), `PRAGMA wal_autocheckpoint = 1000`)
		}()
	}
	orgs := newOrgResolver(im.Orgs)
	start := time.Now()
	total := &Result{}
	seq := 0
	for done := false; !done; {
		batch := &Result{}
		var events []event
		err := im.DB.Transact(ctx, func(tx *store.Tx) error {
			writer, err := im.Reg.Writer(ctx, tx, p)
			if err != nil {
				return err
			}
			// This module's own statements (suggestions), prepared once.
			st := tx.Stmts()

			timer := time.NewTimer(maxWait)
			defer timer.Stop()
		fill:
			for n := 0; n < size; n++ {
				var it item
				var ok bool
				select {
				case it, ok = <-items:
				case <-timer.C:
					break fill
				case <-ctx.Done():
					return ctx.Err()
				}
				if !ok {
					done = true
					break fill
				}
				if it.ferr != nil {
					var fe *FileError
					if !errors.As(it.ferr, &fe) {
						fe = &FileError{Msg: it.ferr.Error()}
					}
					total.Err = fe
					continue
				}
				batch.Activities++
				if it.aerr != nil {
					batch.Skipped++
					events = append(events, event{line: it.aerr.Line, identifier: it.aerr.Identifier, kind: "skipped", message: it.aerr.Error()})
					continue
				}
				status, id, nsug, err := im.apply(ctx, tx, writer, st, it.m, jobID, orgs)
				if err != nil {
					e := fault.As(err)
					if e == nil || e.Kind == fault.KindInternal {
						return err
					}
					batch.Skipped++
					events = append(events, event{line: it.m.Line, identifier: it.m.Identifier, kind: "skipped", message: problemText(it.m.Line, e)})
					continue
				}
				switch status {
				case Created:
					batch.Created++
				case Updated:
					batch.Updated++
				case Unchanged:
					batch.Unchanged++
				}
				batch.Suggestions += nsug
				if status != Unchanged {
					for _, n := range it.m.Notes {
						events = append(events, event{line: it.m.Line, identifier: it.m.Identifier, kind: "note", message: n, initiativeID: id})
					}
				}
			}
			if err := writer.Flush(ctx); err != nil {
				return err
			}
			for _, ev := range events {
				if seq >= maxEvents {
					break
				}
				if _, err := tx.Exec(ctx, `INSERT INTO iati_job_events (job_id, seq, line, iati_identifier, kind, message, initiative_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					jobID, seq, ev.line, truncate(ev.identifier, 300), ev.kind, truncate(ev.message, 2000), nullID(ev.initiativeID)); err != nil {
					return fmt.Errorf("iati: record job event: %w", err)
				}
				seq++
			}
			sum := *total
			sum.add(batch)
			_, err = tx.Exec(ctx, `UPDATE iati_jobs SET status = 'running', bytes_read = ?, activities = ?, created = ?, updated = ?, unchanged = ?, skipped = ?, suggestions = ?, heartbeat_at = ? WHERE id = ?`,
				parser.BytesRead(), sum.Activities, sum.Created, sum.Updated, sum.Unchanged, sum.Skipped, sum.Suggestions, store.FormatTime(time.Now()), jobID)
			if err != nil {
				return fmt.Errorf("iati: update job: %w", err)
			}
			return nil
		})
		if err != nil {
			orgs.forgetAll()
			return total, err
		}
		total.add(batch)
		if im.OnProgress != nil {
			im.OnProgress(Progress{BytesRead: parser.BytesRead(), FileBytes: fileBytes, Activities: total.Activities, Created: total.Created,
				Updated: total.Updated, Unchanged: total.Unchanged, Skipped: total.Skipped, Suggestions: total.Suggestions, Elapsed: time.Since(start)})
		}
	}
	return total, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// problemText is why the register refused an activity, naming the fields.
func problemText(line int, e *fault.Error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d: ", line)
	if len(e.Fields) == 0 {
		b.WriteString(e.Detail)
		if e.Detail == "" {
			b.WriteString(e.Title)
		}
		return b.String()
	}
	b.WriteString("the register refused it: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + " " + f.Message)
	}
	return b.String()
}

// apply writes one activity, whole or not at all. The register decides
// everything first (its rules, the edit rule, whether anything changed)
// without writing; then it writes. Only an activity that brings new
// organisations or references writes those, first, inside a savepoint the
// writer holds with the initiative, so that a refusal after them leaves
// nothing (savepoints are not used for every activity: each one makes
// SQLite's full-text index flush to disk).
func (im *Importer) apply(ctx context.Context, tx *store.Tx, w Writer, st *store.Stmts, m *Mapped, jobID int64, orgs *orgResolver) (Outcome, int64, int, error) {
	cur, err := w.Find(ctx, m.Identifier)
	if err != nil {
		return 0, 0, 0, err
	}
	if cur == nil {
		if cur, err = im.ownInitiative(ctx, w, m); err != nil {
			return 0, 0, 0, err
		}
	}
	pl := newOrgPlan()
	in := m.Input
	in.Partners = nil
	if m.Lead != nil {
		slug, err := orgs.find(ctx, tx, *m.Lead, pl)
		if err != nil {
			return 0, 0, 0, err
		}
		in.Lead = slug
	}
	seen := map[string]bool{}
	for _, pt := range m.Partners {
		slug, err := orgs.find(ctx, tx, pt.Org, pl)
		if err != nil {
			return 0, 0, 0, err
		}
		if seen[slug+"/"+pt.Role] {
			continue
		}
		seen[slug+"/"+pt.Role] = true
		in.Partners = append(in.Partners, programmes.Partner{Org: slug, Role: pt.Role})
	}
	if !m.Kompas && cur != nil {
		merge(&in, m, cur)
	}
	var carry func(context.Context) error
	if len(pl.acts) > 0 {
		carry = func(ctx context.Context) error { return orgs.carry(ctx, tx, pl) }
	}
	status, id, err := w.Upsert(ctx, cur, m.Identifier, in, carry)
	if carry != nil {
		if err != nil {
			orgs.rollback()
		} else {
			orgs.commit()
		}
	}
	if err != nil {
		return 0, 0, 0, err
	}
	if status == Unchanged {
		return status, cur.ID, 0, nil
	}
	nsug := 0
	if !m.Explicit {
		if nsug, err = writeSuggestions(ctx, st, id, status == Created, m.Suggestions, in.Objectives, jobID); err != nil {
			return 0, 0, 0, err
		}
	}
	return status, id, nsug, nil
}

// merge keeps, on an update from an ordinary IATI file, what IATI does not
// carry: the kind, pillars, guiding principles, review section, the
// officer-confirmed objectives (unless the file states GCM objectives), the
// lead (unless the file names an accountable organisation), the results
// that did not come from transactions and the sources it does not list.
func merge(in *programmes.Input, m *Mapped, cur *programmes.Initiative) {
	in.Kind = cur.Kind
	if m.Lead == nil {
		in.Lead = cur.Lead
	}
	if !m.Explicit {
		in.Objectives = slices.Clone(cur.Objectives)
	}
	in.Principles = slices.Clone(cur.Principles)
	in.Pillars = slices.Clone(cur.Pillars)
	in.ReportSection = cur.ReportSection
	var results []programmes.Result
	for _, r := range cur.Results {
		if r.Source != TransactionsSource {
			results = append(results, r)
		}
	}
	in.Results = append(results, in.Results...)
	sources := slices.Clone(cur.Sources)
	have := map[string]bool{}
	for _, s := range sources {
		have[s.URL] = true
	}
	for _, s := range in.Sources {
		if !have[s.URL] {
			sources = append(sources, s)
		}
	}
	in.Sources = sources
}

// ownInitiative recognises the identifiers Kompas's export gives initiatives
// without one of their own, <publisher>-<id>: that initiative, when it still
// has no IATI identifier and the same title.
func (im *Importer) ownInitiative(ctx context.Context, w Writer, m *Mapped) (*programmes.Initiative, error) {
	rest, ok := strings.CutPrefix(m.Identifier, im.Config.publisher()+"-")
	if !ok {
		return nil, nil
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != rest {
		return nil, nil
	}
	it, err := w.Get(ctx, id)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	if it.IATIIdentifier() != "" || it.Title != strings.TrimSpace(m.Input.Title) {
		return nil, nil
	}
	return it, nil
}

// writeSuggestions stores the classifier's suggestions for initiative id,
// leaving out objectives it has already. Suggestions decided before keep
// their decision (their reasons are refreshed); undecided ones the file no
// longer supports are removed. It returns how many are awaiting a decision.
func writeSuggestions(ctx context.Context, st *store.Stmts, id int64, fresh bool, sugs []Suggestion, have []int, jobID int64) (int, error) {
	status := map[int]string{}
	if !fresh {
		rows, err := st.Query(ctx, `SELECT objective, status FROM iati_suggestions WHERE initiative_id = ?`, id)
		if err != nil {
			return 0, fmt.Errorf("iati: read suggestions: %w", err)
		}
		for rows.Next() {
			var o int
			var s string
			if err := rows.Scan(&o, &s); err != nil {
				rows.Close()
				return 0, err
			}
			status[o] = s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	now := store.FormatTime(time.Now())
	keep := map[int]bool{}
	pending := 0
	var args []any
	for _, s := range sugs {
		if slices.Contains(have, s.Objective) {
			continue
		}
		keep[s.Objective] = true
		reasons, _ := json.Marshal(s.Reasons)
		if was, ok := status[s.Objective]; ok {
			if _, err := st.Exec(ctx, `UPDATE iati_suggestions SET reasons = ?, job_id = ? WHERE initiative_id = ? AND objective = ?`, string(reasons), jobID, id, s.Objective); err != nil {
				return 0, fmt.Errorf("iati: update suggestion: %w", err)
			}
			if was == "suggested" {
				pending++
			}
			continue
		}
		args = append(args, id, s.Objective, string(reasons), jobID, now)
		pending++
	}
	if len(args) > 0 {
		q := `INSERT INTO iati_suggestions (initiative_id, objective, reasons, status, job_id, created_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, 'suggested', ?, ?), `, len(args)/5), ", ")
		if _, err := st.Exec(ctx, q, args...); err != nil {
			return 0, fmt.Errorf("iati: add suggestions: %w", err)
		}
	}
	for o, was := range status {
		if was == "suggested" && !keep[o] {
			if _, err := st.Exec(ctx, `DELETE FROM iati_suggestions WHERE initiative_id = ? AND objective = ?`, id, o); err != nil {
				return 0, fmt.Errorf("iati: remove suggestion: %w", err)
			}
		}
	}
	return pending, nil
}

// TuneGC sets the garbage collector for a long import in a process of its
// own (the command line, the benchmark): the import's live heap is small
// (tens of MiB) and churns, so the default GOGC=100 collects very often,
// stopping both the parser and the writer. It collects at 8× the live
// heap, with a soft limit of 160 MiB so that a large activity cannot grow
// the heap far. GOGC or GOMEMLIMIT in the environment win. It returns a
// function that restores the settings.
func TuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc := debug.SetGCPercent(800)
	lim := debug.SetMemoryLimit(160 << 20)
	return func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(lim)
	}
}
