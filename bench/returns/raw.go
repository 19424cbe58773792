package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kompas/internal/platform/store"
)

// rawWriter does, with hand-written SQL and no HTTP, JSON, validation or
// access checks, the same writes as registering a case and making three
// moves through the API: the case, its principal, the initial choice and
// transition and its count, then per move the case update, the transition,
// the stage histogram and the counts; each of the four transactions
// appends its audit event to the hash chain, as the API does.
type rawWriter struct {
	db            *store.DB
	orgID, userID int64
	email         string
}

var rawMoves = [][2]string{{"registered", "counselling"}, {"counselling", "documents"}, {"documents", "withdrawn"}}

// auditChainLock is the audit package's advisory lock key.
const auditChainLock = 0x61756474

func (w *rawWriter) audit(ctx context.Context, tx *store.Tx, action, objectID, detail string) error {
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, auditChainLock); err != nil {
			return err
		}
	}
	prev := "0000000000000000000000000000000000000000000000000000000000000000"
	seq := int64(-1)
	if err := tx.QueryRow(ctx, `SELECT hash, seq FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&prev, &seq); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	at := store.FormatTime(time.Now())
	h := sha256.New()
	for _, f := range []string{prev, at, strconv.FormatInt(w.userID, 10), w.email, "ngo-one", action, "return_case", objectID, "return counselling", detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_events (seq, at, actor_id, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, 'ngo-one', ?, 'return_case', ?, 'return counselling', ?, ?, ?)`, seq+1, at, w.userID, w.email, action, objectID, detail, prev, hex.EncodeToString(h.Sum(nil)))
	return err
}

// sequence registers one case and moves it three times.
func (w *rawWriter) sequence(ctx context.Context, ref string) error {
	var id int64
	now := time.Now().UTC()
	err := w.db.Transact(ctx, func(tx *store.Tx) error {
		ts := store.FormatTime(now)
		var err error
		id, err = tx.InsertID(ctx, `INSERT INTO return_cases (reference, stage, stage_since, country_of_return, counselling_org_id, programme,
			intake_org_id, immigration_history, persons, created_at, created_by, updated_at) VALUES (?, 'registered', ?, 'IQ', ?, 'national', ?, '', 1, ?, ?, ?) RETURNING id`,
			ref, ts, w.orgID, w.orgID, ts, w.email, ts)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO return_migrants (case_id, seq, relationship, given_name, family_name, birth_date, sex, nationality, documents_held, vulnerabilities)
			VALUES (?, 0, 'principal', 'Layla', 'Haddad', '1990-04-12', 'female', 'IQ', 'passport', '')`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO return_choices (case_id, from_org_id, to_org_id, chosen_on, reason, recorded_by, recorded_at) VALUES (?, NULL, ?, ?, 'initial choice', ?, ?)`,
			id, w.orgID, now.Format("2006-01-02"), w.email, ts); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO return_transitions (case_id, from_stage, to_stage, at, days, actor_id, actor, org_id, reason) VALUES (?, '', 'registered', ?, 0, ?, ?, ?, '')`,
			id, ts, w.userID, w.email, w.orgID); err != nil {
			return err
		}
		if err := count(ctx, tx, "registered", w.orgID, 1); err != nil {
			return err
		}
		return w.audit(ctx, tx, "create", strconv.FormatInt(id, 10), ref)
	})
	if err != nil {
		return fmt.Errorf("raw create: %w", err)
	}
	for v, m := range rawMoves {
		err := w.db.Transact(ctx, func(tx *store.Tx) error {
			ts := store.FormatTime(time.Now())
			res, err := tx.Exec(ctx, `UPDATE return_cases SET stage = ?, stage_since = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, m[1], ts, ts, id, v+1)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("case %d not at version %d", id, v+1)
			}
			reason := ""
			if m[1] == "withdrawn" {
				reason = "The migrant decided to stay."
			}
			if _, err := tx.Exec(ctx, `INSERT INTO return_transitions (case_id, from_stage, to_stage, at, days, actor_id, actor, org_id, reason) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)`,
				id, m[0], m[1], ts, w.userID, w.email, w.orgID, reason); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO return_stage_days (stage, days, n) VALUES (?, 0, 1) ON CONFLICT (stage, days) DO UPDATE SET n = return_stage_days.n + 1`, m[0]); err != nil {
				return err
			}
			if err := count(ctx, tx, m[0], w.orgID, -1); err != nil {
				return err
			}
			if err := count(ctx, tx, m[1], w.orgID, 1); err != nil {
				return err
			}
			return w.audit(ctx, tx, "transition", strconv.FormatInt(id, 10), m[0]+" → "+m[1])
		})
		if err != nil {
			return fmt.Errorf("raw move: %w", err)
		}
	}
	return nil
}

// count adds n cases of one person to the running count of a stage.
func count(ctx context.Context, tx *store.Tx, stage string, org int64, n int) error {
	_, err := tx.Exec(ctx, `INSERT INTO return_case_counts (stage, country_of_return, counselling_org_id, programme, departed, assisted, cases, persons)
		VALUES (?, 'IQ', ?, 'national', ?, ?, ?, ?)
		ON CONFLICT (stage, country_of_return, counselling_org_id, programme, departed, assisted)
		DO UPDATE SET cases = return_case_counts.cases + excluded.cases, persons = return_case_counts.persons + excluded.persons`,
		stage, org, false, false, n, n)
	return err
}
