package iati

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

// Job statuses. A running job whose heartbeat is older than staleAfter is
// shown as interrupted: the process that ran it stopped.
const (
	JobQueued      = "queued"
	JobRunning     = "running"
	JobDone        = "done"
	JobFailed      = "failed"
	JobInterrupted = "interrupted"
	staleAfter     = 2 * time.Minute
)

// Job is an import as the job page and the API show it.
type Job struct {
	ID          int64      `json:"id"`
	Status      string     `json:"status" doc:"queued, running, done, failed or interrupted"`
	Source      string     `json:"source" doc:"web, api or cli"`
	FileName    string     `json:"file_name"`
	FileBytes   int64      `json:"file_bytes"`
	BytesRead   int64      `json:"bytes_read"`
	Percent     int        `json:"percent" doc:"share of the file read"`
	Activities  int        `json:"activities"`
	Created     int        `json:"created"`
	Updated     int        `json:"updated"`
	Unchanged   int        `json:"unchanged" doc:"skipped because nothing changed"`
	Skipped     int        `json:"skipped" doc:"skipped for the reasons in events"`
	Suggestions int        `json:"suggestions" doc:"GCM objectives suggested, awaiting review"`
	Summary     Summary    `json:"summary"`
	Error       string     `json:"error,omitempty" doc:"the problem that stopped the file"`
	ErrorLine   int        `json:"error_line,omitempty"`
	Actor       string     `json:"actor"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	URL         string     `json:"url"`
	ReviewURL   string     `json:"review_url"`
	Events      []JobEvent `json:"events"`
	EventsShown int        `json:"-"`

	orgID int64
}

// Summary counts a job's activities as imported, updated and skipped, with
// the reasons for skipping: "unchanged", or "problems" (listed in events).
type Summary struct {
	Imported        int            `json:"imported"`
	Updated         int            `json:"updated"`
	Skipped         int            `json:"skipped"`
	SkippedByReason map[string]int `json:"skipped_by_reason"`
}

// JobEvent is a skipped activity (with its reasons) or a note on one that
// was imported.
type JobEvent struct {
	Line         int    `json:"line"`
	Identifier   string `json:"iati_identifier"`
	Kind         string `json:"kind" doc:"skipped or note"`
	Message      string `json:"message"`
	InitiativeID int64  `json:"initiative_id,omitempty"`
}

// Finished reports whether the job will change no more.
func (j *Job) Finished() bool { return j.Status != JobQueued && j.Status != JobRunning }

// CreateJob records a new import job for p and audits its start.
func CreateJob(ctx context.Context, db *store.DB, p *auth.Principal, source, fileName string, size int64, status string) (int64, error) {
	var id int64
	now := store.FormatTime(time.Now())
	err := db.Transact(ctx, func(tx *store.Tx) error {
		var orgID any
		if p != nil && p.OrgID != 0 {
			orgID = p.OrgID
		}
		var err error
		id, err = tx.InsertID(ctx, `INSERT INTO iati_jobs (status, source, file_name, file_bytes, actor, org_id, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			status, source, truncate(fileName, 200), size, actorOf(p), orgID, now, now)
		if err != nil {
			return fmt.Errorf("iati: create job: %w", err)
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionImport, "iati_job", strconv.FormatInt(id, 10), "programme register",
			fmt.Sprintf("IATI import started: %s (%s, via %s)", truncate(fileName, 200), FormatSize(size), source)))
	})
	return id, err
}

func actorOf(p *auth.Principal) string {
	if p == nil {
		return "system"
	}
	return p.Email
}

