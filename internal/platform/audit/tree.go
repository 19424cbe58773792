package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
)

// treeLock serialises Sync and checkpoint signing across nodes on
// PostgreSQL (appends take chainLock, never this one, so they do not wait).
const treeLock = chainLock + 1

// syncChunk bounds the leaves one Sync transaction adds: SQLite has one
// writer, and a long catch-up must not hold it for seconds.
const syncChunk = 4096

// LeafData is the record the Merkle tree hashes for e (the leaf hash is
// tlog.RecordHash(LeafData(e))): every stored field, each length-prefixed,
// including seq, the chain hash, the nonce and the signature.
func LeafData(e Event) []byte { return leafData(e, store.FormatTime(e.At)) }

// leafData encodes e with its time as stored, so a row whose time was
// made unreadable still hashes as what it is.
func leafData(e Event, at string) []byte {
	b := make([]byte, 0, 320+len(e.Detail))
	b = append(b, "kompas audit leaf v1\x00"...)
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.ID, 10), at, strconv.FormatInt(e.ActorID, 10), e.Actor, e.Org,
		e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail, e.PrevHash, e.Hash, e.Nonce, e.Sig,
	} {
		b = appendField(b, f)
	}
	return b
}

// hashReader reads stored tree hashes from q, many indexes per query.
func hashReader(ctx context.Context, q store.Querier) tlog.HashReaderFunc {
	return func(indexes []int64) ([]tlog.Hash, error) {
		found, err := readHashes(ctx, q, indexes)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			h, ok := found[idx]
			if !ok {
				return nil, fmt.Errorf("audit: tree hash %d is not stored (run Sync)", idx)
			}
			out[i] = h
		}
		return out, nil
	}
}

