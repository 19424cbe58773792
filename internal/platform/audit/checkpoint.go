package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"kompas/internal/platform/store"
)

// Checkpoint actions and object type: the checkpointer writes each signed
// checkpoint into the log too.
const (
	ActionCheckpoint     = "audit-checkpoint"
	ObjectCheckpoint     = "audit_checkpoint"
	checkpointFilePrefix = "checkpoint-"
	latestFile           = "latest"
)

// Checkpoint is a signed statement of the tree's size and root: a signed
// note whose text is "<origin>\n<size>\n<base64 root>\n" (C2SP
// tlog-checkpoint).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Note   []byte // the signed note, as written and served
}

// Origin is the first line of the checkpoints signed by the key named
// keyName.
func Origin(keyName string) string { return "kompas audit log " + keyName }

// ParseCheckpoint opens a signed checkpoint, checking its signature with v
// and that its origin is v's.
func ParseCheckpoint(msg []byte, v note.Verifier) (*Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return nil, fmt.Errorf("audit: checkpoint is not signed by %s+%08x", v.Name(), v.KeyHash())
		}
		return nil, fmt.Errorf("audit: checkpoint: %w", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return nil, errors.New("audit: checkpoint: want origin, size and root lines")
	}
	c := &Checkpoint{Origin: lines[0], Note: msg}
	if c.Origin != Origin(v.Name()) {
		return nil, fmt.Errorf("audit: checkpoint: origin %q, want %q", c.Origin, Origin(v.Name()))
	}
	if c.Size, err = strconv.ParseInt(lines[1], 10, 64); err != nil || c.Size < 0 || strconv.FormatInt(c.Size, 10) != lines[1] {
		return nil, fmt.Errorf("audit: checkpoint: bad size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return nil, fmt.Errorf("audit: checkpoint: bad root %q", lines[2])
	}
	c.Root = tlog.Hash(root)
	return c, nil
}

