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
COMMENT ON TABLE "ferry"."load_manifest" IS 'One row per parsed file loaded, written in the same transaction as its rows: a file in it is never loaded again.';
COMMENT ON COLUMN "ferry"."load_manifest"."file_key" IS 'The parsed file.';
COMMENT ON COLUMN "ferry"."load_manifest"."etag" IS 'The parsed file''s version (ETag) that was loaded.';
COMMENT ON COLUMN "ferry"."load_manifest"."table_name" IS 'The table it was loaded into.';
COMMENT ON COLUMN "ferry"."load_manifest"."rows_expected" IS 'Rows the parser wrote into the file.';
COMMENT ON COLUMN "ferry"."load_manifest"."rows_loaded" IS 'Rows the warehouse read from it (equal to rows_expected, or the batch rolls back).';
COMMENT ON COLUMN "ferry"."load_manifest"."run_id" IS 'The load run.';
COMMENT ON COLUMN "ferry"."load_manifest"."loaded_at" IS 'When it was loaded (UTC).';
COMMENT ON TABLE "ferry"."load_failures" IS 'One row per rolled-back load batch; ferry status shows the latest.';
COMMENT ON COLUMN "ferry"."load_failures"."run_id" IS 'The load run.';
COMMENT ON COLUMN "ferry"."load_failures"."table_name" IS 'The table of the batch.';
COMMENT ON COLUMN "ferry"."load_failures"."code" IS 'Ferry''s error code.';
COMMENT ON COLUMN "ferry"."load_failures"."message" IS 'The error message.';
COMMENT ON COLUMN "ferry"."load_failures"."file_keys" IS 'The parsed files of the batch.';
COMMENT ON COLUMN "ferry"."load_failures"."failed_at" IS 'When it failed (UTC).';
COMMENT ON TABLE "ferry"."load_quarantine" IS 'Parsed files the warehouse refused, isolated so the table keeps loading; deleting a row releases the file.';
COMMENT ON COLUMN "ferry"."load_quarantine"."file_key" IS 'The parsed file.';
COMMENT ON COLUMN "ferry"."load_quarantine"."etag" IS 'The file''s version (ETag) that was refused.';
COMMENT ON COLUMN "ferry"."load_quarantine"."table_name" IS 'The table it was meant for.';
COMMENT ON COLUMN "ferry"."load_quarantine"."code" IS 'Ferry''s error code.';
COMMENT ON COLUMN "ferry"."load_quarantine"."sqlstate" IS 'The warehouse''s SQLSTATE or error number.';
COMMENT ON COLUMN "ferry"."load_quarantine"."message" IS 'The warehouse''s message.';
COMMENT ON COLUMN "ferry"."load_quarantine"."run_id" IS 'The load run that quarantined it.';
COMMENT ON COLUMN "ferry"."load_quarantine"."quarantined_at" IS 'When (UTC).';
COMMENT ON TABLE "ferry"."load_collisions" IS 'Collision counts per raw input, kept until its summary loads into source_counts.';
COMMENT ON COLUMN "ferry"."load_collisions"."source_key" IS 'The raw events object.';
COMMENT ON COLUMN "ferry"."load_collisions"."collisions" IS 'Event rows of it that share (session, nr) with a stored event of other content.';
COMMENT ON TABLE "ferry"."events" IS 'One row per collected event, flattened with its collection. Keyed (session, nr, fingerprint): a re-sent identical event is stored once. Loaded by the date the collector received it.';
COMMENT ON COLUMN "ferry"."events"."device_id" IS 'The device''s identifier, as the client sent it.';
COMMENT ON COLUMN "ferry"."events"."client_id" IS 'The app or client that sent the event.';
COMMENT ON COLUMN "ferry"."events"."session" IS 'The session hash: md5 of device_id, client_id, system_version, product_version and env as its number.';
COMMENT ON COLUMN "ferry"."events"."nr" IS 'The event''s number within its session.';
COMMENT ON COLUMN "ferry"."events"."env" IS 'The collection''s environment by name (PRODUCTION, STAGING, ...).';
COMMENT ON COLUMN "ferry"."events"."system_version" IS 'The operating system''s version.';
COMMENT ON COLUMN "ferry"."events"."product_version" IS 'The app''s version.';
COMMENT ON COLUMN "ferry"."events"."at" IS 'When the event happened by the device''s clock, UTC. May be wrong by the device''s clock skew; see at_corrected.';
COMMENT ON COLUMN "ferry"."events"."timezone" IS 'The device''s time zone, e.g. Europe/Berlin; at is UTC regardless.';
COMMENT ON COLUMN "ferry"."events"."event" IS 'The event''s name.';
COMMENT ON COLUMN "ferry"."events"."device_make" IS 'The device maker, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."device_model" IS 'The device model, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."system" IS 'The operating system, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."system_language" IS 'The system''s language, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."browser" IS 'The browser, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."browser_version" IS 'The browser''s version, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."product_git_hash" IS 'The app build''s commit, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."product_language" IS 'The app''s language, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."user_id" IS 'The user, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."tenant_id" IS 'The tenant, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."ip" IS 'The client address: the payload''s, else the one the collector saw (masked when FERRY_MASK_IP is on).';
COMMENT ON COLUMN "ferry"."events"."country" IS 'The country the payload names, NULL when not sent.';
COMMENT ON COLUMN "ferry"."events"."parameters" IS 'The event''s parameters as one JSON object (a repeated name keeps its last value).';
COMMENT ON COLUMN "ferry"."events"."received_at" IS 'When the collector received the request, by the server''s clock, UTC. Decides the date partition ferry load --from/--to means.';
COMMENT ON COLUMN "ferry"."events"."sent_at" IS 'When the client says it sent the request (X-Hamustro-Time), UTC; NULL when it did not say.';
COMMENT ON COLUMN "ferry"."events"."clock_skew_s" IS 'received_at minus sent_at in whole seconds: how far the device''s clock is behind; NULL without sent_at.';
COMMENT ON COLUMN "ferry"."events"."at_corrected" IS 'at plus clock_skew_s when the skew is over FERRY_CLOCK_SKEW_THRESHOLD_S, else at. Use it for daily activity.';
COMMENT ON COLUMN "ferry"."events"."source_key" IS 'The raw object in storage the row was parsed from.';
COMMENT ON COLUMN "ferry"."events"."fingerprint" IS 'Hex hash of the payload as the client sent it: tells a re-send (same) from a different event sharing (session, nr).';
COMMENT ON TABLE "ferry"."source_counts" IS 'Data quality per parsed input version, from the parser''s summary: lines = accepted + ignored + rejected.';
COMMENT ON COLUMN "ferry"."source_counts"."summary_key" IS 'The parser''s summary object this row came from.';
COMMENT ON COLUMN "ferry"."source_counts"."source" IS 'The source: events, or the rules file that parsed the log.';
COMMENT ON COLUMN "ferry"."source_counts"."source_key" IS 'The input object (raw events or a log).';
COMMENT ON COLUMN "ferry"."source_counts"."source_etag" IS 'The input object''s version (ETag).';
COMMENT ON COLUMN "ferry"."source_counts"."date" IS 'The date partition of the input (YYYY-MM-DD): the receive date of raw events, the date in a log key or its upload date.';
COMMENT ON COLUMN "ferry"."source_counts"."lines" IS 'Lines (or events) read from the input.';
COMMENT ON COLUMN "ferry"."source_counts"."accepted" IS 'Lines that became rows.';
COMMENT ON COLUMN "ferry"."source_counts"."ignored" IS 'Lines skipped on purpose (blank, filtered or matched by no rule); ignored_by splits them.';
COMMENT ON COLUMN "ferry"."source_counts"."rejected" IS 'Lines refused as malformed (written to rejected/ with the reason).';
COMMENT ON COLUMN "ferry"."source_counts"."ignored_by" IS 'Ignored lines per reason, as a JSON object.';
COMMENT ON COLUMN "ferry"."source_counts"."rows" IS 'Rows written per output table, as a JSON object.';
COMMENT ON COLUMN "ferry"."source_counts"."collisions" IS 'Event rows of this input that share (session, nr) with a stored event of other content.';
COMMENT ON COLUMN "ferry"."source_counts"."replaced" IS 'Values whose unstorable characters (NUL, lone surrogates, invalid UTF-8) became U+FFFD.';
COMMIT;
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
SELECT file_key, etag FROM "ferry"."load_quarantine" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
BEGIN;
LOCK "ferry"."load_manifest";
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
CREATE TEMP TABLE "ferry_staging_events" (LIKE "ferry"."events");
COPY "ferry_staging_events" ("device_id", "client_id", "session", "nr", "env", "system_version", "product_version", "at", "timezone", "event", "device_make", "device_model", "system", "system_language", "browser", "browser_version", "product_git_hash", "product_language", "user_id", "tenant_id", "ip", "country", "parameters", "received_at", "sent_at", "clock_skew_s", "at_corrected", "source_key", "fingerprint")
FROM 's3://ferry-events/load-manifests/events/run-1/events-1.manifest'
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
INSERT INTO "ferry"."load_manifest" (file_key, etag, table_name, rows_expected, rows_loaded, run_id) VALUES ('parsed/events/2026-11-23/a.csv.gz', 'etag-a', 'events', 2, 2, 'run-1'), ('parsed/events/2026-11-23/b.csv.gz', 'etag-b', 'events', 1, 1, 'run-1');
UPDATE "ferry"."load_collisions" SET collisions = "ferry"."load_collisions".collisions + u.n FROM (
SELECT CAST('raw/events/2026/11/23/10/web-quoted-values.ndjson.gz' AS VARCHAR(1024)) AS source_key, CAST(1 AS BIGINT) AS n
) u WHERE "ferry"."load_collisions".source_key = u.source_key;
INSERT INTO "ferry"."load_collisions" (source_key, collisions) SELECT u.source_key, u.n FROM (
SELECT CAST('raw/events/2026/11/23/10/web-quoted-values.ndjson.gz' AS VARCHAR(1024)) AS source_key, CAST(1 AS BIGINT) AS n
) u WHERE NOT EXISTS (SELECT 1 FROM "ferry"."load_collisions" c WHERE c.source_key = u.source_key);
COMMIT;
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
SELECT file_key, etag FROM "ferry"."load_quarantine" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
SELECT source_key, collisions FROM "ferry"."load_collisions" WHERE source_key IN ('raw/events/2026/11/23/10/01ABC.ndjson.gz');
BEGIN;
LOCK "ferry"."load_manifest";
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
CREATE TEMP TABLE "ferry_staging_source_counts" (LIKE "ferry"."source_counts");
INSERT INTO "ferry_staging_source_counts" ("summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows", "collisions", "replaced") VALUES ('summaries/2026-11-23/01ABC.json', 'events', 'raw/events/2026/11/23/10/01ABC.ndjson.gz', 'etag-01ABC', '2026-11-23', '2', '2', '0', '0', '{"blank":0,"filtered":0,"rule":0,"unmatched":0}', '{"events":3}', '0', '0');
INSERT INTO "ferry"."source_counts" ("summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows", "collisions", "replaced")
SELECT "summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows", "collisions", "replaced" FROM (
  SELECT "summary_key", "source", "source_key", "source_etag", "date", "lines", "accepted", "ignored", "rejected", "ignored_by", "rows", "collisions", "replaced", ROW_NUMBER() OVER (PARTITION BY "summary_key", "source_key" ORDER BY "summary_key", "source_key") AS ferry_rank
  FROM "ferry_staging_source_counts"
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM "ferry"."source_counts" t WHERE t."summary_key" = s."summary_key" AND t."source_key" = s."source_key");
DROP TABLE "ferry_staging_source_counts";
INSERT INTO "ferry"."load_manifest" (file_key, etag, table_name, rows_expected, rows_loaded, run_id) VALUES ('summaries/2026-11-23/01ABC.json', 'etag-01ABC', 'source_counts', 1, 1, 'run-1');
COMMIT;
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz');
SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN ('summaries/2026-11-23/01ABC.json');
