package returns

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
)

// QueueFilter selects cases for a work queue.
type QueueFilter struct {
	Stage   Stage  // one stage; "" for every open stage (or every stage with All)
	All     bool   // include closed, withdrawn and no-show cases
	Mine    bool   // only cases the caller registered or moved
	Overdue bool   // only cases longer in their stage than it should take
	Country string // ISO code of the country of return
	Page    int
	PerPage int
}

// MaxPerPage caps a queue page.
const MaxPerPage = 100

// totalCap is where counting cases one by one stops: a queue filtered by
// "mine" or "overdue", or a partner's, says "1,000 or more" rather than
// count tens of thousands of rows on every page.
const totalCap = 1_000

// ParseQueueFilter reads a filter from query parameters; bad values are a
// 400 naming the parameter.
func ParseQueueFilter(v url.Values) (QueueFilter, error) {
	f := QueueFilter{Stage: Stage(strings.TrimSpace(v.Get("stage"))), Country: strings.ToUpper(strings.TrimSpace(v.Get("country"))), Page: 1, PerPage: 25}
	var errs []fault.FieldError
	flag := func(name string, dst *bool) {
		switch strings.ToLower(v.Get(name)) {
		case "", "0", "false", "off":
		case "1", "true", "on", "yes":
			*dst = true
		default:
			errs = append(errs, fault.FieldError{Field: name, Message: "must be 1 or 0"})
		}
	}
	flag("all", &f.All)
	flag("mine", &f.Mine)
	flag("overdue", &f.Overdue)
	num := func(name string, dst *int, lo, hi int) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fault.FieldError{Field: name, Message: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)})
			return
		}
		*dst = n
	}
	num("page", &f.Page, 1, 100_000)
	num("per_page", &f.PerPage, 1, MaxPerPage)
	if f.Stage != "" && !f.Stage.Valid() {
		errs = append(errs, fault.FieldError{Field: "stage", Message: fmt.Sprintf("must be one of %s", stageList(Stages))})
	}
	if f.Country != "" && !geo.Valid(f.Country) {
		errs = append(errs, fault.FieldError{Field: "country", Message: "must be an ISO 3166-1 alpha-2 country code"})
	}
	if len(errs) > 0 {
		return f, fault.Malformed("Some filters are not valid.", errs...)
	}
	return f, nil
}

