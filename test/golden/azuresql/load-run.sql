BEGIN TRANSACTION;
DECLARE @result INT;
EXEC @result = sp_getapplock @Resource = N'ferry.ddl.ferry', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = -1;
SELECT CASE WHEN @result >= 0 THEN 1 ELSE 0 END AS locked;
IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF OBJECT_ID(N'[ferry].[load_manifest]', N'U') IS NULL CREATE TABLE [ferry].[load_manifest] (
  [file_key] NVARCHAR(800) NOT NULL,
  [etag] NVARCHAR(256) NOT NULL,
  [table_name] NVARCHAR(128) NOT NULL,
  [rows_expected] BIGINT NOT NULL,
  [rows_loaded] BIGINT NOT NULL,
  [run_id] NVARCHAR(256) NOT NULL,
  [loaded_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME(),
  CONSTRAINT [pk_load_manifest] PRIMARY KEY NONCLUSTERED ([file_key])
);
IF OBJECT_ID(N'[ferry].[load_failures]', N'U') IS NULL CREATE TABLE [ferry].[load_failures] (
  [run_id] NVARCHAR(256) NOT NULL,
  [table_name] NVARCHAR(128) NOT NULL,
  [code] NVARCHAR(64) NOT NULL,
  [message] NVARCHAR(4000) NOT NULL,
  [file_keys] NVARCHAR(MAX) NOT NULL,
  [failed_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME()
);
IF OBJECT_ID(N'[ferry].[load_quarantine]', N'U') IS NULL CREATE TABLE [ferry].[load_quarantine] (
  [file_key] NVARCHAR(800) NOT NULL,
  [etag] NVARCHAR(256) NOT NULL,
  [table_name] NVARCHAR(128) NOT NULL,
  [code] NVARCHAR(64) NOT NULL,
  [sqlstate] NVARCHAR(64) NULL,
  [message] NVARCHAR(4000) NOT NULL,
  [run_id] NVARCHAR(256) NOT NULL,
  [quarantined_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME(),
  CONSTRAINT [pk_load_quarantine] PRIMARY KEY NONCLUSTERED ([file_key])
);
IF OBJECT_ID(N'[ferry].[events]', N'U') IS NULL CREATE TABLE [ferry].[events] (
  [device_id] NVARCHAR(MAX) NOT NULL,
  [client_id] NVARCHAR(MAX) NOT NULL,
  [session] NVARCHAR(846) NOT NULL,
  [nr] BIGINT NOT NULL,
  [env] NVARCHAR(MAX) NOT NULL,
  [system_version] NVARCHAR(MAX) NOT NULL,
  [product_version] NVARCHAR(MAX) NOT NULL,
  [at] DATETIME2(3) NOT NULL,
  [timezone] NVARCHAR(MAX) NULL,
  [event] NVARCHAR(MAX) NOT NULL,
  [device_make] NVARCHAR(MAX) NULL,
  [device_model] NVARCHAR(MAX) NULL,
  [system] NVARCHAR(MAX) NULL,
  [system_language] NVARCHAR(MAX) NULL,
  [browser] NVARCHAR(MAX) NULL,
  [browser_version] NVARCHAR(MAX) NULL,
  [product_git_hash] NVARCHAR(MAX) NULL,
  [product_language] NVARCHAR(MAX) NULL,
  [user_id] NVARCHAR(MAX) NULL,
  [tenant_id] NVARCHAR(MAX) NULL,
  [ip] NVARCHAR(MAX) NULL,
  [country] NVARCHAR(MAX) NULL,
  [parameters] NVARCHAR(MAX) NOT NULL,
  [received_at] DATETIME2(3) NOT NULL,
  [sent_at] DATETIME2(3) NULL,
  [clock_skew_s] BIGINT NULL,
  [at_corrected] DATETIME2(3) NOT NULL,
  [source_key] NVARCHAR(MAX) NOT NULL,
  CONSTRAINT [pk_events] PRIMARY KEY NONCLUSTERED ([session], [nr])
);
IF COL_LENGTH(N'[ferry].[events]', N'device_id') IS NULL ALTER TABLE [ferry].[events] ADD [device_id] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'client_id') IS NULL ALTER TABLE [ferry].[events] ADD [client_id] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'session') IS NULL ALTER TABLE [ferry].[events] ADD [session] NVARCHAR(846) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'nr') IS NULL ALTER TABLE [ferry].[events] ADD [nr] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[events]', N'env') IS NULL ALTER TABLE [ferry].[events] ADD [env] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'system_version') IS NULL ALTER TABLE [ferry].[events] ADD [system_version] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'product_version') IS NULL ALTER TABLE [ferry].[events] ADD [product_version] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'at') IS NULL ALTER TABLE [ferry].[events] ADD [at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'timezone') IS NULL ALTER TABLE [ferry].[events] ADD [timezone] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'event') IS NULL ALTER TABLE [ferry].[events] ADD [event] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'device_make') IS NULL ALTER TABLE [ferry].[events] ADD [device_make] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'device_model') IS NULL ALTER TABLE [ferry].[events] ADD [device_model] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'system') IS NULL ALTER TABLE [ferry].[events] ADD [system] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'system_language') IS NULL ALTER TABLE [ferry].[events] ADD [system_language] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'browser') IS NULL ALTER TABLE [ferry].[events] ADD [browser] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'browser_version') IS NULL ALTER TABLE [ferry].[events] ADD [browser_version] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'product_git_hash') IS NULL ALTER TABLE [ferry].[events] ADD [product_git_hash] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'product_language') IS NULL ALTER TABLE [ferry].[events] ADD [product_language] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'user_id') IS NULL ALTER TABLE [ferry].[events] ADD [user_id] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'tenant_id') IS NULL ALTER TABLE [ferry].[events] ADD [tenant_id] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'ip') IS NULL ALTER TABLE [ferry].[events] ADD [ip] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'country') IS NULL ALTER TABLE [ferry].[events] ADD [country] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'parameters') IS NULL ALTER TABLE [ferry].[events] ADD [parameters] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'received_at') IS NULL ALTER TABLE [ferry].[events] ADD [received_at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'sent_at') IS NULL ALTER TABLE [ferry].[events] ADD [sent_at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'clock_skew_s') IS NULL ALTER TABLE [ferry].[events] ADD [clock_skew_s] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[events]', N'at_corrected') IS NULL ALTER TABLE [ferry].[events] ADD [at_corrected] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'source_key') IS NULL ALTER TABLE [ferry].[events] ADD [source_key] NVARCHAR(MAX) NULL;
IF OBJECT_ID(N'[ferry].[source_counts]', N'U') IS NULL CREATE TABLE [ferry].[source_counts] (
  [summary_key] NVARCHAR(850) NOT NULL,
  [source] NVARCHAR(MAX) NOT NULL,
  [source_key] NVARCHAR(MAX) NOT NULL,
  [source_etag] NVARCHAR(MAX) NOT NULL,
  [date] NVARCHAR(MAX) NOT NULL,
  [lines] BIGINT NOT NULL,
  [accepted] BIGINT NOT NULL,
  [ignored] BIGINT NOT NULL,
  [rejected] BIGINT NOT NULL,
  [ignored_by] NVARCHAR(MAX) NOT NULL,
  [rows] NVARCHAR(MAX) NOT NULL,
  CONSTRAINT [pk_source_counts] PRIMARY KEY NONCLUSTERED ([summary_key])
);
IF COL_LENGTH(N'[ferry].[source_counts]', N'summary_key') IS NULL ALTER TABLE [ferry].[source_counts] ADD [summary_key] NVARCHAR(850) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source_key') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source_key] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source_etag') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source_etag] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'date') IS NULL ALTER TABLE [ferry].[source_counts] ADD [date] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'lines') IS NULL ALTER TABLE [ferry].[source_counts] ADD [lines] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'accepted') IS NULL ALTER TABLE [ferry].[source_counts] ADD [accepted] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'ignored') IS NULL ALTER TABLE [ferry].[source_counts] ADD [ignored] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'rejected') IS NULL ALTER TABLE [ferry].[source_counts] ADD [rejected] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'ignored_by') IS NULL ALTER TABLE [ferry].[source_counts] ADD [ignored_by] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'rows') IS NULL ALTER TABLE [ferry].[source_counts] ADD [rows] NVARCHAR(MAX) NULL;
COMMIT TRANSACTION;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'parsed/events/2026-11-23/a.csv.gz', N'parsed/events/2026-11-23/b.csv.gz');
SELECT file_key, etag FROM [ferry].[load_quarantine] WHERE file_key IN (N'parsed/events/2026-11-23/a.csv.gz', N'parsed/events/2026-11-23/b.csv.gz');
BEGIN TRANSACTION;
DECLARE @result INT;
EXEC @result = sp_getapplock @Resource = N'ferry.load.ferry.events', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 0;
SELECT CASE WHEN @result >= 0 THEN 1 ELSE 0 END AS locked;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'parsed/events/2026-11-23/a.csv.gz', N'parsed/events/2026-11-23/b.csv.gz');
CREATE TABLE #ferry_staging_events (
  [device_id] NVARCHAR(MAX) NULL,
  [client_id] NVARCHAR(MAX) NULL,
  [session] NVARCHAR(846) NULL,
  [nr] BIGINT NULL,
  [env] NVARCHAR(MAX) NULL,
  [system_version] NVARCHAR(MAX) NULL,
  [product_version] NVARCHAR(MAX) NULL,
  [at] DATETIME2(3) NULL,
  [timezone] NVARCHAR(MAX) NULL,
  [event] NVARCHAR(MAX) NULL,
  [device_make] NVARCHAR(MAX) NULL,
  [device_model] NVARCHAR(MAX) NULL,
  [system] NVARCHAR(MAX) NULL,
  [system_language] NVARCHAR(MAX) NULL,
  [browser] NVARCHAR(MAX) NULL,
  [browser_version] NVARCHAR(MAX) NULL,
  [product_git_hash] NVARCHAR(MAX) NULL,
  [product_language] NVARCHAR(MAX) NULL,
  [user_id] NVARCHAR(MAX) NULL,
  [tenant_id] NVARCHAR(MAX) NULL,
  [ip] NVARCHAR(MAX) NULL,
  [country] NVARCHAR(MAX) NULL,
  [parameters] NVARCHAR(MAX) NULL,
  [received_at] DATETIME2(3) NULL,
  [sent_at] DATETIME2(3) NULL,
  [clock_skew_s] BIGINT NULL,
  [at_corrected] DATETIME2(3) NULL,
  [source_key] NVARCHAR(MAX) NULL
);
-- TDS bulk load (tedious execBulkLoad) into #ferry_staging_events (device_id, client_id, session, nr, env, system_version, product_version, at, timezone, event, device_make, device_model, system, system_language, browser, browser_version, product_git_hash, product_language, user_id, tenant_id, ip, country, parameters, received_at, sent_at, clock_skew_s, at_corrected, source_key): 2 rows
-- TDS bulk load (tedious execBulkLoad) into #ferry_staging_events (device_id, client_id, session, nr, env, system_version, product_version, at, timezone, event, device_make, device_model, system, system_language, browser, browser_version, product_git_hash, product_language, user_id, tenant_id, ip, country, parameters, received_at, sent_at, clock_skew_s, at_corrected, source_key): 1 rows
INSERT INTO [ferry].[events] ([device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key])
SELECT [device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key] FROM (
  SELECT [device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], ROW_NUMBER() OVER (PARTITION BY [session], [nr] ORDER BY [received_at]) AS ferry_rank
  FROM #ferry_staging_events
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM [ferry].[events] t WHERE t.[session] = s.[session] AND t.[nr] = s.[nr]);
DROP TABLE #ferry_staging_events;
INSERT INTO [ferry].[load_manifest] (file_key, etag, table_name, rows_expected, rows_loaded, run_id)
SELECT N'parsed/events/2026-11-23/a.csv.gz', N'etag-a', N'events', 2, 2, N'run-1'
UNION ALL SELECT N'parsed/events/2026-11-23/b.csv.gz', N'etag-b', N'events', 1, 1, N'run-1';
COMMIT TRANSACTION;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
SELECT file_key, etag FROM [ferry].[load_quarantine] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
BEGIN TRANSACTION;
DECLARE @result INT;
EXEC @result = sp_getapplock @Resource = N'ferry.load.ferry.source_counts', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 0;
SELECT CASE WHEN @result >= 0 THEN 1 ELSE 0 END AS locked;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
CREATE TABLE #ferry_staging_source_counts (
  [summary_key] NVARCHAR(850) NULL,
  [source] NVARCHAR(MAX) NULL,
  [source_key] NVARCHAR(MAX) NULL,
  [source_etag] NVARCHAR(MAX) NULL,
  [date] NVARCHAR(MAX) NULL,
  [lines] BIGINT NULL,
  [accepted] BIGINT NULL,
  [ignored] BIGINT NULL,
  [rejected] BIGINT NULL,
  [ignored_by] NVARCHAR(MAX) NULL,
  [rows] NVARCHAR(MAX) NULL
);
-- TDS bulk load (tedious execBulkLoad) into #ferry_staging_source_counts (summary_key, source, source_key, source_etag, date, lines, accepted, ignored, rejected, ignored_by, rows): 1 rows
INSERT INTO [ferry].[source_counts] ([summary_key], [source], [source_key], [source_etag], [date], [lines], [accepted], [ignored], [rejected], [ignored_by], [rows])
SELECT [summary_key], [source], [source_key], [source_etag], [date], [lines], [accepted], [ignored], [rejected], [ignored_by], [rows] FROM (
  SELECT [summary_key], [source], [source_key], [source_etag], [date], [lines], [accepted], [ignored], [rejected], [ignored_by], [rows], ROW_NUMBER() OVER (PARTITION BY [summary_key] ORDER BY [summary_key]) AS ferry_rank
  FROM #ferry_staging_source_counts
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM [ferry].[source_counts] t WHERE t.[summary_key] = s.[summary_key]);
DROP TABLE #ferry_staging_source_counts;
INSERT INTO [ferry].[load_manifest] (file_key, etag, table_name, rows_expected, rows_loaded, run_id)
SELECT N'summaries/2026-11-23/01ABC.json', N'etag-01ABC', N'source_counts', 1, 1, N'run-1';
COMMIT TRANSACTION;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'parsed/events/2026-11-23/a.csv.gz', N'parsed/events/2026-11-23/b.csv.gz');
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
