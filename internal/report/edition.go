package report

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates report_editions and report_files (after programmes).
var Migrations = store.Embedded("report", migrationFiles)

// Edition states.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// Limits on an edition's input.
const (
	maxTitle    = 200
	maxMarkdown = 20000
)

// EditionInput is the body of POST and PUT /api/v1/reports/editions.
type EditionInput struct {
	Title        string  `json:"title" required:"true"`
	PeriodFrom   string  `json:"period_from" doc:"YYYY, YYYY-MM or YYYY-MM-DD; empty for open"`
	PeriodTo     string  `json:"period_to" doc:"YYYY, YYYY-MM or YYYY-MM-DD; not before period_from"`
	Author       string  `json:"author,omitempty" doc:"slug of the author organisation; the caller's own when empty (only administrators may name another)"`
	Framework    string  `json:"framework,omitempty" doc:"framework slug; the default framework when empty"`
	Grouping     []Group `json:"grouping,omitempty" doc:"sections of part B; the seed's 1 | 5, 6 | 7 | 9, 10 | 21 | 23 when empty"`
	Introduction string  `json:"introduction" doc:"Markdown: the method text of part A; generated when empty"`
	NextSteps    string  `json:"next_steps" doc:"Markdown: part C; generated from the coverage gaps when empty"`
	Version      int     `json:"version,omitempty" doc:"required on PUT: the version that was read"`
}

