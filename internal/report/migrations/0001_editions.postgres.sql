CREATE TABLE report_editions (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title TEXT NOT NULL,
	period_from TEXT NOT NULL DEFAULT '',
	period_to TEXT NOT NULL DEFAULT '',
	author_org_id BIGINT NOT NULL REFERENCES organisations(id),
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
	edition_id BIGINT NOT NULL REFERENCES report_editions(id),
	format TEXT NOT NULL,
	content_type TEXT NOT NULL,
	content BYTEA NOT NULL,
	sha256 TEXT NOT NULL,
	size BIGINT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (edition_id, format)
);
-- A published edition and its files never change.
CREATE FUNCTION report_files_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'report_files are immutable'; END $$;
CREATE TRIGGER report_files_no_change BEFORE UPDATE OR DELETE ON report_files
FOR EACH ROW EXECUTE FUNCTION report_files_immutable();
CREATE FUNCTION report_editions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.status = 'published' THEN RAISE EXCEPTION 'a published edition is frozen'; END IF;
	IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER report_editions_frozen BEFORE UPDATE OR DELETE ON report_editions
FOR EACH ROW EXECUTE FUNCTION report_editions_frozen();
