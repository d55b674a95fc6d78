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
UPDATE "ferry"."transform_lease" SET run_id = 'run-view', expires_at = DATEADD(second, 300, GETDATE())
WHERE name = 'transform' AND (run_id IS NULL OR expires_at < GETDATE());
COMMIT;
SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ('ferry', 'analytics');
SELECT table_name, COUNT(*) AS files, MAX(loaded_at) AS last_loaded_at FROM "ferry"."load_manifest" GROUP BY table_name;
SELECT model, version, template_hash, refs_version, built_at FROM "ferry"."transform_state";
SELECT target, attempt, status, started_at, finished_at FROM "ferry"."runs" WHERE stage = 'transform' AND started_at >= '2026-11-25 00:00:00.000' ORDER BY started_at, target;
BEGIN;
DROP VIEW IF EXISTS "analytics"."task_events";
CREATE VIEW "analytics"."task_events" AS
-- The to-do app's task events, one row per device, day and step: what the funnel counts.

SELECT DISTINCT
  CAST(e.at_corrected AS DATE) AS day,
  e.device_id,
  e.event
FROM "ferry"."events" e
WHERE e.event IN ('Task.Create', 'Task.Complete')
WITH NO SCHEMA BINDING;
DELETE FROM "ferry"."transform_state" WHERE model = 'task_events';
INSERT INTO "ferry"."transform_state" (model, version, template_hash, refs_version, built_at)
SELECT 'task_events', '5b7c02d5b3a5699181d13172fb1346f5', 'f92df72d80d3da0181df8343a7381921', 'e3b0c44298fc1c149afbf4c8996fb924', '2026-11-25 06:00:00.000';
COMMIT;
INSERT INTO "ferry"."runs" (run_id, stage, target, attempt, started_at, finished_at, status, "rows", error, log_excerpt)
VALUES ('run-view', 'transform', 'task_events', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', NULL, NULL, 'view build');
DELETE FROM "ferry"."runs" WHERE started_at < '2026-08-27 06:00:00.000';
DELETE FROM "ferry"."transform_inputs" WHERE consumed_at < DATEADD(day, -8, GETDATE());
BEGIN;
UPDATE "ferry"."transform_lease" SET run_id = NULL, expires_at = NULL WHERE name = 'transform' AND run_id = 'run-view';
COMMIT;
