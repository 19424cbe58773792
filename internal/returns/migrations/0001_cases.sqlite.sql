-- Return and reintegration cases. The tables with an identity column differ
-- per engine; everything else is in 0002_case_records.sql.
CREATE TABLE return_programmes (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	budget_cap_minor BIGINT NOT NULL,
	currency TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE return_programme_operators (
	programme TEXT NOT NULL REFERENCES return_programmes(code),
	org_slug TEXT NOT NULL,
	PRIMARY KEY (programme, org_slug)
);
CREATE INDEX return_programme_operators_org ON return_programme_operators (org_slug, programme);
CREATE TABLE return_cases (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	reference TEXT NOT NULL,
	demo_key TEXT UNIQUE,
	stage TEXT NOT NULL,
	stage_since TEXT NOT NULL,
	country_of_return TEXT NOT NULL,
	counselling_org_id INTEGER NOT NULL REFERENCES organisations(id),
	programme TEXT NOT NULL REFERENCES return_programmes(code),
	partner_org_id INTEGER REFERENCES organisations(id),
	intake_org_id INTEGER NOT NULL REFERENCES organisations(id),
	immigration_history TEXT NOT NULL DEFAULT '',
	persons INTEGER NOT NULL,
	departed BOOLEAN NOT NULL DEFAULT FALSE,
	departed_at TEXT,
	assisted BOOLEAN NOT NULL DEFAULT FALSE,
	version INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE TABLE return_transitions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id INTEGER NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	from_stage TEXT NOT NULL,
	to_stage TEXT NOT NULL,
	at TEXT NOT NULL,
	days INTEGER NOT NULL,
	actor_id INTEGER,
	actor TEXT NOT NULL,
	org_id INTEGER NOT NULL,
	reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE return_choices (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id INTEGER NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	from_org_id INTEGER REFERENCES organisations(id),
	to_org_id INTEGER NOT NULL REFERENCES organisations(id),
	chosen_on TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	recorded_at TEXT NOT NULL
);
CREATE TABLE return_consents (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id INTEGER NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	written BOOLEAN NOT NULL,
	given_on TEXT NOT NULL,
	scope TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	recorded_at TEXT NOT NULL
);