// Values turns f back into query parameters.
func (f QueueFilter) Values() url.Values {
	v := url.Values{}
	if f.Stage != "" {
		v.Set("stage", string(f.Stage))
	}
	if f.All {
		v.Set("all", "1")
	}
	if f.Mine {
		v.Set("mine", "1")
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	if f.Country != "" {
		v.Set("country", f.Country)
	}
	if f.PerPage != 25 && f.PerPage != 0 {
		v.Set("per_page", strconv.Itoa(f.PerPage))
	}
	return v
}

// QueueItem is one case in a work queue. It carries no special-category
// data, so every role that works on cases gets the same columns.
type QueueItem struct {
	ID              int64     `json:"id"`
	Reference       string    `json:"reference"`
	Stage           Stage     `json:"stage"`
	StageSince      time.Time `json:"stage_since"`
	DaysInStage     int       `json:"days_in_stage"`
	Overdue         bool      `json:"overdue"`
	CountryOfReturn string    `json:"country_of_return"`
	Programme       string    `json:"programme"`
	CounsellingOrg  string    `json:"counselling_org"`
	Partner         string    `json:"partner,omitempty"`
	Principal       string    `json:"principal" doc:"the principal's name"`
	Persons         int       `json:"persons"`
}

// StageCount is how many of the caller's cases are in a stage.
type StageCount struct {
	Stage Stage `json:"stage"`
	Count int   `json:"count"`
}

// Queue is a page of a work queue.
type Queue struct {
	Items     []QueueItem  `json:"items"`
	Total     int          `json:"total"`
	TotalMore bool         `json:"total_more" doc:"true when there are more than total (counting cases one by one, for mine, overdue and partners' queues, stops at 1,000)"`
	Page      int          `json:"page"`
	PerPage   int          `json:"per_page"`
	ByStage   []StageCount `json:"by_stage" doc:"all the caller's cases by stage, whatever the filter"`
}

// where builds the filter's conditions beyond the scope.
func (f QueueFilter) where(p *auth.Principal, now time.Time) (string, []any) {
	var conds []string
	var args []any
	switch {
	case f.Stage != "":
		conds = append(conds, "c.stage = ?")
		args = append(args, string(f.Stage))
	case !f.All:
		conds = append(conds, "c.stage NOT IN ("+placeholders(len(closedStages))+")")
		for _, s := range closedStages {
			args = append(args, string(s))
		}
	}
	if f.Country != "" {
		conds = append(conds, "c.country_of_return = ?")
		args = append(args, f.Country)
	}
	if f.Mine {
		conds = append(conds, "c.id IN (SELECT case_id FROM return_transitions WHERE actor_id = ?)")
		args = append(args, p.UserID)
	}
	if f.Overdue {
		var ors []string
		for _, st := range Stages {
			d, ok := overdueDays[st]
			if !ok {
				continue
			}
			ors = append(ors, "(c.stage = ? AND c.stage_since < ?)")
			args = append(args, string(st), store.FormatTime(now.AddDate(0, 0, -d)))
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// Queue lists the cases p may see that match f, oldest in their stage
// first. Roles that see no cases get a 403. The read is audited with the
// ids of the cases listed.
func (s *Service) Queue(ctx context.Context, p *auth.Principal, f QueueFilter) (*Queue, error) {
	if p == nil {
		return nil, fault.ErrUnauthenticated
	}
	now := s.now()
	sc, scArgs, err := scope(ctx, s.DB, p)
	if err != nil {
		return nil, err
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage < 1 || f.PerPage > MaxPerPage {
		f.PerPage = 25
	}
	cond, condArgs := f.where(p, now)
	args := append(append([]any{}, scArgs...), condArgs...)
	q := &Queue{Items: []QueueItem{}, Page: f.Page, PerPage: f.PerPage, ByStage: []StageCount{}}
	items, ids, err := listCases(ctx, s.DB, sc+cond, args, f.PerPage, (f.Page-1)*f.PerPage, now)
	if err != nil {
		return nil, err
	}
	q.Items = items
	// Counts come from the running counts where the scope and filter are
	// dimensions of them (everyone but partners; no "mine" or "overdue"),
	// else from the cases, stopping at 1,000.
	onCounts := p.Role != auth.RolePartner
	if onCounts && !f.Mine && !f.Overdue {
		if err := s.DB.QueryRow(ctx, `SELECT COALESCE(SUM(c.cases), 0) FROM return_case_counts c WHERE `+sc+cond, args...).Scan(&q.Total); err != nil {
			return nil, fmt.Errorf("returns: count queue: %w", err)
		}
	} else {
		if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM return_cases c WHERE `+sc+cond+` LIMIT `+strconv.Itoa(totalCap+1)+`) x`, args...).Scan(&q.Total); err != nil {
			return nil, fmt.Errorf("returns: count queue: %w", err)
		}
		if q.Total > totalCap {
			q.Total, q.TotalMore = totalCap, true
		}
	}
	byStage := `SELECT c.stage, COUNT(*) FROM return_cases c WHERE ` + sc + ` GROUP BY c.stage`
	if onCounts {
		byStage = `SELECT c.stage, COALESCE(SUM(c.cases), 0) FROM return_case_counts c WHERE ` + sc + ` GROUP BY c.stage`
	}
	counts := map[Stage]int{}
	err = each(ctx, s.DB, byStage, scArgs, func(r scanner) error {
		var st Stage
		var n int
		if err := r.Scan(&st, &n); err != nil {
			return err
		}
		counts[st] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, st := range Stages {
		q.ByStage = append(q.ByStage, StageCount{Stage: st, Count: counts[st]})
	}
	if len(ids) > 0 {
		err = s.DB.Transact(ctx, func(tx *store.Tx) error {
			return audit.Append(ctx, tx, p.Event(audit.ActionRead, "return_case", "", purposeOf(p), "work queue: cases "+strings.Join(ids, ",")))
		})
		if err != nil {
			return nil, err
		}
	}
	return q, nil
}

// listCases reads queue items matching where (on return_cases c), oldest in
// their stage first.
func listCases(ctx context.Context, db store.Querier, where string, args []any, limit, offset int, now time.Time) ([]QueueItem, []string, error) {
	items := []QueueItem{}
	var ids []string
	args = append(append([]any{}, args...), limit, offset)
	// The page's ids come from the queue indexes alone (they hold the
	// scope, the order and the stage); only those rows are then joined.
	err := each(ctx, db, `SELECT c.id, c.reference, c.stage, c.stage_since, c.country_of_return, c.programme, co.slug, COALESCE(po.slug, ''),
		COALESCE(m.given_name, ''), COALESCE(m.family_name, ''), c.persons
		FROM (SELECT c.id FROM return_cases c WHERE `+where+` ORDER BY c.stage_since, c.id LIMIT ? OFFSET ?) pg
		JOIN return_cases c ON c.id = pg.id
		JOIN organisations co ON co.id = c.counselling_org_id
		LEFT JOIN organisations po ON po.id = c.partner_org_id
		LEFT JOIN return_migrants m ON m.case_id = c.id AND m.seq = 0
		ORDER BY c.stage_since, c.id`, args, func(r scanner) error {
		var it QueueItem
		var since, given, family string
		if err := r.Scan(&it.ID, &it.Reference, &it.Stage, &since, &it.CountryOfReturn, &it.Programme, &it.CounsellingOrg, &it.Partner,
			&given, &family, &it.Persons); err != nil {
			return err
		}
		it.StageSince, _ = store.ParseTime(since)
		it.DaysInStage = daysBetween(it.StageSince, now)
		it.Overdue = isOverdue(it.Stage, it.StageSince, now)
		it.Principal = strings.TrimSpace(given + " " + family)
		items = append(items, it)
		ids = append(ids, strconv.FormatInt(it.ID, 10))
		return nil
	})
	return items, ids, err
}