// FileInfo describes a published file.
type FileInfo struct {
	Format      string `json:"format"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// Edition is a review edition as stored and returned.
type Edition struct {
	ID int64 `json:"id"`
	EditionInput
	AuthorName  string     `json:"author_name"`
	Status      string     `json:"status" doc:"draft or published"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CreatedBy   string     `json:"created_by"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	PublishedBy string     `json:"published_by,omitempty"`
	Files       []FileInfo `json:"files" doc:"the frozen files of a published edition"`

	authorOrgID int64
}

// Spec is what the edition's review is built from.
func (e *Edition) Spec() Spec {
	return Spec{EditionID: e.ID, Status: e.Status, Title: e.Title, PeriodFrom: e.PeriodFrom, PeriodTo: e.PeriodTo, Author: e.Author,
		Framework: e.Framework, Grouping: e.Grouping, Introduction: e.Introduction, NextSteps: e.NextSteps}
}

// CanEdit reports whether p may change or publish e.
func CanEdit(p *auth.Principal, e *Edition) bool { return canEdit(p, e) == nil }

// CanCreate reports whether p may create editions.
func CanCreate(p *auth.Principal) bool { return ruleCreate.Allows(p, auth.RelNone) }

// Editions is the editions' service: rules, SQL and publishing.
type Editions struct {
	DB      *store.DB
	Builder *Builder
	// Orgs finds the organisation an administrator names as author.
	Orgs Orgs
}

// Orgs is what the review needs of the accounts service (auth.Service):
// an organisation by its slug, read through q (a transaction or the pool).
type Orgs interface {
	OrgBySlug(ctx context.Context, q store.Querier, slug string) (auth.Org, error)
}

// validate checks and normalises in; frameworks are the known slugs.
func validate(in EditionInput, frameworks map[string]bool) (EditionInput, []fault.FieldError) {
	var errs []fault.FieldError
	bad := func(field, msg string, args ...any) {
		errs = append(errs, fault.FieldError{Field: field, Message: fmt.Sprintf(msg, args...)})
	}
	text := func(field string, s *string, required bool, max int) {
		*s = strings.TrimSpace(*s)
		switch {
		case !utf8.ValidString(*s):
			bad(field, "must be valid UTF-8 text")
		case required && *s == "":
			bad(field, "is required")
		case utf8.RuneCountInString(*s) > max:
			bad(field, "must be at most %d characters (it has %d)", max, utf8.RuneCountInString(*s))
		case strings.ContainsRune(*s, 0):
			bad(field, "must not contain NUL characters")
		}
	}
	text("title", &in.Title, true, maxTitle)
	text("introduction", &in.Introduction, false, maxMarkdown)
	text("next_steps", &in.NextSteps, false, maxMarkdown)
	in.PeriodFrom, in.PeriodTo = strings.TrimSpace(in.PeriodFrom), strings.TrimSpace(in.PeriodTo)
	from, okFrom := programmes.PartialDate(in.PeriodFrom, false)
	to, okTo := programmes.PartialDate(in.PeriodTo, true)
	if !okFrom {
		bad("period_from", "must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
	}
	if !okTo {
		bad("period_to", "must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
	}
	if okFrom && okTo && from != "" && to != "" && to < from {
		bad("period_to", "must not be before the start of the period (%s)", in.PeriodFrom)
	}
	in.Framework = strings.TrimSpace(in.Framework)
	if !frameworks[in.Framework] {
		bad("framework", "no framework %q is known", truncate(in.Framework, 64))
	}
	in.Author = strings.TrimSpace(in.Author)
	if len(in.Grouping) == 0 {
		in.Grouping = DefaultGrouping()
	}
	if len(in.Grouping) > 23 {
		bad("grouping", "must have at most 23 sections")
	}
	owner := map[int]int{}
	for i := range in.Grouping {
		g := &in.Grouping[i]
		f := fmt.Sprintf("grouping[%d]", i)
		text(f+".title", &g.Title, false, maxTitle)
		if len(g.Objectives) == 0 {
			bad(f+".objectives", "must list at least one GCM objective")
		}
		seen := map[int]bool{}
		var objs []int
		for j, o := range g.Objectives {
			switch {
			case o < 1 || o > 23:
				bad(fmt.Sprintf("%s.objectives[%d]", f, j), "%d is not a GCM objective (1 to 23)", o)
			case seen[o]:
			default:
				if k, dup := owner[o]; dup {
					bad(fmt.Sprintf("%s.objectives[%d]", f, j), "objective %d is already in section %d", o, k+1)
				}
				owner[o] = i
				seen[o] = true
				objs = append(objs, o)
			}
		}
		g.Objectives = objs
	}
	return in, errs
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// check validates in against the catalogue's frameworks, defaulting the
// framework. (It runs inside the update's transaction, so it must not read
// through the pool: the catalogue was loaded at start.)
func (s *Editions) check(in EditionInput) (EditionInput, error) {
	if s.Builder == nil || s.Builder.GCM == nil {
		return in, errors.New("report: the editions were given no GCM catalogue (gcm.Load)")
	}
	known := map[string]bool{}
	for _, f := range s.Builder.GCM.Frameworks() {
		known[f.Slug] = true
		if strings.TrimSpace(in.Framework) == "" && f.Default {
			in.Framework = f.Slug
		}
	}
	in, errs := validate(in, known)
	if len(errs) > 0 {
		return in, fault.Invalid(errs...)
	}
	return in, nil
}

// authorOrg resolves the author: the caller's organisation unless an
// administrator names another.
func (s *Editions) authorOrg(ctx context.Context, q store.Querier, p *auth.Principal, slug string) (int64, string, error) {
	if slug == "" || slug == p.OrgSlug {
		return p.OrgID, p.OrgSlug, nil
	}
	if err := auth.Check(p, ruleAuthor, auth.RelNone); err != nil {
		return 0, "", err
	}
	org, err := s.Orgs.OrgBySlug(ctx, q, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fault.Invalid(fault.FieldError{Field: "author", Message: fmt.Sprintf("no organisation %q is known", truncate(slug, 64))})
	}
	if err != nil {
		return 0, "", err
	}
	return org.ID, org.Slug, nil
}

func groupsJSON(gs []Group) string {
	b, _ := json.Marshal(gs)
	return string(b)
}

// Create adds a draft edition.
func (s *Editions) Create(ctx context.Context, p *auth.Principal, in EditionInput) (*Edition, error) {
	if err := auth.Check(p, ruleCreate, auth.RelNone); err != nil {
		return nil, err
	}
	in, err := s.check(in)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.DB.Transact(ctx, func(tx *store.Tx) error {
		orgID, slug, err := s.authorOrg(ctx, tx, p, in.Author)
		if err != nil {
			return err
		}
		now := store.FormatTime(time.Now())
		id, err = tx.InsertID(ctx, `INSERT INTO report_editions (title, period_from, period_to, author_org_id, framework, objective_groups, introduction, next_steps,
			status, version, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'draft', 1, ?, ?, ?) RETURNING id`,
			in.Title, in.PeriodFrom, in.PeriodTo, orgID, in.Framework, groupsJSON(in.Grouping), in.Introduction, in.NextSteps, now, now, p.Email)
		if err != nil {
			return fmt.Errorf("report: create edition: %w", err)
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionCreate, "report_edition", strconv.FormatInt(id, 10), "GCM review", in.Title+" (author "+slug+")"))
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Update replaces a draft edition if version is current. A published
// edition is frozen: 409.
func (s *Editions) Update(ctx context.Context, p *auth.Principal, id int64, in EditionInput) (*Edition, error) {
	err := s.DB.Transact(ctx, func(tx *store.Tx) error {
		cur, err := getEdition(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := canEdit(p, cur); err != nil {
			return err
		}
		if cur.Status == StatusPublished {
			return fault.Conflict("This edition is published; its files are frozen and it cannot change. Create a new edition instead.")
		}
		if in.Version <= 0 {
			return fault.Invalid(fault.FieldError{Field: "version", Message: "is required: send the version you read, so that a concurrent change is not overwritten"})
		}
		if in.Author == "" {
			in.Author = cur.Author
		}
		in, err = s.check(in)
		if err != nil {
			return err
		}
		orgID := cur.authorOrgID
		if in.Author != cur.Author {
			if orgID, _, err = s.authorOrg(ctx, tx, p, in.Author); err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, `UPDATE report_editions SET title = ?, period_from = ?, period_to = ?, author_org_id = ?, framework = ?, objective_groups = ?,
			introduction = ?, next_steps = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ? AND status = 'draft'`,
			in.Title, in.PeriodFrom, in.PeriodTo, orgID, in.Framework, groupsJSON(in.Grouping), in.Introduction, in.NextSteps,
			store.FormatTime(time.Now()), id, in.Version)
		if err != nil {
			return fmt.Errorf("report: update edition %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.Conflict(fmt.Sprintf("This edition was changed by someone else after you read it (you sent version %d; it is now at version %d). Reload it and apply your change again.", in.Version, cur.Version))
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionUpdate, "report_edition", strconv.FormatInt(id, 10), "GCM review", fmt.Sprintf("%s (version %d)", in.Title, in.Version+1)))
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

const editionColumns = `e.id, e.title, e.period_from, e.period_to, e.author_org_id, o.slug, o.name, e.framework, e.objective_groups, e.introduction, e.next_steps,
	e.status, e.version, e.created_at, e.updated_at, e.created_by, e.published_at, e.published_by`

const editionFrom = ` FROM report_editions e JOIN organisations o ON o.id = e.author_org_id`

func scanEdition(sc interface{ Scan(...any) error }) (*Edition, error) {
	e := &Edition{}
	var groups, created, updated string
	var pubAt, pubBy sql.NullString
	err := sc.Scan(&e.ID, &e.Title, &e.PeriodFrom, &e.PeriodTo, &e.authorOrgID, &e.Author, &e.AuthorName, &e.Framework, &groups, &e.Introduction, &e.NextSteps,
		&e.Status, &e.Version, &created, &updated, &e.CreatedBy, &pubAt, &pubBy)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(groups), &e.Grouping); err != nil {
		return nil, fmt.Errorf("report: edition %d: grouping: %w", e.ID, err)
	}
	e.CreatedAt, _ = store.ParseTime(created)
	e.UpdatedAt, _ = store.ParseTime(updated)
	if pubAt.Valid {
		t, _ := store.ParseTime(pubAt.String)
		e.PublishedAt = &t
	}
	e.PublishedBy = pubBy.String
	e.Files = []FileInfo{}
	return e, nil
}

func getEdition(ctx context.Context, q store.Querier, id int64) (*Edition, error) {
	e, err := scanEdition(q.QueryRow(ctx, `SELECT `+editionColumns+editionFrom+` WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.NotFound("Edition")
	}
	if err != nil {
		return nil, fmt.Errorf("report: edition %d: %w", id, err)
	}
	rows, err := q.Query(ctx, `SELECT format, content_type, sha256, size FROM report_files WHERE edition_id = ? ORDER BY format`, id)
	if err != nil {
		return nil, fmt.Errorf("report: edition %d files: %w", id, err)
	}
	defer rows.Close()
	byFormat := map[string]FileInfo{}
	for rows.Next() {
		var f FileInfo
		if err := rows.Scan(&f.Format, &f.ContentType, &f.SHA256, &f.Size); err != nil {
			return nil, err
		}
		f.URL = fmt.Sprintf("/api/v1/reports/editions/%d/files/%s", id, f.Format)
		byFormat[f.Format] = f
	}
	for _, f := range Formats {
		if fi, ok := byFormat[f.Name]; ok {
			e.Files = append(e.Files, fi)
		}
	}
	return e, rows.Err()
}

