package audit

import (
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"kompas/internal/platform/store"
)

// CheckOptions say what Check verifies beyond the chain.
type CheckOptions struct {
	// Verifier checks every event's signature (each one from the first
	// validly signed event on must carry one) and opens the checkpoints
	// the log holds. Nil checks neither.
	Verifier note.Verifier
	// Checkpoint, when set, must be covered: the log's first
	// Checkpoint.Size events must hash to its root.
	Checkpoint *Checkpoint
	// Others are further checkpoints (such as the rest of a checkpoint
	// folder) that narrow down where an altered event is.
	Others []*Checkpoint
}

// Report is what Check found.
type Report struct {
	Events      int              // rows in audit_events
	Intact      int              // events before the first broken link
	Broken      *BrokenLinkError // the first broken link, or nil
	Signed      int              // events with a valid signature
	FirstSigned int64            // seq of the first validly signed event; -1 when none (or not checked)
	Size        int64            // leaves in the tree recomputed from the events
	Root        tlog.Hash        // its root
	Checkpoint  *Checkpoint      // opts.Checkpoint, when the log is consistent with it
	Problems    []string         // everything wrong, each naming the events concerned
}

// Err is nil when nothing is wrong, else a *TamperError listing it all.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return &TamperError{Problems: r.Problems}
}

// TamperError lists what Check found wrong with the log.
type TamperError struct{ Problems []string }

func (e *TamperError) Error() string {
	return "audit: the log does not verify:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// maxListed bounds the events listed per kind of fault, so a log of a
// million forged rows yields a readable report.
const maxListed = 20

// memTree holds the tree recomputed from the events, in stored-hash order.
type memTree []tlog.Hash

func (m *memTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= int64(len(*m)) {
			return nil, fmt.Errorf("audit: tree hash %d not computed", idx)
		}
		out[i] = (*m)[idx]
	}
	return out, nil
}

func (m *memTree) add(n int64, h tlog.Hash) error {
	hashes, err := tlog.StoredHashesForRecordHash(n, h, m)
	if err != nil {
		return err
	}
	*m = append(*m, hashes...)
	return nil
}

// seqRange is an inclusive range of leaf indexes.
type seqRange struct{ from, to int64 }

// sigJob is one signature to check off the reading goroutine.
type sigJob struct {
	pos int
	e   Event
}

// sigResult is a signature found wrong, by leaf position.
type sigResult struct {
	pos     int
	problem string
}

// logCheck is one run of Check: what reading the log found, then the
// problems each later step adds to the report.
type logCheck struct {
	opts CheckOptions
	r    *Report

	tree     memTree
	ids      []int64 // event id by leaf position
	seqs     []int64 // leaf index as stored, by position
	gaps     []seqRange
	repeated []string
	unsigned []int // positions of unsigned events after the first signed one
	replays  []string
	embedded []*Checkpoint
	lastSeq  int64
	sigBad   []sigResult
	sigGood  []int

	gapsOK       bool
	firstBadSig  int // position of the first event with a bad or missing signature
	firstAltered int // position of the first event that differs from its stored leaf hash
}

// Check verifies the whole log: the chain (in leaf order), every
// signature and nonce when opts.Verifier is set, the stored tree against
// the tree recomputed from the events themselves, and the log against
// every checkpoint it is given or holds. The error is only for failing to
// read; what is wrong with the log is in Report.Problems.
func Check(ctx context.Context, db store.Querier, opts CheckOptions) (*Report, error) {
	c := &logCheck{opts: opts, r: &Report{FirstSigned: -1}, lastSeq: -1, firstBadSig: -1, firstAltered: -1}
	if err := c.read(ctx, db); err != nil {
		return nil, err
	}
	if err := c.structure(ctx, db); err != nil {
		return nil, err
	}
	c.signatures()
	c.r.Problems = appendListed(c.r.Problems, c.replays)
	if err := c.storedTree(ctx, db); err != nil {
		return nil, err
	}
	if err := c.checkpoints(); err != nil {
		return nil, err
	}
	return c.r, nil
}

