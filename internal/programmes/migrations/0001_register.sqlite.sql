CREATE TABLE initiatives (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	demo_key TEXT UNIQUE,
	iati_identifier TEXT UNIQUE,
	title TEXT NOT NULL,
	summary TEXT NOT NULL,
	kind TEXT NOT NULL,
	status TEXT NOT NULL,
	lead_org_id INTEGER REFERENCES organisations(id),
	owner_org_id INTEGER NOT NULL REFERENCES organisations(id),
	start_text TEXT NOT NULL,
	end_text TEXT NOT NULL,
	start_date TEXT NOT NULL,
	end_date TEXT NOT NULL,
	budget_minor INTEGER,
	currency TEXT NOT NULL DEFAULT '',
	report_section TEXT NOT NULL DEFAULT '',
	version INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	created_by TEXT NOT NULL
);
CREATE INDEX initiatives_title ON initiatives (title, id);
CREATE INDEX initiatives_kind ON initiatives (kind, status);
CREATE INDEX initiatives_dates ON initiatives (start_date, end_date);
CREATE VIRTUAL TABLE initiatives_fts USING fts5 (title, body, tokenize = 'unicode61 remove_diacritics 2');
