-- The login throttle keeps one counter per scope key (an account at a client
-- address, or a client address) instead of one row per failure, so that
-- reserving an attempt is one upsert that either counts it or refuses it.
-- Times are Unix milliseconds: the upsert adds a delay to them, which is plain
-- integer arithmetic on both engines. attempts is INTEGER because PostgreSQL
-- shifts a BIGINT only by an INTEGER.
DROP TABLE login_failures;
CREATE TABLE login_throttle (
	key TEXT PRIMARY KEY,
	attempts INTEGER NOT NULL,
	window_start BIGINT NOT NULL,
	next_at BIGINT NOT NULL
);
CREATE INDEX login_throttle_window ON login_throttle (window_start);