// readHashes returns the stored hashes among indexes (missing ones are
// absent from the map).
func readHashes(ctx context.Context, q store.Querier, indexes []int64) (map[int64]tlog.Hash, error) {
	found := make(map[int64]tlog.Hash, len(indexes))
	const batch = 500
	for start := 0; start < len(indexes); start += batch {
		part := indexes[start:min(start+batch, len(indexes))]
		args := make([]any, len(part))
		for i, idx := range part {
			args[i] = idx
		}
		rows, err := q.Query(ctx, `SELECT idx, hash FROM audit_tree WHERE idx IN (?`+strings.Repeat(", ?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("audit: read tree: %w", err)
		}
		for rows.Next() {
			var idx int64
			var b []byte
			if err := rows.Scan(&idx, &b); err != nil {
				rows.Close()
				return nil, fmt.Errorf("audit: read tree: %w", err)
			}
			if len(b) != tlog.HashSize {
				rows.Close()
				return nil, fmt.Errorf("audit: tree hash %d has %d bytes", idx, len(b))
			}
			found[idx] = tlog.Hash(b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("audit: read tree: %w", err)
		}
	}
	return found, nil
}

// treeSize is the number of leaves whose stored hashes are in audit_tree.
// The last hash stored for leaf n is the root of the largest complete
// subtree ending at n, so the highest index names the size.
func treeSize(ctx context.Context, q store.Querier) (int64, error) {
	var top sql.NullInt64
	if err := q.QueryRow(ctx, `SELECT MAX(idx) FROM audit_tree`).Scan(&top); err != nil {
		return 0, fmt.Errorf("audit: tree size: %w", err)
	}
	if !top.Valid {
		return 0, nil
	}
	level, n := tlog.SplitStoredHashIndex(top.Int64)
	return (n + 1) << level, nil
}

// Sync adds the stored tree hashes of every event appended since the last
// Sync and returns the tree's size. It runs lazily (the checkpointer and
// the proof endpoint call it), so Append stays as cheap as a plain insert.
// It refuses to extend the tree over a gap in seq or a broken chain link.
func Sync(ctx context.Context, db *store.DB) (int64, error) {
	for {
		var size int64
		added := 0
		err := db.Transact(ctx, func(tx *store.Tx) error {
			if tx.Dialect() == store.Postgres {
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, treeLock); err != nil {
					return fmt.Errorf("audit: sync: lock tree: %w", err)
				}
			}
			var err error
			if size, err = treeSize(ctx, tx); err != nil {
				return err
			}
			var n int
			n, err = syncChunkTx(ctx, tx, size)
			size += int64(n)
			added = n
			return err
		})
		if err != nil {
			return 0, err
		}
		if added < syncChunk {
			return size, nil
		}
	}
}

// syncChunkTx stores the hashes of up to syncChunk leaves from size on.
func syncChunkTx(ctx context.Context, tx *store.Tx, size int64) (int, error) {
	rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT `+strconv.Itoa(syncChunk), size)
	if err != nil {
		return 0, fmt.Errorf("audit: sync: %w", err)
	}
	type leaf struct {
		e  Event
		at string
	}
	var leaves []leaf
	for rows.Next() {
		e, at, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("audit: sync: %w", err)
		}
		leaves = append(leaves, leaf{e, at})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("audit: sync: %w", err)
	}
	if len(leaves) == 0 {
		return 0, nil
	}
	prev := genesis
	if size > 0 {
		if err := tx.QueryRow(ctx, `SELECT hash FROM audit_events WHERE seq = ?`, size-1).Scan(&prev); err != nil {
			return 0, fmt.Errorf("audit: sync: read event %d: %w", size-1, err)
		}
	}
	// pending holds the new hashes and those read back from the database
	// for them; order lists only the new ones, to be inserted.
	pending := map[int64]tlog.Hash{}
	var order []int64
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		var missing []int64
		for _, idx := range indexes {
			if _, ok := pending[idx]; !ok {
				missing = append(missing, idx)
			}
		}
		if len(missing) > 0 {
			found, err := readHashes(ctx, tx, missing)
			if err != nil {
				return nil, err
			}
			for idx, h := range found {
				pending[idx] = h
			}
		}
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			h, ok := pending[idx]
			if !ok {
				return nil, fmt.Errorf("audit: sync: tree hash %d is missing", idx)
			}
			out[i] = h
		}
		return out, nil
	})
	for i, l := range leaves {
		n := size + int64(i)
		if l.e.Seq != n {
			return 0, fmt.Errorf("audit: sync: event %d has leaf index %d, want %d (events are missing or were renumbered)", l.e.ID, l.e.Seq, n)
		}
		if l.e.PrevHash != prev || l.e.computeHash() != l.e.Hash {
			return 0, fmt.Errorf("audit: sync: the chain is broken at event %d (seq %d); run kompas audit verify", l.e.ID, n)
		}
		prev = l.e.Hash
		hashes, err := tlog.StoredHashes(n, leafData(l.e, l.at), reader)
		if err != nil {
			return 0, fmt.Errorf("audit: sync: %w", err)
		}
		base := tlog.StoredHashIndex(0, n)
		for k, h := range hashes {
			idx := base + int64(k)
			pending[idx] = h
			order = append(order, idx)
		}
	}
	if err := insertHashes(ctx, tx, order, pending); err != nil {
		return 0, err
	}
	return len(leaves), nil
}

// insertHashes writes the new stored hashes, many rows per statement.
func insertHashes(ctx context.Context, tx *store.Tx, order []int64, hashes map[int64]tlog.Hash) error {
	const batch = 500
	for start := 0; start < len(order); start += batch {
		part := order[start:min(start+batch, len(order))]
		args := make([]any, 0, 2*len(part))
		for _, idx := range part {
			h := hashes[idx]
			args = append(args, idx, h[:])
		}
		q := `INSERT INTO audit_tree (idx, hash) VALUES (?, ?)` + strings.Repeat(", (?, ?)", len(part)-1)
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("audit: sync: store tree: %w", err)
		}
	}
	return nil
}

// Proof is an inclusion proof: the event with EventID is leaf Index of the
// tree of Size leaves whose root is Root. A client checks it with
// tlog.CheckRecord(Hashes, Size, Root, Index, tlog.RecordHash(Leaf)).
type Proof struct {
	EventID int64
	Index   int64
	Size    int64
	Root    tlog.Hash
	Leaf    []byte
	Hashes  tlog.RecordProof
}

// LeafIndex is event id's seq; an unknown id is fault.ErrNotFound.
func LeafIndex(ctx context.Context, q store.Querier, id int64) (int64, error) {
	var seq sql.NullInt64
	err := q.QueryRow(ctx, `SELECT seq FROM audit_events WHERE id = ?`, id).Scan(&seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("audit: event %d: %w", id, fault.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("audit: event %d: %w", id, err)
	case !seq.Valid:
		return 0, fmt.Errorf("audit: event %d has no leaf index (it was inserted around Kompas)", id)
	}
	return seq.Int64, nil
}

// Prove syncs the tree and proves that event id is in the tree of size
// leaves. size must be greater than the event's leaf index and at most the
// tree's size (a field error otherwise); an unknown id is fault.ErrNotFound.
func Prove(ctx context.Context, db *store.DB, id, size int64) (*Proof, error) {
	synced, err := Sync(ctx, db)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT `+eventColumns+` FROM audit_events WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("audit: prove: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("audit: prove: %w", err)
		}
		return nil, fmt.Errorf("audit: event %d: %w", id, fault.ErrNotFound)
	}
	e, at, err := scanEvent(rows)
	if err != nil {
		return nil, fmt.Errorf("audit: prove: %w", err)
	}
	rows.Close()
	if e.Seq < 0 || e.Seq >= synced {
		return nil, fmt.Errorf("audit: event %d is not in the tree (seq %d, tree size %d)", id, e.Seq, synced)
	}
	if size <= e.Seq || size > synced {
		return nil, fault.Invalid(fault.FieldError{Field: "size", Message: fmt.Sprintf("must be from %d (after event %d's leaf index %d) to %d (the tree's size)", e.Seq+1, id, e.Seq, synced)})
	}
	r := hashReader(ctx, db)
	p := &Proof{EventID: id, Index: e.Seq, Size: size, Leaf: leafData(e, at)}
	if p.Root, err = tlog.TreeHash(size, r); err != nil {
		return nil, fmt.Errorf("audit: prove: %w", err)
	}
	if p.Hashes, err = tlog.ProveRecord(size, e.Seq, r); err != nil {
		return nil, fmt.Errorf("audit: prove: %w", err)
	}
	// The proof is made from stored hashes; check it against the event as
	// it is now, so an event altered after it was stored is not vouched for.
	if err := tlog.CheckRecord(p.Hashes, size, p.Root, e.Seq, tlog.RecordHash(p.Leaf)); err != nil {
		return nil, fmt.Errorf("audit: event %d no longer matches its stored tree hash: %w", id, err)
	}
	return p, nil
}

// errEmptyLog: nothing to checkpoint yet.
var errEmptyLog = errors.New("audit: the log is empty")
