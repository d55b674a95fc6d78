CREATE SCHEMA IF NOT EXISTS "ferry";
CREATE TABLE IF NOT EXISTS "ferry"."load_manifest" (
  file_key VARCHAR(1024) NOT NULL,
  etag VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  rows_expected BIGINT NOT NULL,
  rows_loaded BIGINT NOT NULL,
  run_id VARCHAR(256) NOT NULL,
  loaded_at TIMESTAMP NOT NULL DEFAULT SYSDATE,
  PRIMARY KEY (file_key)
);
BEGIN;
LOCK "ferry"."load_manifest";
CREATE TABLE IF NOT EXISTS "ferry"."load_failures" (
  run_id VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  code VARCHAR(64) NOT NULL,
  message VARCHAR(65535) NOT NULL,
  file_keys VARCHAR(65535) NOT NULL,
  failed_at TIMESTAMP NOT NULL DEFAULT SYSDATE
);
CREATE TABLE IF NOT EXISTS "ferry"."load_quarantine" (
  file_key VARCHAR(1024) NOT NULL,
  etag VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  code VARCHAR(64) NOT NULL,
  sqlstate VARCHAR(64),
  message VARCHAR(65535) NOT NULL,
  run_id VARCHAR(256) NOT NULL,
  quarantined_at TIMESTAMP NOT NULL DEFAULT SYSDATE,
  PRIMARY KEY (file_key)
);
CREATE TABLE IF NOT EXISTS "ferry"."load_collisions" (
  source_key VARCHAR(1024) NOT NULL,
  collisions BIGINT NOT NULL,
  PRIMARY KEY (source_key)
);
CREATE TABLE IF NOT EXISTS "ferry"."events" (
  "device_id" VARCHAR(65535) NOT NULL,
  "client_id" VARCHAR(65535) NOT NULL,
  "session" VARCHAR(65535) NOT NULL,
  "nr" BIGINT NOT NULL,
  "env" VARCHAR(65535) NOT NULL,
  "system_version" VARCHAR(65535) NOT NULL,
  "product_version" VARCHAR(65535) NOT NULL,
  "at" TIMESTAMP NOT NULL,
  "timezone" VARCHAR(65535),
  "event" VARCHAR(65535) NOT NULL,
  "device_make" VARCHAR(65535),
  "device_model" VARCHAR(65535),
  "system" VARCHAR(65535),
  "system_language" VARCHAR(65535),
  "browser" VARCHAR(65535),
  "browser_version" VARCHAR(65535),
  "product_git_hash" VARCHAR(65535),
  "product_language" VARCHAR(65535),
  "user_id" VARCHAR(65535),
  "tenant_id" VARCHAR(65535),
  "ip" VARCHAR(65535),
  "country" VARCHAR(65535),
  "parameters" VARCHAR(65535) NOT NULL,
  "received_at" TIMESTAMP NOT NULL,
  "sent_at" TIMESTAMP,
  "clock_skew_s" BIGINT,
  "at_corrected" TIMESTAMP NOT NULL,
  "source_key" VARCHAR(65535) NOT NULL,
  "fingerprint" VARCHAR(65535) NOT NULL,
  PRIMARY KEY ("session", "nr", "fingerprint")
) DISTKEY ("session") SORTKEY ("received_at");
CREATE TABLE IF NOT EXISTS "ferry"."source_counts" (
  "summary_key" VARCHAR(65535) NOT NULL,
  "source" VARCHAR(65535) NOT NULL,
  "source_key" VARCHAR(65535) NOT NULL,
  "source_etag" VARCHAR(65535) NOT NULL,
  "date" VARCHAR(65535) NOT NULL,
  "lines" BIGINT NOT NULL,
  "accepted" BIGINT NOT NULL,
  "ignored" BIGINT NOT NULL,
  "rejected" BIGINT NOT NULL,
  "ignored_by" VARCHAR(65535) NOT NULL,
  "rows" VARCHAR(65535) NOT NULL,
  "collisions" BIGINT NOT NULL,
  "replaced" BIGINT NOT NULL,
  PRIMARY KEY ("summary_key", "source_key")
) DISTKEY ("summary_key");
SELECT column_name FROM information_schema.columns WHERE table_schema = 'ferry' AND table_name = 'events';
ALTER TABLE "ferry"."events" ADD COLUMN "source_key" VARCHAR(65535);
SELECT kcu.column_name, tc.constraint_name
FROM information_schema.table_constraints tc
INNER JOIN information_schema.key_column_usage kcu ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
WHERE tc.table_schema = 'ferry' AND tc.table_name = 'events' AND tc.constraint_type = 'PRIMARY KEY'
ORDER BY kcu.ordinal_position;
SELECT "session", CAST("nr" AS VARCHAR(64)) AS "nr", "device_id", "client_id", "env", "system_version", "product_version", TO_CHAR("at", 'YYYY-MM-DD HH24:MI:SS') AS "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "country", "parameters" FROM "ferry"."events" WHERE "fingerprint" IS NULL ORDER BY "session", "nr" LIMIT 20000;
UPDATE "ferry"."events" SET "fingerprint" = u.v FROM (
SELECT CAST('7f6797afd300a47cef3d73e2f4863976' AS VARCHAR(65535)) AS k0, CAST('41' AS BIGINT) AS k1, CAST('7f8a6ac9ab6203c583066f39132604d3' AS VARCHAR(64)) AS v
) u
WHERE "ferry"."events"."session" = u.k0 AND "ferry"."events"."nr" = u.k1 AND "ferry"."events"."fingerprint" IS NULL;
ALTER TABLE "ferry"."events" DROP CONSTRAINT "events_pkey";
ALTER TABLE "ferry"."events" ADD PRIMARY KEY ("session", "nr", "fingerprint");
SELECT column_name FROM information_schema.columns WHERE table_schema = 'ferry' AND table_name = 'source_counts';
ALTER TABLE "ferry"."source_counts" ADD COLUMN "source_key" VARCHAR(65535);
SELECT kcu.column_name, tc.constraint_name
FROM information_schema.table_constraints tc
INNER JOIN information_schema.key_column_usage kcu ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
WHERE tc.table_schema = 'ferry' AND tc.table_name = 'source_counts' AND tc.constraint_type = 'PRIMARY KEY'
ORDER BY kcu.ordinal_position;
ALTER TABLE "ferry"."source_counts" DROP CONSTRAINT "source_counts_pkey";
ALTER TABLE "ferry"."source_counts" ADD PRIMARY KEY ("summary_key", "source_key");
SELECT c.relname AS table_name, COALESCE(a.attname, '') AS column_name, d.description
FROM pg_description d
INNER JOIN pg_class c ON c.oid = d.objoid
INNER JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
WHERE n.nspname = 'ferry' AND c.relkind = 'r';
COMMENT ON COLUMN "ferry"."events"."at" IS 'When the event happened by the device''s clock, UTC. May be wrong by the device''s clock skew; see at_corrected.';
COMMIT;
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/c.csv.gz');
SELECT file_key, etag FROM "ferry"."load_quarantine" WHERE file_key IN ('parsed/events/2026-11-23/c.csv.gz');
BEGIN;
LOCK "ferry"."load_manifest";
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/c.csv.gz');
CREATE TEMP TABLE "ferry_staging_events" (LIKE "ferry"."events");
COPY "ferry_staging_events" ("device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key", "fingerprint")
FROM 's3://ferry-events/load-manifests/events/run-mismatch/events-1.manifest'
IAM_ROLE 'arn:aws:iam::123456789012:role/ferry-redshift-load'
REGION 'eu-west-1'
MANIFEST GZIP CSV TIMEFORMAT 'auto' MAXERROR 0 COMPUPDATE OFF STATUPDATE OFF;
SELECT pg_last_copy_count() AS copied;
SELECT n."source_key" AS source_key, COUNT(*) AS collisions
FROM (
  SELECT s."source_key", s."session", s."nr", s."fingerprint", s."received_at",
    ROW_NUMBER() OVER (PARTITION BY s."session", s."nr" ORDER BY s."received_at", s."fingerprint") AS ferry_order
  FROM (
    SELECT "source_key", "session", "nr", "fingerprint", "received_at", ROW_NUMBER() OVER (PARTITION BY "session", "nr", "fingerprint" ORDER BY "received_at") AS ferry_rank
    FROM "ferry_staging_events"
  ) s
  WHERE s.ferry_rank = 1
    AND NOT EXISTS (SELECT 1 FROM "ferry"."events" t WHERE t."session" = s."session" AND t."nr" = s."nr" AND t."fingerprint" = s."fingerprint")
) n
LEFT JOIN (
  SELECT DISTINCT t."session", t."nr" FROM "ferry"."events" t INNER JOIN "ferry_staging_events" g ON t."session" = g."session" AND t."nr" = g."nr"
) p ON p."session" = n."session" AND p."nr" = n."nr"
WHERE n.ferry_order > 1 OR p."session" IS NOT NULL
GROUP BY n."source_key";
INSERT INTO "ferry"."events" ("device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key", "fingerprint")
SELECT "device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key", "fingerprint" FROM (
  SELECT "device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key", "fingerprint", ROW_NUMBER() OVER (PARTITION BY "session", "nr", "fingerprint" ORDER BY "received_at") AS ferry_rank
  FROM "ferry_staging_events"
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM "ferry"."events" t WHERE t."session" = s."session" AND t."nr" = s."nr" AND t."fingerprint" = s."fingerprint");
DROP TABLE "ferry_staging_events";
ROLLBACK;
BEGIN;
DELETE FROM "ferry"."load_quarantine" WHERE file_key IN ('parsed/events/2026-11-23/c.csv.gz');
INSERT INTO "ferry"."load_quarantine" (file_key, etag, table_name, code, sqlstate, message, run_id) VALUES ('parsed/events/2026-11-23/c.csv.gz', 'etag-c', 'events', 'load_failed', NULL, 'row count mismatch in parsed/events/2026-11-23/c.csv.gz: parser wrote 5, warehouse loaded 2', 'run-mismatch');
COMMIT;