// Get reads one edition; a 404 when there is none.
func (s *Editions) Get(ctx context.Context, id int64) (*Edition, error) {
	return getEdition(ctx, s.DB, id)
}

// List returns every edition, newest change first.
func (s *Editions) List(ctx context.Context) ([]*Edition, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+editionColumns+editionFrom+` ORDER BY e.updated_at DESC, e.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("report: editions: %w", err)
	}
	defer rows.Close()
	out := []*Edition{}
	for rows.Next() {
		e, err := scanEdition(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Document builds the edition's review from live data now.
func (s *Editions) Document(ctx context.Context, e *Edition) (*Document, error) {
	return s.Builder.Build(ctx, e.Spec())
}

// Publish renders the edition in every format and freezes the files and
// their SHA-256; it is a 409 when the edition is published already or
// changed while rendering.
func (s *Editions) Publish(ctx context.Context, p *auth.Principal, id int64) (*Edition, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := canEdit(p, cur); err != nil {
		return nil, err
	}
	if cur.Status == StatusPublished {
		return nil, fault.Conflict("This edition is published already; its files are frozen.")
	}
	spec := cur.Spec()
	spec.Status = StatusPublished
	doc, err := s.Builder.Build(ctx, spec)
	if err != nil {
		return nil, err
	}
	type file struct {
		f   Format
		b   []byte
		sum string
	}
	var files []file
	for _, f := range Formats {
		b, err := Render(doc, f.Name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		files = append(files, file{f, b, hex.EncodeToString(sum[:])})
	}
	err = s.DB.Transact(ctx, func(tx *store.Tx) error {
		now := store.FormatTime(doc.Generated)
		res, err := tx.Exec(ctx, `UPDATE report_editions SET status = 'published', published_at = ?, published_by = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND status = 'draft' AND version = ?`, now, p.Email, now, id, cur.Version)
		if err != nil {
			return fmt.Errorf("report: publish %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.Conflict("This edition changed or was published while it was being rendered; nothing was published. Try again.")
		}
		var sums []string
		for _, f := range files {
			if _, err := tx.Exec(ctx, `INSERT INTO report_files (edition_id, format, content_type, content, sha256, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				id, f.f.Name, f.f.ContentType, f.b, f.sum, len(f.b), now); err != nil {
				return fmt.Errorf("report: store %s of edition %d: %w", f.f.Name, id, err)
			}
			sums = append(sums, f.f.Name+"="+f.sum)
		}
		return audit.Append(ctx, tx, p.Event("publish", "report_edition", strconv.FormatInt(id, 10), "GCM review", strings.Join(sums, " ")))
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// File is one rendered file of an edition.
type File struct {
	Format  Format
	Content []byte
	SHA256  string
	Frozen  bool // stored at publishing
}