// RunJob runs job id over r and records its end (and audits it). The
// returned job is as finished.
func (im *Importer) RunJob(ctx context.Context, p *auth.Principal, id int64, r io.Reader, size int64) (*Job, error) {
	db := im.DB
	if _, err := db.Exec(ctx, `UPDATE iati_jobs SET status = ?, heartbeat_at = ? WHERE id = ?`, JobRunning, store.FormatTime(time.Now()), id); err != nil {
		return nil, fmt.Errorf("iati: start job: %w", err)
	}
	res, runErr := im.Run(ctx, p, id, r, size)
	status, msg, line := JobDone, "", 0
	switch {
	case runErr != nil && web.StatusOf(runErr) < 500:
		status, msg = JobFailed, web.AsError(runErr).Detail
	case runErr != nil:
		log := im.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("IATI import stopped", "job", id, "err", runErr)
		status, msg = JobFailed, "The import stopped on a database error (the server log has it); the activities counted were imported. Import the file again to finish: unchanged activities are skipped."
		if errors.Is(runErr, context.Canceled) {
			msg = "The import was cancelled; the activities counted were imported. Import the file again to finish: unchanged activities are skipped."
		}
	case res.Err != nil:
		status, msg, line = JobFailed, res.Err.Msg, res.Err.Line
	}
	if res == nil {
		res = &Result{}
	}
	// The end is recorded even when the run's context was cancelled.
	fctx := context.WithoutCancel(ctx)
	err := db.Transact(fctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(fctx, `UPDATE iati_jobs SET status = ?, error = ?, error_line = ?, finished_at = ?, heartbeat_at = ? WHERE id = ?`,
			status, msg, line, store.FormatTime(time.Now()), store.FormatTime(time.Now()), id); err != nil {
			return err
		}
		var detail string
		if status == JobDone {
			detail = fmt.Sprintf("IATI import done: %d activities, %d created, %d updated, %d unchanged, %d skipped", res.Activities, res.Created, res.Updated, res.Unchanged, res.Skipped)
		} else {
			detail = fmt.Sprintf("IATI import failed at line %d: %s (%d created, %d updated, %d unchanged, %d skipped before)", line, truncate(msg, 300), res.Created, res.Updated, res.Unchanged, res.Skipped)
		}
		return audit.Append(fctx, tx, p.Event(audit.ActionImport, "iati_job", strconv.FormatInt(id, 10), "programme register", detail))
	})
	if err != nil {
		return nil, fmt.Errorf("iati: finish job: %w", err)
	}
	j, err := GetJob(fctx, db, id, maxEvents)
	if err != nil {
		return nil, err
	}
	return j, runErr
}

