-- The lists an initiative carries; the same SQL on both engines.
CREATE TABLE initiative_partners (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	org_id BIGINT NOT NULL REFERENCES organisations(id),
	role TEXT NOT NULL,
	PRIMARY KEY (initiative_id, org_id, role)
);
CREATE INDEX initiative_partners_org ON initiative_partners (org_id, initiative_id);
CREATE TABLE initiative_countries (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	code TEXT NOT NULL,
	PRIMARY KEY (initiative_id, code)
);
CREATE INDEX initiative_countries_code ON initiative_countries (code, initiative_id);
CREATE TABLE initiative_regions (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	region TEXT NOT NULL,
	PRIMARY KEY (initiative_id, region)
);
CREATE TABLE initiative_objectives (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	objective INTEGER NOT NULL CHECK (objective BETWEEN 1 AND 23),
	PRIMARY KEY (initiative_id, objective)
);
CREATE INDEX initiative_objectives_obj ON initiative_objectives (objective, initiative_id);
CREATE TABLE initiative_principles (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	principle TEXT NOT NULL,
	PRIMARY KEY (initiative_id, principle)
);
CREATE TABLE initiative_pillars (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	pillar INTEGER NOT NULL,
	PRIMARY KEY (initiative_id, pillar)
);
CREATE INDEX initiative_pillars_pillar ON initiative_pillars (pillar, initiative_id);
CREATE TABLE initiative_results (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	indicator TEXT NOT NULL,
	value TEXT NOT NULL,
	unit TEXT NOT NULL,
	on_date TEXT NOT NULL,
	source TEXT NOT NULL,
	PRIMARY KEY (initiative_id, seq)
);
CREATE TABLE initiative_sources (
	initiative_id BIGINT NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	title TEXT NOT NULL,
	url TEXT NOT NULL,
	PRIMARY KEY (initiative_id, seq)
);