// signCheckpoint makes the signed note for a tree of size with root.
func signCheckpoint(k *Key, size int64, root tlog.Hash) (*Checkpoint, error) {
	c := &Checkpoint{Origin: Origin(k.Name()), Size: size, Root: root}
	text := fmt.Sprintf("%s\n%d\n%s\n", c.Origin, size, base64.StdEncoding.EncodeToString(root[:]))
	msg, err := note.Sign(&note.Note{Text: text}, k.signer)
	if err != nil {
		return nil, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	c.Note = msg
	return c, nil
}

// Latest returns the newest checkpoint in the log that v's signature
// holds on (events that do not verify are skipped: anyone who can write
// the database can add rows, not sign them), or nil when there is none.
func Latest(ctx context.Context, q store.Querier, v note.Verifier) (*Checkpoint, error) {
	// object_id is the size, zero-padded, so the (object_type, object_id)
	// index yields the newest first without a sort.
	rows, err := q.Query(ctx, `SELECT detail FROM audit_events WHERE object_type = ? AND action = ? ORDER BY object_id DESC`, ObjectCheckpoint, ActionCheckpoint)
	if err != nil {
		return nil, fmt.Errorf("audit: latest checkpoint: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var detail string
		if err := rows.Scan(&detail); err != nil {
			return nil, fmt.Errorf("audit: latest checkpoint: %w", err)
		}
		if c, err := ParseCheckpoint([]byte(detail), v); err == nil {
			return c, nil
		}
	}
	return nil, rows.Err()
}

// Checkpointer signs checkpoints: at most once every Every (a minute by
// default) when the log grew, and whenever Checkpoint is called. Each one
// is appended to the log as an audit-checkpoint event and, when Dir is set,
// written there as checkpoint-<size>.txt and latest, for a copy outside the
// database. Several nodes may each run one: checkpoints of one size carry
// the same root, and signing is serialised by a lock.
type Checkpointer struct {
	DB    *store.DB
	Key   *Key
	Dir   string // "" writes no files
	Log   *slog.Logger
	Every time.Duration

	mu sync.Mutex // one checkpoint at a time in this process
}

// Run checkpoints at start and then every c.Every until ctx ends. (The
// server signs a last one after it stops serving, with Checkpoint, so the
// final events are covered too.)
func (c *Checkpointer) Run(ctx context.Context) {
	every := c.Every
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := int64(-1)
	for {
		last = c.logged(ctx, last)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// logged checkpoints and logs the outcome; a new checkpoint (one larger
// than last) at info level, failures as errors.
func (c *Checkpointer) logged(ctx context.Context, last int64) int64 {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	cp, err := c.Checkpoint(ctx)
	switch {
	case errors.Is(err, errEmptyLog):
	case err != nil:
		if ctx.Err() == nil {
			log.Error("audit checkpoint failed", "err", err)
		}
	case cp.Size != last:
		log.Info("audit checkpoint", "size", cp.Size, "root", cp.Root.String())
		return cp.Size
	}
	return last
}

// Checkpoint signs a checkpoint of the whole log now, unless the log has
// not grown since the latest one (checkpoint events aside), in which case
// it returns that one. It refuses to sign when the stored tree no longer
// agrees with the latest checkpoint (in the log or in Dir): the database
// was altered, and signing would cover it up.
func (c *Checkpointer) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := Sync(ctx, c.DB); err != nil {
		return nil, err
	}
	v := c.Key.Verifier()
	var cp *Checkpoint
	err := c.DB.Transact(ctx, func(tx *store.Tx) error {
		if tx.Dialect() == store.Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, treeLock); err != nil {
				return fmt.Errorf("audit: checkpoint: lock tree: %w", err)
			}
		}
		size, err := treeSize(ctx, tx)
		if err != nil {
			return err
		}
		prev, err := Latest(ctx, tx, v)
		if err != nil {
			return err
		}
		earlier := []*Checkpoint{prev}
		if c.Dir != "" {
			if b, err := os.ReadFile(filepath.Join(c.Dir, latestFile)); err == nil {
				f, err := ParseCheckpoint(b, v)
				if err != nil {
					return fmt.Errorf("audit: checkpoint: %s: %w", filepath.Join(c.Dir, latestFile), err)
				}
				earlier = append(earlier, f)
			}
		}
		r := hashReader(ctx, tx)
		for _, e := range earlier {
			if e == nil {
				continue
			}
			if e.Size > size {
				return fmt.Errorf("audit: checkpoint: the tree has %d leaves but checkpoint %d covered more: the log was cut; refusing to sign", size, e.Size)
			}
			root, err := tlog.TreeHash(e.Size, r)
			if err != nil {
				return fmt.Errorf("audit: checkpoint: %w", err)
			}
			if root != e.Root {
				return fmt.Errorf("audit: checkpoint: the stored tree no longer matches checkpoint %d: the log was altered; refusing to sign", e.Size)
			}
		}
		if prev != nil {
			var grown int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM audit_events WHERE seq >= ? AND seq < ? AND object_type <> ?`, prev.Size, size, ObjectCheckpoint).Scan(&grown); err != nil {
				return fmt.Errorf("audit: checkpoint: %w", err)
			}
			if grown == 0 {
				cp = prev
				return nil
			}
		}
		if size == 0 {
			return errEmptyLog
		}
		root, err := tlog.TreeHash(size, r)
		if err != nil {
			return fmt.Errorf("audit: checkpoint: %w", err)
		}
		if cp, err = signCheckpoint(c.Key, size, root); err != nil {
			return err
		}
		return appendEvent(ctx, tx, Event{Actor: "kompas", Action: ActionCheckpoint, ObjectType: ObjectCheckpoint,
			ObjectID: fmt.Sprintf("%012d", size), Purpose: "tamper evidence", Detail: string(cp.Note)}, c.Key)
	})
	if err != nil {
		return nil, err
	}
	if c.Dir != "" {
		if err := WriteCheckpoint(c.Dir, cp); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

// WriteCheckpoint writes cp to dir as checkpoint-<size>.txt and, unless a
// larger one is there already, as latest. Each file is written to a
// temporary name and renamed, so a reader (or another node writing the
// same folder) never sees half a file.
func WriteCheckpoint(dir string, cp *Checkpoint) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("audit: checkpoint folder: %w", err)
	}
	name := fmt.Sprintf("%s%d.txt", checkpointFilePrefix, cp.Size)
	if old, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(old, cp.Note) {
		if err := writeAtomic(dir, name, cp.Note); err != nil {
			return err
		}
	}
	if old, err := os.ReadFile(filepath.Join(dir, latestFile)); err == nil {
		if lines := strings.SplitN(string(old), "\n", 3); len(lines) == 3 {
			if n, err := strconv.ParseInt(lines[1], 10, 64); err == nil && n >= cp.Size {
				return nil
			}
		}
	}
	return writeAtomic(dir, latestFile, cp.Note)
}

func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("audit: write checkpoint: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("audit: write checkpoint %s: %w", name, err)
	}
	return nil
}

// ReadCheckpoints opens every checkpoint-*.txt and latest file in dir that
// v's signature holds on; those that do not are returned as problems.
func ReadCheckpoints(dir string, v note.Verifier) ([]*Checkpoint, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: checkpoints: %w", err)
	}
	var out []*Checkpoint
	var bad []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(name == latestFile || strings.HasPrefix(name, checkpointFilePrefix) && strings.HasSuffix(name, ".txt")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, fmt.Errorf("audit: checkpoints: %w", err)
		}
		c, err := ParseCheckpoint(b, v)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		out = append(out, c)
	}
	return out, bad, nil
}
