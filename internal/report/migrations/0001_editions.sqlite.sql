CREATE TABLE report_editions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	title TEXT NOT NULL,
	period_from TEXT NOT NULL DEFAULT '',
	period_to TEXT NOT NULL DEFAULT '',
	author_org_id INTEGER NOT NULL REFERENCES organisations(id),
	framework TEXT NOT NULL,
	objective_groups TEXT NOT NULL,
	introduction TEXT NOT NULL DEFAULT '',
	next_steps TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
	version INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	published_at TEXT,
	published_by TEXT
);
CREATE INDEX report_editions_updated ON report_editions (updated_at, id);
CREATE TABLE report_files (
	edition_id INTEGER NOT NULL REFERENCES report_editions(id),
	format TEXT NOT NULL,
	content_type TEXT NOT NULL,
	content BLOB NOT NULL,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (edition_id, format)
);
-- A published edition and its files never change.
CREATE TRIGGER report_files_no_update BEFORE UPDATE ON report_files
BEGIN SELECT RAISE(ABORT, 'report_files are immutable'); END;
CREATE TRIGGER report_files_no_delete BEFORE DELETE ON report_files
BEGIN SELECT RAISE(ABORT, 'report_files are immutable'); END;
CREATE TRIGGER report_editions_frozen BEFORE UPDATE ON report_editions WHEN OLD.status = 'published'
BEGIN SELECT RAISE(ABORT, 'a published edition is frozen'); END;
CREATE TRIGGER report_editions_no_delete BEFORE DELETE ON report_editions WHEN OLD.status = 'published'
BEGIN SELECT RAISE(ABORT, 'a published edition is frozen'); END;
