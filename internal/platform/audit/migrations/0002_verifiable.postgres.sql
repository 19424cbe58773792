-- The verifiable log: every event gets a dense leaf index (seq, 0-based,
-- assigned under the chain lock; identity ids have gaps after rollbacks),
-- an optional per-event nonce and Ed25519 signature, and audit_tree keeps
-- the Merkle tree's stored hashes (tlog.StoredHashIndex order), filled
-- lazily by audit.Sync.
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN nonce TEXT;
ALTER TABLE audit_events ADD COLUMN sig TEXT;
-- Existing events get their leaf index in id order; the guard is lifted
-- for this statement only (ALTER TABLE holds the table exclusively until
-- the migration commits).
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change;
UPDATE audit_events SET seq = n.seq
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS seq FROM audit_events) AS n
WHERE audit_events.id = n.id;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change;
ALTER TABLE audit_events ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
-- Row triggers do not fire on TRUNCATE; a statement trigger refuses it.
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
CREATE TABLE audit_tree (
	idx BIGINT PRIMARY KEY,
	hash BYTEA NOT NULL
);
CREATE FUNCTION audit_tree_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_tree is append-only'; END $$;
CREATE TRIGGER audit_tree_no_change BEFORE UPDATE OR DELETE ON audit_tree
FOR EACH ROW EXECUTE FUNCTION audit_tree_append_only();
CREATE TRIGGER audit_tree_no_truncate BEFORE TRUNCATE ON audit_tree
FOR EACH STATEMENT EXECUTE FUNCTION audit_tree_append_only();
