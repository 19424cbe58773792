-- The Netherlands' six-pillar agenda (2018), the default framework.
INSERT INTO frameworks (slug, title, country, source_url, is_default) VALUES
('nl-six-pillars', 'Comprehensive agenda on migration (six pillars)', 'NL', 'https://www.government.nl/documents/kamerstukken/2018/07/10/comprehensive-agenda-on-migration', TRUE);
INSERT INTO pillars (framework_id, number, title) SELECT id, 1, 'Preventing irregular migration' FROM frameworks WHERE slug = 'nl-six-pillars';
INSERT INTO pillars (framework_id, number, title) SELECT id, 2, 'Improving reception and protection for refugees and displaced persons in the region' FROM frameworks WHERE slug = 'nl-six-pillars';
INSERT INTO pillars (framework_id, number, title) SELECT id, 3, 'Achieving a robust asylum system, based on solidarity, within the EU and the Netherlands' FROM frameworks WHERE slug = 'nl-six-pillars';
INSERT INTO pillars (framework_id, number, title) SELECT id, 4, 'Combating illegal residence and stepping up returns' FROM frameworks WHERE slug = 'nl-six-pillars';
INSERT INTO pillars (framework_id, number, title) SELECT id, 5, 'Promoting legal migration routes' FROM frameworks WHERE slug = 'nl-six-pillars';
INSERT INTO pillars (framework_id, number, title) SELECT id, 6, 'Encouraging integration and participation' FROM frameworks WHERE slug = 'nl-six-pillars';