// GetJob reads a job with up to maxEv of its events; a 404 when there is
// none.
func GetJob(ctx context.Context, q store.Querier, id int64, maxEv int) (*Job, error) {
	j := &Job{ID: id}
	var started, heartbeat, finished string
	var orgID sql.NullInt64
	err := q.QueryRow(ctx, `SELECT status, source, file_name, file_bytes, bytes_read, activities, created, updated, unchanged, skipped, suggestions,
		error, error_line, actor, org_id, started_at, heartbeat_at, finished_at FROM iati_jobs WHERE id = ?`, id).
		Scan(&j.Status, &j.Source, &j.FileName, &j.FileBytes, &j.BytesRead, &j.Activities, &j.Created, &j.Updated, &j.Unchanged, &j.Skipped, &j.Suggestions,
			&j.Error, &j.ErrorLine, &j.Actor, &orgID, &started, &heartbeat, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.NotFound("Import job")
	}
	if err != nil {
		return nil, fmt.Errorf("iati: read job %d: %w", id, err)
	}
	j.orgID = orgID.Int64
	j.StartedAt, _ = store.ParseTime(started)
	j.HeartbeatAt, _ = store.ParseTime(heartbeat)
	if finished != "" {
		t, _ := store.ParseTime(finished)
		j.FinishedAt = &t
	}
	if !j.Finished() && time.Since(j.HeartbeatAt) > staleAfter {
		j.Status = JobInterrupted
	}
	if j.FileBytes > 0 {
		j.Percent = int(min(100, j.BytesRead*100/j.FileBytes))
	}
	if j.Status == JobDone {
		j.Percent = 100
	}
	j.Summary = Summary{Imported: j.Created, Updated: j.Updated, Skipped: j.Unchanged + j.Skipped,
		SkippedByReason: map[string]int{"unchanged": j.Unchanged, "problems": j.Skipped}}
	j.URL = fmt.Sprintf("/imports/iati/%d", id)
	j.ReviewURL = fmt.Sprintf("/imports/iati/%d/review", id)
	j.Events = []JobEvent{}
	if maxEv > 0 {
		rows, err := q.Query(ctx, `SELECT line, iati_identifier, kind, message, COALESCE(initiative_id, 0) FROM iati_job_events WHERE job_id = ? ORDER BY seq LIMIT `+strconv.Itoa(maxEv), id)
		if err != nil {
			return nil, fmt.Errorf("iati: read job events: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e JobEvent
			if err := rows.Scan(&e.Line, &e.Identifier, &e.Kind, &e.Message, &e.InitiativeID); err != nil {
				return nil, err
			}
			j.Events = append(j.Events, e)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// ListJobs returns the latest jobs, newest first.
func ListJobs(ctx context.Context, q store.Querier, limit int) ([]*Job, error) {
	rows, err := q.Query(ctx, `SELECT id FROM iati_jobs ORDER BY id DESC LIMIT `+strconv.Itoa(limit))
	if err != nil {
		return nil, fmt.Errorf("iati: list jobs: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []*Job{}
	for _, id := range ids {
		j, err := GetJob(ctx, q, id, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// SuggestionView is a suggestion with its initiative, for review.
type SuggestionView struct {
	ID             int64    `json:"id"`
	InitiativeID   int64    `json:"initiative_id"`
	Initiative     string   `json:"initiative" doc:"the initiative's title"`
	IATIIdentifier string   `json:"iati_identifier"`
	Objective      int      `json:"objective"`
	ObjectiveTitle string   `json:"objective_title"`
	Reasons        []string `json:"reasons"`
	Status         string   `json:"status" doc:"suggested, confirmed or rejected"`
	DecidedBy      string   `json:"decided_by,omitempty"`
	CanDecide      bool     `json:"can_decide"`
}

// Suggestions lists the suggestions made (or last refreshed) by job id,
// undecided first.
func Suggestions(ctx context.Context, db *store.DB, reg Register, p *auth.Principal, jobID int64, limit int) ([]SuggestionView, error) {
	rows, err := db.Query(ctx, `SELECT id, initiative_id, objective, reasons, status, decided_by FROM iati_suggestions WHERE job_id = ?
		ORDER BY CASE status WHEN 'suggested' THEN 0 ELSE 1 END, initiative_id, objective LIMIT `+strconv.Itoa(limit), jobID)
	if err != nil {
		return nil, fmt.Errorf("iati: list suggestions: %w", err)
	}
	var out []SuggestionView
	var ids []int64
	for rows.Next() {
		var s SuggestionView
		var reasons string
		if err := rows.Scan(&s.ID, &s.InitiativeID, &s.Objective, &reasons, &s.Status, &s.DecidedBy); err != nil {
			rows.Close()
			return nil, err
		}
		_ = json.Unmarshal([]byte(reasons), &s.Reasons)
		out = append(out, s)
		ids = append(ids, s.InitiativeID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	its, err := reg.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		s := &out[i]
		s.ObjectiveTitle = objectiveTitle(s.Objective)
		if it := its[s.InitiativeID]; it != nil {
			s.Initiative = it.Title
			s.IATIIdentifier = it.IATIIdentifier()
			s.CanDecide = reg.MayEdit(p, it)
		}
	}
	if out == nil {
		out = []SuggestionView{}
	}
	return out, nil
}

// Decide confirms or rejects suggestion id. Confirming adds the objective
// to the initiative; rejecting a confirmed one removes it again. It needs
// the right to change the initiative. It returns the job the suggestion
// belongs to.
func Decide(ctx context.Context, db *store.DB, reg Register, p *auth.Principal, id int64, decision string) (int64, error) {
	if decision != "confirmed" && decision != "rejected" {
		return 0, fault.Invalid(fault.FieldError{Field: "status", Message: "must be confirmed or rejected"})
	}
	var jobID int64
	err := db.Transact(ctx, func(tx *store.Tx) error {
		var initiative int64
		var objective int
		var job sql.NullInt64
		err := tx.QueryRow(ctx, `SELECT initiative_id, objective, job_id FROM iati_suggestions WHERE id = ?`, id).Scan(&initiative, &objective, &job)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.NotFound("Suggestion")
		}
		if err != nil {
			return fmt.Errorf("iati: read suggestion: %w", err)
		}
		jobID = job.Int64
		var add, remove []int
		if decision == "confirmed" {
			add = []int{objective}
		} else {
			remove = []int{objective}
		}
		if _, err := reg.ChangeObjectives(ctx, tx, p, initiative, add, remove); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE iati_suggestions SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?`,
			decision, actorOf(p), store.FormatTime(time.Now()), id); err != nil {
			return fmt.Errorf("iati: decide suggestion: %w", err)
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionUpdate, "iati_suggestion", strconv.FormatInt(id, 10), "programme register",
			fmt.Sprintf("objective %d for initiative %d %s", objective, initiative, decision)))
	})
	return jobID, err
}

// Heartbeat marks job id as alive (a queued job waiting for the node's
// import slot), so that it does not look interrupted.
func Heartbeat(ctx context.Context, db *store.DB, id int64) error {
	if _, err := db.Exec(ctx, `UPDATE iati_jobs SET heartbeat_at = ? WHERE id = ?`, store.FormatTime(time.Now()), id); err != nil {
		return fmt.Errorf("iati: heartbeat of job %d: %w", id, err)
	}
	return nil
}

// PendingSuggestions counts the suggestions of job id still waiting for an
// officer's decision.
func PendingSuggestions(ctx context.Context, q store.Querier, jobID int64) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM iati_suggestions WHERE job_id = ? AND status = 'suggested'`, jobID).Scan(&n); err != nil {
		return 0, fmt.Errorf("iati: count suggestions of job %d: %w", jobID, err)
	}
	return n, nil
}