// File returns the edition's file in format: the stored bytes when it is
// published, rendered now from live data when it is a draft.
func (s *Editions) File(ctx context.Context, e *Edition, format string) (*File, error) {
	f, ok := LookupFormat(format)
	if !ok {
		return nil, BadFormat(format)
	}
	if e.Status == StatusPublished {
		var content []byte
		var sum string
		err := s.DB.QueryRow(ctx, `SELECT content, sha256 FROM report_files WHERE edition_id = ? AND format = ?`, e.ID, f.Name).Scan(&content, &sum)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("File")
		}
		if err != nil {
			return nil, fmt.Errorf("report: file %s of edition %d: %w", f.Name, e.ID, err)
		}
		return &File{Format: f, Content: content, SHA256: sum, Frozen: true}, nil
	}
	doc, err := s.Document(ctx, e)
	if err != nil {
		return nil, err
	}
	return RenderFile(doc, f)
}

// RenderFile renders doc as a File.
func RenderFile(doc *Document, f Format) (*File, error) {
	b, err := Render(doc, f.Name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return &File{Format: f, Content: b, SHA256: hex.EncodeToString(sum[:])}, nil
}

// BadFormat is the 400 for an unknown format.
func BadFormat(format string) error {
	return fault.Malformed("Unknown format.", fault.FieldError{Field: "format", Message: fmt.Sprintf("%q is not a format of the review; use %s", truncate(format, 20), FormatNames())})
}
