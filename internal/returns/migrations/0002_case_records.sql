-- The records a case carries, keyed by (case_id, seq) so the same SQL runs
-- on both engines; statistics helpers; the default programmes and the
-- default sustainability indicator set.
CREATE UNIQUE INDEX return_cases_reference ON return_cases (reference);
-- Work queues: each party reads its cases oldest-in-stage first; the stage
-- is in the index so filters and counts by stage need no table lookups.
CREATE INDEX return_cases_counselling ON return_cases (counselling_org_id, stage_since, id, stage);
CREATE INDEX return_cases_partner ON return_cases (partner_org_id, stage_since, id, stage);
CREATE INDEX return_cases_programme ON return_cases (programme, stage_since, id, stage);
CREATE INDEX return_transitions_case ON return_transitions (case_id, id);
CREATE INDEX return_transitions_actor ON return_transitions (actor_id, case_id);
CREATE INDEX return_choices_case ON return_choices (case_id, id);
CREATE INDEX return_consents_case ON return_consents (case_id, id);

-- Cases and people per combination of the dimensions statistics break
-- down by, kept up to date by every write that changes one of them (in its
-- transaction), so statistics and queue counts read a few thousand rows
-- instead of every case.
CREATE TABLE return_case_counts (
	stage TEXT NOT NULL,
	country_of_return TEXT NOT NULL,
	counselling_org_id BIGINT NOT NULL,
	programme TEXT NOT NULL,
	departed BOOLEAN NOT NULL,
	assisted BOOLEAN NOT NULL,
	cases BIGINT NOT NULL,
	persons BIGINT NOT NULL,
	PRIMARY KEY (stage, country_of_return, counselling_org_id, programme, departed, assisted)
);
CREATE INDEX return_case_counts_org ON return_case_counts (counselling_org_id, stage);
CREATE INDEX return_case_counts_programme ON return_case_counts (programme, stage);

-- Days spent in a stage before leaving it: one row per (stage, days), kept
-- up to date by every transition in its transaction, so the median needs
-- no scan of the transitions.
CREATE TABLE return_stage_days (
	stage TEXT NOT NULL,
	days INTEGER NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (stage, days)
);

CREATE TABLE return_migrants (
	case_id BIGINT NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	relationship TEXT NOT NULL,
	given_name TEXT NOT NULL,
	family_name TEXT NOT NULL,
	birth_date TEXT NOT NULL,
	sex TEXT NOT NULL,
	nationality TEXT NOT NULL,
	documents_held TEXT NOT NULL DEFAULT '',
	vulnerabilities TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (case_id, seq)
);

CREATE TABLE return_travel_documents (
	case_id BIGINT NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	migrant_seq INTEGER NOT NULL,
	kind TEXT NOT NULL,
	authority TEXT NOT NULL,
	authority_country TEXT NOT NULL,
	status TEXT NOT NULL,
	requested_on TEXT NOT NULL,
	decided_on TEXT NOT NULL DEFAULT '',
	valid_until TEXT NOT NULL DEFAULT '',
	reference TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	PRIMARY KEY (case_id, seq)
);

CREATE TABLE return_flights (
	case_id BIGINT NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	flight_date TEXT NOT NULL,
	route TEXT NOT NULL,
	carrier TEXT NOT NULL DEFAULT '',
	escort BOOLEAN NOT NULL DEFAULT FALSE,
	medical_needs TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	confirmed_at TEXT NOT NULL DEFAULT '',
	confirmed_by TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	PRIMARY KEY (case_id, seq)
);

-- The countries each reintegration partner declares it covers.
CREATE TABLE return_partner_countries (
	org_id BIGINT NOT NULL REFERENCES organisations(id),
	country TEXT NOT NULL,
	PRIMARY KEY (org_id, country)
);
CREATE INDEX return_partner_countries_country ON return_partner_countries (country, org_id);

CREATE TABLE return_plans (
	case_id BIGINT PRIMARY KEY REFERENCES return_cases(id) ON DELETE CASCADE,
	needs TEXT NOT NULL DEFAULT '',
	aspirations TEXT NOT NULL DEFAULT '',
	start_on TEXT NOT NULL DEFAULT '',
	months INTEGER NOT NULL DEFAULT 0,
	currency TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	updated_at TEXT NOT NULL,
	updated_by TEXT NOT NULL
);
CREATE TABLE return_support_items (
	case_id BIGINT NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	type TEXT NOT NULL,
	description TEXT NOT NULL,
	amount_minor BIGINT NOT NULL,
	PRIMARY KEY (case_id, seq)
);
CREATE TABLE return_deliveries (
	case_id BIGINT NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	item_seq INTEGER NOT NULL,
	delivered_on TEXT NOT NULL,
	amount_minor BIGINT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	PRIMARY KEY (case_id, seq)
);

