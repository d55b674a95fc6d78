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
  PRIMARY KEY ("session", "nr")
) DISTKEY ("session");
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
  PRIMARY KEY ("summary_key")
) DISTKEY ("summary_key");
SELECT column_name FROM information_schema.columns WHERE table_schema = 'ferry' AND table_name = 'events';
ALTER TABLE "ferry"."events" ADD COLUMN "source_key" VARCHAR(65535);
SELECT column_name FROM information_schema.columns WHERE table_schema = 'ferry' AND table_name = 'source_counts';
ALTER TABLE "ferry"."source_counts" ADD COLUMN "source_key" VARCHAR(65535);
COMMIT;
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
SELECT file_key, etag FROM "ferry"."load_quarantine" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
BEGIN;
LOCK "ferry"."load_manifest";
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
CREATE TEMP TABLE "ferry_staging_events" (LIKE "ferry"."events");
COPY "ferry_staging_events" ("device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key")
FROM 's3://ferry-events/load-manifests/events/run-1/events-1.manifest'
IAM_ROLE 'arn:aws:iam::123456789012:role/ferry-redshift-load'
REGION 'eu-west-1'
MANIFEST GZIP CSV TIMEFORMAT 'auto' MAXERROR 0 COMPUPDATE OFF STATUPDATE OFF;
SELECT pg_last_copy_count() AS copied;
INSERT INTO "ferry"."events" ("device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key")
SELECT "device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key" FROM (
  SELECT "device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key", ROW_NUMBER() OVER (PARTITION BY "session", "nr" ORDER BY "received_at") AS ferry_rank
  FROM "ferry_staging_events"
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM "ferry"."events" t WHERE t."session" = s."session" AND t."nr" = s."nr");
DROP TABLE "ferry_staging_events";
INSERT INTO "ferry"."load_manifest" (file_key, etag, table_name, rows_expected, rows_loaded, run_id) VALUES ('parsed/events/2026-11-23/a.csv.gz', 'etag-a', 'events', 2, 2, 'run-1'), ('parsed/events/2026-11-23/b.csv.gz', 'etag-b', 'events', 1, 1, 'run-1');
COMMIT;
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
SELECT file_key, etag FROM "ferry"."load_quarantine" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
BEGIN;
LOCK "ferry"."load_manifest";
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
CREATE TEMP TABLE "ferry_staging_source_counts" (LIKE "ferry"."source_counts");
INSERT INTO "ferry_staging_source_counts" ("summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows") VALUES ('summaries/2026-11-23/01ABC.json', 'events', 'raw/events/2026/11/23/10/01ABC.ndjson.gz', 'etag-01ABC', '2026-11-23', '2', '2', '0', '0', '{"blank":0,"filtered":0,"rule":0,"unmatched":0}', '{"events":3}');
INSERT INTO "ferry"."source_counts" ("summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows")
SELECT "summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows" FROM (
  SELECT "summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows", ROW_NUMBER() OVER (PARTITION BY "summary_key" ORDER BY "summary_key") AS ferry_rank
  FROM "ferry_staging_source_counts"
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM "ferry"."source_counts" t WHERE t."summary_key" = s."summary_key");
DROP TABLE "ferry_staging_source_counts";
INSERT INTO "ferry"."load_manifest" (file_key, etag, table_name, rows_expected, rows_loaded, run_id) VALUES ('summaries/2026-11-23/01ABC.json', 'etag-01ABC', 'source_counts', 1, 1, 'run-1');
COMMIT;
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
