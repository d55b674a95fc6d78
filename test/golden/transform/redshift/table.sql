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
UPDATE "ferry"."transform_lease" SET run_id = 'run-table', expires_at = DATEADD(second, 300, GETDATE())
WHERE name = 'transform' AND (run_id IS NULL OR expires_at < GETDATE());
COMMIT;
SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ('ferry', 'analytics');
SELECT table_name, COUNT(*) AS files, MAX(loaded_at) AS last_loaded_at FROM "ferry"."load_manifest" GROUP BY table_name;
SELECT model, version, template_hash, refs_version, built_at FROM "ferry"."transform_state";
SELECT target, attempt, status, started_at, finished_at FROM "ferry"."runs" WHERE stage = 'transform' AND started_at >= '2026-11-25 00:00:00.000' ORDER BY started_at, target;
BEGIN;
DROP TABLE IF EXISTS "analytics"."api_latency__ferry_new";
CREATE TABLE "analytics"."api_latency__ferry_new" AS
-- API latency per endpoint and day from the nginx access log (docs/rules/api-nginx.yml): request
-- count and the 50th, 95th and 99th percentile of nginx's $request_time, in seconds. T-SQL has
-- PERCENTILE_CONT only as a window function, hence its own branch.

SELECT
  CAST(r.time AS DATE) AS day,
  r.event AS endpoint,
  COUNT(*) AS requests,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY r.request_time) AS p50,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY r.request_time) AS p95,
  PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY r.request_time) AS p99
FROM "ferry"."api_requests" r
WHERE r.request_time IS NOT NULL
GROUP BY CAST(r.time AS DATE), r.event;
DROP TABLE "analytics"."api_latency";
ALTER TABLE "analytics"."api_latency__ferry_new" RENAME TO "api_latency";
DELETE FROM "ferry"."transform_state" WHERE model = 'api_latency';
INSERT INTO "ferry"."transform_state" (model, version, template_hash, refs_version, built_at)
SELECT 'api_latency', 'b332d5e6352a0fc077566f142063863d', '9bb803a8e135494a401446af99a7a0bb', 'e3b0c44298fc1c149afbf4c8996fb924', '2026-11-25 06:00:00.000';
COMMIT;
SELECT COUNT(*) AS "failures" FROM "analytics"."api_latency" WHERE "endpoint" IS NULL;
SELECT COUNT(*) AS "failures" FROM "analytics"."api_latency" WHERE "requests" IS NULL;
SELECT COUNT(*) AS "failures" FROM (SELECT "day", "endpoint" FROM "analytics"."api_latency" GROUP BY "day", "endpoint" HAVING COUNT(*) > 1) AS ferry_duplicates;
INSERT INTO "ferry"."runs" (run_id, stage, target, attempt, started_at, finished_at, status, "rows", error, log_excerpt)
VALUES ('run-table', 'check', 'api_latency.not_null(endpoint)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-table', 'check', 'api_latency.not_null(requests)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL),
  ('run-table', 'check', 'api_latency.unique(day, endpoint)', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 0, NULL, NULL);
INSERT INTO "ferry"."runs" (run_id, stage, target, attempt, started_at, finished_at, status, "rows", error, log_excerpt)
VALUES ('run-table', 'transform', 'api_latency', 1, '2026-11-25 06:00:00.000', '2026-11-25 06:00:00.000', 'success', 42, NULL, 'table build');
DELETE FROM "ferry"."runs" WHERE started_at < '2026-08-27 06:00:00.000';
DELETE FROM "ferry"."transform_inputs" WHERE consumed_at < DATEADD(day, -8, GETDATE());
BEGIN;
UPDATE "ferry"."transform_lease" SET run_id = NULL, expires_at = NULL WHERE name = 'transform' AND run_id = 'run-table';
COMMIT;
