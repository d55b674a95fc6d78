CREATE SCHEMA IF NOT EXISTS "ferry";
CREATE TABLE IF NOT EXISTS "ferry"."runs" (
  run_id VARCHAR(1024) NOT NULL,
  stage VARCHAR(128) NOT NULL,
  target VARCHAR(2048) NOT NULL,
  attempt integer NOT NULL,
  started_at timestamp NOT NULL,
  finished_at timestamp NOT NULL,
  status VARCHAR(64) NOT NULL,
  "rows" bigint NULL,
  error VARCHAR(16000) NULL,
  log_excerpt VARCHAR(16000) NULL
);
CREATE SCHEMA IF NOT EXISTS "ferry";
CREATE SCHEMA IF NOT EXISTS "analytics";
CREATE TABLE IF NOT EXISTS "ferry"."transform_state" (
  model VARCHAR(512) NOT NULL,
  version VARCHAR(512) NOT NULL,
  template_hash VARCHAR(512) NOT NULL,
  refs_version VARCHAR(512) NOT NULL,
  built_at timestamp NOT NULL
);
CREATE TABLE IF NOT EXISTS "ferry"."transform_inputs" (
  model VARCHAR(512) NOT NULL,
  file_key VARCHAR(3200) NOT NULL,
  consumed_at timestamp NOT NULL
);
CREATE TABLE IF NOT EXISTS "ferry"."transform_changes" (
  model VARCHAR(512) NOT NULL,
  table_name VARCHAR(512) NOT NULL,
  file_key VARCHAR(3200) NOT NULL,
  source_key VARCHAR(4096) NULL
);
CREATE TABLE IF NOT EXISTS "ferry"."transform_lease" (
  name VARCHAR(256) NOT NULL,
  run_id VARCHAR(1024) NULL,
  expires_at timestamp NULL
);
INSERT INTO "ferry"."transform_lease" (name) SELECT 'transform' WHERE NOT EXISTS (SELECT 1 FROM "ferry"."transform_lease" WHERE name = 'transform');
BEGIN;
UPDATE "ferry"."transform_lease" SET run_id = 'run-full', expires_at = DATEADD(second, 300, GETDATE())
WHERE name = 'transform' AND (run_id IS NULL OR expires_at < GETDATE());
COMMIT;
SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ('ferry', 'analytics');
SELECT table_name, COUNT(*) AS files, MAX(loaded_at) AS last_loaded_at FROM "ferry"."load_manifest" GROUP BY table_name;
SELECT model, version, template_hash, refs_version, built_at FROM "ferry"."transform_state";
SELECT target, attempt, status, started_at, finished_at FROM "ferry"."runs" WHERE stage = 'transform' AND started_at >= '2026-11-25 00:00:00.000' ORDER BY started_at, target;
BEGIN;
INSERT INTO "ferry"."transform_inputs" (model, file_key, consumed_at)
SELECT 'daily_active_users', m.file_key, GETDATE() FROM "ferry"."load_manifest" m
WHERE m.table_name IN ('events') AND m.loaded_at > DATEADD(day, -7, GETDATE())
  AND NOT EXISTS (SELECT 1 FROM "ferry"."transform_inputs" i WHERE i.model = 'daily_active_users' AND i.file_key = m.file_key);
