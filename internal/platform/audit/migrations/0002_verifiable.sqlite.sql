-- The verifiable log: every event gets a dense leaf index (seq, 0-based,
-- assigned under the chain lock), an optional per-event nonce and Ed25519
-- signature, and audit_tree keeps the Merkle tree's stored hashes
-- (tlog.StoredHashIndex order), filled lazily by audit.Sync.
--
-- SQLite cannot add a NOT NULL column, so the table is rebuilt, existing
-- events getting their seq in id order. id stays the rowid but without
-- AUTOINCREMENT: rows are never deleted, so ids are assigned as before,
-- and an append writes the seq index page instead of sqlite_sequence's
-- (keeping a commit at the pages it wrote before).
CREATE TABLE audit_events_v2 (
	id INTEGER PRIMARY KEY,
	seq INTEGER NOT NULL,
	at TEXT NOT NULL,
	actor_id INTEGER,
	actor TEXT NOT NULL,
	org TEXT NOT NULL,
	action TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id TEXT NOT NULL,
	purpose TEXT NOT NULL,
	detail TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	nonce TEXT,
	sig TEXT
);
INSERT INTO audit_events_v2 (id, seq, at, actor_id, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash)
SELECT id, row_number() OVER (ORDER BY id) - 1, at, actor_id, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash
FROM audit_events ORDER BY id;
DROP TABLE audit_events;
ALTER TABLE audit_events_v2 RENAME TO audit_events;
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TABLE audit_tree (
	idx INTEGER PRIMARY KEY,
	hash BLOB NOT NULL
);
CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only'); END;
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only'); END;