CREATE TABLE return_indicator_sets (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	is_default BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE return_indicators (
	set_code TEXT NOT NULL REFERENCES return_indicator_sets(code),
	key TEXT NOT NULL,
	dimension TEXT NOT NULL CHECK (dimension IN ('economic', 'social', 'psychosocial')),
	label TEXT NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (set_code, key)
);
CREATE TABLE return_visits (
	case_id BIGINT NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	visited_on TEXT NOT NULL,
	set_code TEXT NOT NULL REFERENCES return_indicator_sets(code),
	scores TEXT NOT NULL,
	economic DOUBLE PRECISION NOT NULL,
	social DOUBLE PRECISION NOT NULL,
	psychosocial DOUBLE PRECISION NOT NULL,
	overall DOUBLE PRECISION NOT NULL,
	notes TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	PRIMARY KEY (case_id, seq)
);

CREATE TABLE return_referrals (
	case_id BIGINT NOT NULL REFERENCES return_cases(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	service TEXT NOT NULL,
	kind TEXT NOT NULL,
	country TEXT NOT NULL,
	status TEXT NOT NULL,
	sent_on TEXT NOT NULL,
	updated_on TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	PRIMARY KEY (case_id, seq)
);

-- The programmes a case can belong to, with the budget cap of a
-- reintegration plan, and the organisations (by slug) that operate each:
-- their caseworkers and return officers see the programme's cases.
INSERT INTO return_programmes (code, name, budget_cap_minor, currency, description) VALUES
	('national', 'National voluntary return (NGO guidance under the Subsidy Scheme)', 200000, 'EUR',
	 'Pre-departure guidance by an NGO of the migrant''s choice under the national Subsidy Scheme (amended 2019), with the Repatriation and Departure Service.'),
	('iom_return', 'Return and Emigration Assistance from the Netherlands (IOM)', 300000, 'EUR',
	 'IOM''s programme: information, tickets, help to obtain travel documents, and reintegration assistance after return.'),
	('frontex_reintegration', 'Frontex reintegration programme', 261500, 'EUR',
	 'Post-arrival and post-return reintegration support by the partners contracted under the Frontex programme (from July 2022).'),
	('iom_stranded', 'IOM assistance to stranded migrants in North and West Africa', 150000, 'EUR',
	 'Voluntary return and reintegration of migrants stranded in transit countries, financed by the Netherlands and run by IOM.');
INSERT INTO return_programme_operators (programme, org_slug) VALUES
	('national', 'rds'),
	('iom_return', 'rds'),
	('iom_return', 'iom'),
	('frontex_reintegration', 'rds'),
	('iom_stranded', 'iom');

INSERT INTO return_indicator_sets (code, name, is_default) VALUES
	('rss15', 'Reintegration sustainability survey: 15 indicators (modelled on IOM''s)', TRUE);
INSERT INTO return_indicators (set_code, key, dimension, label, seq) VALUES
	('rss15', 'income_satisfaction', 'economic', 'Satisfied with the current economic situation', 1),
	('rss15', 'food_security', 'economic', 'Rarely or never has to reduce the quantity or quality of meals', 2),
	('rss15', 'income_source', 'economic', 'Has work or another regular source of income', 3),
	('rss15', 'debt', 'economic', 'Debt is manageable compared with monthly income', 4),
	('rss15', 'borrowing', 'economic', 'Could borrow money if needed', 5),
	('rss15', 'housing', 'social', 'Housing is adequate and secure', 6),
	('rss15', 'health_care', 'social', 'Can use health care when needed', 7),
	('rss15', 'education', 'social', 'Children of school age attend school; can access training', 8),
	('rss15', 'documentation', 'social', 'Holds the identity documents needed for services', 9),
	('rss15', 'basic_services', 'social', 'Has safe drinking water, and access to justice and basic services', 10),
	('rss15', 'social_network', 'psychosocial', 'Takes part in community activities; has a support network', 11),
	('rss15', 'safety', 'psychosocial', 'Feels physically safe in daily life', 12),
	('rss15', 'discrimination', 'psychosocial', 'Does not experience discrimination', 13),
	('rss15', 'wellbeing', 'psychosocial', 'Free of signs of psychosocial distress', 14),
	('rss15', 'wish_to_stay', 'psychosocial', 'Feels able to stay, rather than needing to migrate again', 15);