DROP TABLE IF EXISTS "analytics"."daily_active_users__ferry_new";
CREATE TABLE "analytics"."daily_active_users__ferry_new" AS
-- Daily active users per platform: devices that sent at least one event that day (UTC, by the
-- client's clock corrected for skew). Incremental: a run replaces only the days its newly
-- loaded events fall on, so a late batch for last week rebuilds last week's day alone.

SELECT
  CAST(e.at_corrected AS DATE) AS day,
  COALESCE(e.system, 'unknown') AS platform,
  COUNT(DISTINCT e.device_id) AS users
FROM "ferry"."events" e
GROUP BY CAST(e.at_corrected AS DATE), COALESCE(e.system, 'unknown');
ALTER TABLE "analytics"."daily_active_users__ferry_new" RENAME TO "daily_active_users";
DELETE FROM "ferry"."transform_state" WHERE model = 'daily_active_users';
INSERT INTO "ferry"."transform_state" (model, version, template_hash, refs_version, built_at)
SELECT 'daily_active_users', 'e907e545a0c38ac25dec0806f5661031', '587b197a906159ed9716124b2dcd596d', 'e3b0c44298fc1c149afbf4c8996fb924', '2026-11-25 06:00:00.000';
COMMIT;
SELECT COUNT(*) AS "failures" FROM "analytics"."daily_active_users" WHERE "day" IS NULL;
SELECT COUNT(*) AS "failures" FROM "analytics"."daily_active_users" WHERE "platform" IS NULL;
SELECT COUNT(*) AS "failures" FROM "analytics"."daily_active_users" WHERE "users" IS NULL;
SELECT COUNT(*) AS "failures" FROM (SELECT "day", "platform" FROM "analytics"."daily_active_users" GROUP BY "day", "platform" HAVING COUNT(*) > 1) AS ferry_duplicates;
INSERT INTO "ferry"."runs" (run_id, stage, target, attempt, started_at, finished_at, status, "rows", error, log_excerpt)
VALUES ('run-full', 'check', 'daily_active_users.not_null(day)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-full', 'check', 'daily_active_users.not_null(platform)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-full', 'check', 'daily_active_users.not_null(users)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-full', 'check', 'daily_active_users.unique(day, platform)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL);
INSERT INTO "ferry"."runs" (run_id, stage, target, attempt, started_at, finished_at, status, "rows", error, log_excerpt)
VALUES ('run-full', 'transform', 'daily_active_users', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 42, NULL, 'full build');
DELETE FROM "ferry"."runs" WHERE started_at < '2026-08-27 06:00:00.000';
DELETE FROM "ferry"."transform_inputs" WHERE consumed_at < DATEADD(day, -8, GETDATE());
BEGIN;
UPDATE "ferry"."transform_lease" SET run_id = NULL, expires_at = NULL WHERE name = 'transform' AND run_id = 'run-full';
COMMIT;
CREATE SCHEMA IF NOT EXISTS "ferry";
CREATE TABLE IF NOT EXISTS "ferry"."runs" (
  run_id VARCHAR(1024) NOT NULL,
  stage VARCHAR(128) NOT NULL,
  target VARCHAR(2048) NOT NULL,
  attempt integer NOT NULL,
  started_at timestamp NOT NULL,
  finished_at timestamp NOT NULL,
  status VARCHAR(64) NOT NULL,
  "rows" bigint NULL,
  error VARCHAR(16000) NULL,
  log_excerpt VARCHAR(16000) NULL
);
CREATE SCHEMA IF NOT EXISTS "ferry";
CREATE SCHEMA IF NOT EXISTS "analytics";
CREATE TABLE IF NOT EXISTS "ferry"."transform_state" (
  model VARCHAR(512) NOT NULL,
  version VARCHAR(512) NOT NULL,
  template_hash VARCHAR(512) NOT NULL,
  refs_version VARCHAR(512) NOT NULL,
  built_at timestamp NOT NULL
);
CREATE TABLE IF NOT EXISTS "ferry"."transform_inputs" (
  model VARCHAR(512) NOT NULL,
  file_key VARCHAR(3200) NOT NULL,
  consumed_at timestamp NOT NULL
);
CREATE TABLE IF NOT EXISTS "ferry"."transform_changes" (
  model VARCHAR(512) NOT NULL,
  table_name VARCHAR(512) NOT NULL,
  file_key VARCHAR(3200) NOT NULL,
  source_key VARCHAR(4096) NULL
);
CREATE TABLE IF NOT EXISTS "ferry"."transform_lease" (
  name VARCHAR(256) NOT NULL,
  run_id VARCHAR(1024) NULL,
  expires_at timestamp NULL
);
INSERT INTO "ferry"."transform_lease" (name) SELECT 'transform' WHERE NOT EXISTS (SELECT 1 FROM "ferry"."transform_lease" WHERE name = 'transform');
BEGIN;
UPDATE "ferry"."transform_lease" SET run_id = 'run-incremental', expires_at = DATEADD(second, 300, GETDATE())
WHERE name = 'transform' AND (run_id IS NULL OR expires_at < GETDATE());
COMMIT;
SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ('ferry', 'analytics');
SELECT table_name, COUNT(*) AS files, MAX(loaded_at) AS last_loaded_at FROM "ferry"."load_manifest" GROUP BY table_name;
SELECT model, version, template_hash, refs_version, built_at FROM "ferry"."transform_state";
SELECT target, attempt, status, started_at, finished_at FROM "ferry"."runs" WHERE stage = 'transform' AND started_at >= '2026-11-25 00:00:00.000' ORDER BY started_at, target;
BEGIN;
DELETE FROM "ferry"."transform_changes" WHERE model = 'daily_active_users';
INSERT INTO "ferry"."transform_changes" (model, table_name, file_key, source_key)
SELECT 'daily_active_users', m.table_name, m.file_key, c.source_key
FROM "ferry"."load_manifest" m
LEFT JOIN "ferry"."source_counts" c ON c.summary_key = CASE WHEN m.table_name = 'source_counts' THEN m.file_key ELSE 'summaries/' || SUBSTRING(m.file_key, LENGTH(m.table_name) + 9, LENGTH(m.file_key) - LENGTH(m.table_name) - 15) || '.json' END
WHERE m.table_name IN ('events') AND m.loaded_at > DATEADD(day, -7, GETDATE())
  AND NOT EXISTS (SELECT 1 FROM "ferry"."transform_inputs" i WHERE i.model = 'daily_active_users' AND i.file_key = m.file_key);
DROP TABLE IF EXISTS "daily_active_users__ferry_chg1";
CREATE TEMP TABLE "daily_active_users__ferry_chg1" AS
SELECT * FROM "ferry"."events" WHERE "source_key" IN (SELECT source_key FROM "ferry"."transform_changes" WHERE model = 'daily_active_users' AND table_name = 'events');
SELECT DISTINCT ferry_model."day" AS "ferry_partition" FROM (
-- Daily active users per platform: devices that sent at least one event that day (UTC, by the
-- client's clock corrected for skew). Incremental: a run replaces only the days its newly
-- loaded events fall on, so a late batch for last week rebuilds last week's day alone.

SELECT
  CAST(e.at_corrected AS DATE) AS day,
  COALESCE(e.system, 'unknown') AS platform,
  COUNT(DISTINCT e.device_id) AS users
FROM "daily_active_users__ferry_chg1" e
GROUP BY CAST(e.at_corrected AS DATE), COALESCE(e.system, 'unknown')
) AS ferry_model;
DELETE FROM "analytics"."daily_active_users" WHERE "day" IN ('2026-11-19');
INSERT INTO "analytics"."daily_active_users"
SELECT * FROM (
-- Daily active users per platform: devices that sent at least one event that day (UTC, by the
-- client's clock corrected for skew). Incremental: a run replaces only the days its newly
-- loaded events fall on, so a late batch for last week rebuilds last week's day alone.

SELECT
  CAST(e.at_corrected AS DATE) AS day,
  COALESCE(e.system, 'unknown') AS platform,
  COUNT(DISTINCT e.device_id) AS users
FROM "ferry"."events" e
GROUP BY CAST(e.at_corrected AS DATE), COALESCE(e.system, 'unknown')
) AS ferry_model
WHERE ferry_model."day" IN ('2026-11-19');
INSERT INTO "ferry"."transform_inputs" (model, file_key, consumed_at)
SELECT model, file_key, GETDATE() FROM "ferry"."transform_changes" WHERE model = 'daily_active_users' AND (source_key IS NOT NULL OR table_name = 'source_counts');
DELETE FROM "ferry"."transform_changes" WHERE model = 'daily_active_users';
DELETE FROM "ferry"."transform_state" WHERE model = 'daily_active_users';
INSERT INTO "ferry"."transform_state" (model, version, template_hash, refs_version, built_at)
SELECT 'daily_active_users', 'e907e545a0c38ac25dec0806f5661031', '587b197a906159ed9716124b2dcd596d', 'e3b0c44298fc1c149afbf4c8996fb924', '2026-11-25 06:00:00.000';
DROP TABLE IF EXISTS "daily_active_users__ferry_chg1";
COMMIT;
SELECT COUNT(*) AS "failures" FROM "analytics"."daily_active_users" WHERE "day" IS NULL;
SELECT COUNT(*) AS "failures" FROM "analytics"."daily_active_users" WHERE "platform" IS NULL;
SELECT COUNT(*) AS "failures" FROM "analytics"."daily_active_users" WHERE "users" IS NULL;
SELECT COUNT(*) AS "failures" FROM (SELECT "day", "platform" FROM "analytics"."daily_active_users" GROUP BY "day", "platform" HAVING COUNT(*) > 1) AS ferry_duplicates;
INSERT INTO "ferry"."runs" (run_id, stage, target, attempt, started_at, finished_at, status, "rows", error, log_excerpt)
VALUES ('run-incremental', 'check', 'daily_active_users.not_null(day)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-incremental', 'check', 'daily_active_users.not_null(platform)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-incremental', 'check', 'daily_active_users.not_null(users)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-incremental', 'check', 'daily_active_users.unique(day, platform)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL);
INSERT INTO "ferry"."runs" (run_id, stage, target, attempt, started_at, finished_at, status, "rows", error, log_excerpt)
VALUES ('run-incremental', 'transform', 'daily_active_users', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 3, NULL, 'replaced 1 partition(s): 2026-11-19');
DELETE FROM "ferry"."runs" WHERE started_at < '2026-08-27 06:00:00.000';
DELETE FROM "ferry"."transform_inputs" WHERE consumed_at < DATEADD(day, -8, GETDATE());
BEGIN;
UPDATE "ferry"."transform_lease" SET run_id = NULL, expires_at = NULL WHERE name = 'transform' AND run_id = 'run-incremental';
COMMIT;
