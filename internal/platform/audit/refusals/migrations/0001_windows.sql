-- One row per actor and object type: the rate-limit window of refused
-- requests for personal data. The refusals themselves are in audit_events.
CREATE TABLE audit_refusal_windows (
	actor_id BIGINT NOT NULL,
	object_type TEXT NOT NULL,
	actor TEXT NOT NULL,
	org TEXT NOT NULL,
	started_at TEXT NOT NULL,
	last_at TEXT NOT NULL,
	recorded INTEGER NOT NULL,
	suppressed INTEGER NOT NULL,
	PRIMARY KEY (actor_id, object_type)
);
CREATE INDEX audit_refusal_windows_pending ON audit_refusal_windows (suppressed, started_at);