// read streams the events in leaf order once: the chain, the recomputed
// tree, nonces, the checkpoints the log holds, and (on every core, while
// the rows stream in) the signatures.
func (c *logCheck) read(ctx context.Context, db store.Querier) error {
	r, opts := c.r, c.opts
	rows, err := db.Query(ctx, `SELECT `+eventColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()

	jobs := make(chan sigJob, 256)
	var (
		sigMu sync.Mutex
		wg    sync.WaitGroup
	)
	if opts.Verifier != nil {
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				var bad []sigResult
				var good []int
				for j := range jobs {
					if p := checkSig(opts.Verifier, j.e); p != "" {
						bad = append(bad, sigResult{j.pos, p})
					} else {
						good = append(good, j.pos)
					}
				}
				sigMu.Lock()
				c.sigBad, c.sigGood = append(c.sigBad, bad...), append(c.sigGood, good...)
				sigMu.Unlock()
			})
		}
	}
	stopWorkers := sync.OnceFunc(func() { close(jobs); wg.Wait() })
	defer stopWorkers()

	var (
		sigSeen   bool
		nonces    = map[[16]byte]int{}
		prev      = genesis
		intactEnd = false
	)
	pos := 0
	for rows.Next() {
		e, at, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("audit: verify: %w", err)
		}
		if e.Seq > c.lastSeq+1 {
			c.gaps = append(c.gaps, seqRange{c.lastSeq + 1, e.Seq - 1})
		}
		if e.Seq <= c.lastSeq {
			c.repeated = append(c.repeated, fmt.Sprintf("event %d repeats leaf index %d (it was inserted around Kompas)", e.ID, e.Seq))
		}
		c.lastSeq = max(c.lastSeq, e.Seq)
		if !intactEnd {
			reason := ""
			switch {
			case e.At.IsZero():
				reason = "unreadable time " + strconv.Quote(at)
			case e.Seq > int64(pos):
				reason = fmt.Sprintf("leaf index %d, expected %d: the events before it were removed", e.Seq, pos)
			case e.Seq < int64(pos):
				reason = fmt.Sprintf("repeats leaf index %d (it was inserted around Kompas)", e.Seq)
			case e.PrevHash != prev:
				reason = "previous hash does not match the event before it (an event was removed or reordered)"
			case e.computeHash() != e.Hash:
				reason = "hash does not match the event's content (the event was altered)"
			}
			if reason != "" {
				r.Broken = &BrokenLinkError{ID: e.ID, Seq: e.Seq, Reason: reason}
				intactEnd = true
			} else {
				r.Intact++
			}
		}
		prev = e.Hash
		if err := c.tree.add(int64(pos), tlog.RecordHash(leafData(e, at))); err != nil {
			return fmt.Errorf("audit: verify: %w", err)
		}
		c.ids = append(c.ids, e.ID)
		c.seqs = append(c.seqs, e.Seq)

		if e.Nonce != "" {
			var key [16]byte
			if b, err := hex.DecodeString(e.Nonce); err != nil || len(b) != len(key) {
				c.replays = append(c.replays, fmt.Sprintf("event %d (seq %d) has an unreadable nonce", e.ID, e.Seq))
			} else {
				copy(key[:], b)
				if first, dup := nonces[key]; dup {
					c.replays = append(c.replays, fmt.Sprintf("event %d (seq %d) repeats the nonce of event %d (seq %d): a replayed copy", e.ID, e.Seq, c.ids[first], c.seqs[first]))
				} else {
					nonces[key] = pos
				}
			}
		}
		if opts.Verifier != nil {
			if e.Sig != "" {
				sigSeen = true
				select {
				case jobs <- sigJob{pos, e}:
				case <-ctx.Done():
					return ctx.Err()
				}
			} else if sigSeen {
				c.unsigned = append(c.unsigned, pos)
			}
			if e.ObjectType == ObjectCheckpoint && e.Action == ActionCheckpoint {
				if cp, err := ParseCheckpoint([]byte(e.Detail), opts.Verifier); err == nil && cp.Size <= int64(pos) {
					c.embedded = append(c.embedded, cp)
				}
			}
		}
		pos++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: verify: %w", err)
	}
	rows.Close()
	stopWorkers()
	r.Events = pos
	r.Size = int64(pos)
	if r.Root, err = tlog.TreeHash(r.Size, &c.tree); err != nil {
		return fmt.Errorf("audit: verify: %w", err)
	}
	return nil
}

// name is how the report names the event at leaf position p.
func (c *logCheck) name(p int) string { return fmt.Sprintf("event %d (seq %d)", c.ids[p], c.seqs[p]) }

// structure reports the broken link, repeated and missing leaf indexes,
// and rows without one (not written by Append).
func (c *logCheck) structure(ctx context.Context, db store.Querier) error {
	r := c.r
	orphans, err := orphanRows(ctx, db)
	if err != nil {
		return err
	}
	r.Events += len(orphans)
	if len(orphans) > 0 && r.Broken == nil {
		r.Broken = &BrokenLinkError{ID: orphans[0], Seq: -1, Reason: "it has no leaf index (it was inserted around Kompas)"}
	}
	if r.Broken != nil {
		r.Problems = append(r.Problems, r.Broken.Error()[len("audit: "):])
	}
	r.Problems = appendListed(r.Problems, c.repeated)
	for i, id := range orphans {
		if i == maxListed {
			r.Problems = append(r.Problems, fmt.Sprintf("and %d more events without a leaf index", len(orphans)-maxListed))
			break
		}
		r.Problems = append(r.Problems, fmt.Sprintf("event %d has no leaf index (it was inserted around Kompas)", id))
	}
	c.gapsOK = len(c.gaps) == 0 && len(c.repeated) == 0
	for _, g := range c.gaps {
		r.Problems = append(r.Problems, fmt.Sprintf("events %d..%d are missing (removed from the middle of the log)", g.from, g.to))
	}
	return nil
}

