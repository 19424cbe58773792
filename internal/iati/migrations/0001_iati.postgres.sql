-- IATI import jobs, their notes, the suggested GCM objectives and the IATI
-- references of organisations.
CREATE TABLE iati_jobs (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	status TEXT NOT NULL,
	source TEXT NOT NULL,
	file_name TEXT NOT NULL,
	file_bytes BIGINT NOT NULL,
	bytes_read BIGINT NOT NULL DEFAULT 0,
	activities INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL DEFAULT 0,
	updated INTEGER NOT NULL DEFAULT 0,
	unchanged INTEGER NOT NULL DEFAULT 0,
	skipped INTEGER NOT NULL DEFAULT 0,
	suggestions INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	error_line INTEGER NOT NULL DEFAULT 0,
	actor TEXT NOT NULL,
	org_id BIGINT REFERENCES organisations(id),
	started_at TEXT NOT NULL,
	heartbeat_at TEXT NOT NULL,
	finished_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE iati_job_events (
	job_id BIGINT NOT NULL REFERENCES iati_jobs(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	line INTEGER NOT NULL,
	iati_identifier TEXT NOT NULL,
	kind TEXT NOT NULL,
	message TEXT NOT NULL,
	initiative_id BIGINT,
	PRIMARY KEY (job_id, seq)
);
CREATE TABLE iati_suggestions (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	objective INTEGER NOT NULL CHECK (objective BETWEEN 1 AND 23),
	reasons TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('suggested', 'confirmed', 'rejected')),
	job_id BIGINT REFERENCES iati_jobs(id) ON DELETE SET NULL,
	decided_by TEXT NOT NULL DEFAULT '',
	decided_at TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	UNIQUE (initiative_id, objective)
);
CREATE INDEX iati_suggestions_job ON iati_suggestions (job_id, initiative_id);
CREATE TABLE iati_org_refs (
	ref TEXT PRIMARY KEY,
	org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE
);
CREATE INDEX iati_org_refs_org ON iati_org_refs (org_id);
