-- The organisations, besides every NGO, that a migrant may choose for
-- counselling: IOM counsels under its own programmes. The choice and the
-- registration forms offer these; a case's counselling organisation must be
-- one of them.
CREATE TABLE return_counselling_orgs (
	org_slug TEXT PRIMARY KEY
);
INSERT INTO return_counselling_orgs (org_slug) VALUES ('iom');