// signatures reports every event from the first validly signed one on
// whose signature is bad or missing.
func (c *logCheck) signatures() {
	if c.opts.Verifier == nil {
		return
	}
	r := c.r
	slices.Sort(c.sigGood)
	slices.SortFunc(c.sigBad, func(a, b sigResult) int { return a.pos - b.pos })
	r.Signed = len(c.sigGood)
	first := -1
	if len(c.sigGood) > 0 {
		first = c.sigGood[0]
		r.FirstSigned = c.seqs[first]
	}
	faults := append([]sigResult(nil), c.sigBad...)
	for i := range faults {
		faults[i].problem = c.name(faults[i].pos) + " " + faults[i].problem
	}
	for _, p := range c.unsigned {
		if first >= 0 && p > first {
			faults = append(faults, sigResult{p, c.name(p) + " has no signature (every event after the first signed one must have one: it was not written by Kompas)"})
		}
	}
	slices.SortFunc(faults, func(a, b sigResult) int { return a.pos - b.pos })
	var problems []string
	for _, f := range faults {
		problems = append(problems, f.problem)
	}
	if len(faults) > 0 {
		c.firstBadSig = faults[0].pos
	}
	r.Problems = appendListed(r.Problems, problems)
}

// storedTree compares the tree Kompas stored (as it synced) with the one
// recomputed from the events.
func (c *logCheck) storedTree(ctx context.Context, db store.Querier) error {
	r := c.r
	storedSize, firstStoredDiff, err := compareStored(ctx, db, c.tree)
	if err != nil {
		return err
	}
	if storedSize > r.Size {
		r.Problems = append(r.Problems, fmt.Sprintf("the tree Kompas stored covers %d events but the log holds %d: %s",
			storedSize, r.Size, describeMissing(missingBelow(c.gaps, c.lastSeq, storedSize), c.lastSeq)))
	}
	if c.gapsOK && firstStoredDiff >= 0 {
		if level, n := tlog.SplitStoredHashIndex(firstStoredDiff); level == 0 {
			c.firstAltered = int(n)
			r.Problems = append(r.Problems, c.name(c.firstAltered)+" no longer matches the tree hash stored when it was added (it was altered afterwards)")
		} else {
			r.Problems = append(r.Problems, fmt.Sprintf("stored tree hash %d (level %d, node %d) differs from the tree recomputed from the events", firstStoredDiff, level, n))
		}
	}
	return nil
}

// checkpoints holds the log to the given checkpoint, which must be
// covered; the others (and those in the log) narrow down where an altered
// event is, and are evidence too. (The recomputed tree, ids and nonces
// held meanwhile come to about 120 bytes an event.)
func (c *logCheck) checkpoints() error {
	r, opts := c.r, c.opts
	var all []judged
	seen := map[string]bool{}
	for _, cp := range append(append([]*Checkpoint{opts.Checkpoint}, opts.Others...), c.embedded...) {
		if cp == nil || seen[cp.key()] {
			continue
		}
		seen[cp.key()] = true
		j := judged{c: cp, missing: missingBelow(c.gaps, c.lastSeq, cp.Size)}
		if len(j.missing) == 0 && c.gapsOK {
			root, err := tlog.TreeHash(cp.Size, &c.tree)
			if err != nil {
				return fmt.Errorf("audit: verify: %w", err)
			}
			j.match = root == cp.Root
		}
		all = append(all, j)
	}
	slices.SortFunc(all, func(a, b judged) int { return int(a.c.Size - b.c.Size) })
	givenFailed := false
	for _, j := range all {
		if opts.Checkpoint != nil && j.c.key() == opts.Checkpoint.key() {
			if j.match {
				r.Checkpoint = opts.Checkpoint
			} else {
				givenFailed = true
				r.Problems = append(r.Problems, c.explain(all, j, "the checkpoint"))
			}
		}
	}
	if !givenFailed {
		// The smallest failing checkpoint says it; larger ones fail for the
		// same reason. (Gaps are reported above already.)
		for _, j := range all {
			if !j.match && (c.gapsOK || len(j.missing) > 0 && j.c.Size > c.lastSeq+1) {
				r.Problems = append(r.Problems, c.explain(all, j, "the signed checkpoint"))
				break
			}
		}
	}
	return nil
}

// explain says why the log fails checkpoint j (what names it).
func (c *logCheck) explain(all []judged, j judged, what string) string {
	if len(j.missing) > 0 {
		return fmt.Sprintf("%s of size %d covers events the log no longer holds: %s", what, j.c.Size, describeMissing(j.missing, c.lastSeq))
	}
	return fmt.Sprintf("the log's first %d events do not hash to the root of %s of size %d: %s", j.c.Size, what, j.c.Size, c.why(all, j.c.Size))
}

// why explains a mismatch below size, the most precise reason first.
func (c *logCheck) why(all []judged, size int64) string {
	r := c.r
	switch {
	case c.firstAltered >= 0 && int64(c.firstAltered) < size:
		return c.name(c.firstAltered) + " was altered (it no longer matches the tree hash stored for it)"
	case r.Broken != nil && r.Broken.Seq >= 0 && r.Broken.Seq < size:
		return fmt.Sprintf("the chain breaks at event %d (seq %d)", r.Broken.ID, r.Broken.Seq)
	case c.firstBadSig >= 0 && int64(c.firstBadSig) < size:
		return c.name(c.firstBadSig) + " does not carry a valid signature"
	}
	return c.narrow(all, size)
}

// narrow names the range between the largest matching checkpoint below
// size and the smallest failing one above that.
func (c *logCheck) narrow(all []judged, size int64) string {
	good := int64(0)
	for _, j := range all {
		if j.match && j.c.Size < size {
			good = max(good, j.c.Size)
		}
	}
	bad := size
	for _, j := range all {
		if !j.match && len(j.missing) == 0 && j.c.Size > good {
			bad = min(bad, j.c.Size)
		}
	}
	msg := fmt.Sprintf("an event in seq %d..%d (ids %d..%d) was altered or replaced", good, bad-1, c.ids[good], c.ids[bad-1])
	if good > 0 {
		msg += fmt.Sprintf(" (the log matches the checkpoint of size %d, not the one of size %d)", good, bad)
	}
	return msg
}

// judged is a checkpoint and how the log fares against it.
type judged struct {
	c       *Checkpoint
	match   bool
	missing []seqRange // leaf indexes it covers that the log lacks
}

func (c *Checkpoint) key() string { return strconv.FormatInt(c.Size, 10) + " " + c.Root.String() }

// appendListed adds at most maxListed of list to problems.
func appendListed(problems, list []string) []string {
	for i, p := range list {
		if i == maxListed {
			return append(problems, fmt.Sprintf("and %d more like it", len(list)-maxListed))
		}
		problems = append(problems, p)
	}
	return problems
}

// missingBelow lists the leaf indexes under size the log lacks: the gaps,
// and the tail after the last event.
func missingBelow(gaps []seqRange, lastSeq, size int64) []seqRange {
	var out []seqRange
	for _, g := range gaps {
		if g.from < size {
			out = append(out, seqRange{g.from, min(g.to, size-1)})
		}
	}
	if lastSeq+1 < size {
		out = append(out, seqRange{lastSeq + 1, size - 1})
	}
	return out
}

// describeMissing words missing ranges; one past the last event the log
// holds (lastSeq) is a cut tail.
func describeMissing(missing []seqRange, lastSeq int64) string {
	var parts []string
	for _, m := range missing {
		s := fmt.Sprintf("events %d..%d are missing", m.from, m.to)
		if m.from > lastSeq {
			s += " (the log was cut)"
		} else {
			s += " (removed from the middle of the log)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// orphanRows lists events without a leaf index.
func orphanRows(ctx context.Context, db store.Querier) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT id FROM audit_events WHERE seq IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("audit: verify: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// compareStored reads audit_tree in index order against the recomputed
// tree: it returns the number of leaves the stored tree covers and the
// first stored index whose hash differs (-1 when none does).
func compareStored(ctx context.Context, db store.Querier, tree memTree) (int64, int64, error) {
	rows, err := db.Query(ctx, `SELECT idx, hash FROM audit_tree ORDER BY idx`)
	if err != nil {
		return 0, 0, fmt.Errorf("audit: verify: read tree: %w", err)
	}
	defer rows.Close()
	top, firstDiff := int64(-1), int64(-1)
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return 0, 0, fmt.Errorf("audit: verify: read tree: %w", err)
		}
		top = max(top, idx)
		if firstDiff < 0 && idx < int64(len(tree)) && (len(h) != tlog.HashSize || tlog.Hash(h) != tree[idx]) {
			firstDiff = idx
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("audit: verify: read tree: %w", err)
	}
	if top < 0 {
		return 0, firstDiff, nil
	}
	level, n := tlog.SplitStoredHashIndex(top)
	return (n + 1) << level, firstDiff, nil
}
