IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF OBJECT_ID(N'[ferry].[load_manifest]', N'U') IS NULL CREATE TABLE [ferry].[load_manifest] (
  [file_key] VARCHAR(1600) NOT NULL,
  [etag] VARCHAR(512) NOT NULL,
  [table_name] VARCHAR(256) NOT NULL,
  [rows_expected] BIGINT NOT NULL,
  [rows_loaded] BIGINT NOT NULL,
  [run_id] VARCHAR(512) NOT NULL,
  [loaded_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME()
);
IF OBJECT_ID(N'[ferry].[load_failures]', N'U') IS NULL CREATE TABLE [ferry].[load_failures] (
  [run_id] VARCHAR(512) NOT NULL,
  [table_name] VARCHAR(256) NOT NULL,
  [code] VARCHAR(128) NOT NULL,
  [message] VARCHAR(8000) NOT NULL,
  [file_keys] VARCHAR(MAX) NOT NULL,
  [failed_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME()
);
IF OBJECT_ID(N'[ferry].[load_quarantine]', N'U') IS NULL CREATE TABLE [ferry].[load_quarantine] (
  [file_key] VARCHAR(1600) NOT NULL,
  [etag] VARCHAR(512) NOT NULL,
  [table_name] VARCHAR(256) NOT NULL,
  [code] VARCHAR(128) NOT NULL,
  [sqlstate] VARCHAR(128) NULL,
  [message] VARCHAR(8000) NOT NULL,
  [run_id] VARCHAR(512) NOT NULL,
  [quarantined_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME()
);
IF OBJECT_ID(N'[ferry].[load_collisions]', N'U') IS NULL CREATE TABLE [ferry].[load_collisions] (
  [source_key] VARCHAR(1600) NOT NULL,
  [collisions] BIGINT NOT NULL
);
IF OBJECT_ID(N'[ferry].[load_leases]', N'U') IS NULL CREATE TABLE [ferry].[load_leases] (
  [table_name] VARCHAR(256) NOT NULL,
  [run_id] VARCHAR(512) NULL,
  [expires_at] DATETIME2(3) NULL
);
IF OBJECT_ID(N'[ferry].[events]', N'U') IS NULL CREATE TABLE [ferry].[events] (
  [device_id] VARCHAR(8000) NOT NULL,
  [client_id] VARCHAR(8000) NOT NULL,
  [session] VARCHAR(8000) NOT NULL,
  [nr] BIGINT NOT NULL,
  [env] VARCHAR(8000) NOT NULL,
  [system_version] VARCHAR(8000) NOT NULL,
  [product_version] VARCHAR(8000) NOT NULL,
  [at] DATETIME2(3) NOT NULL,
  [timezone] VARCHAR(8000) NULL,
  [event] VARCHAR(8000) NOT NULL,
  [device_make] VARCHAR(8000) NULL,
  [device_model] VARCHAR(8000) NULL,
  [system] VARCHAR(8000) NULL,
  [system_language] VARCHAR(8000) NULL,
  [browser] VARCHAR(8000) NULL,
  [browser_version] VARCHAR(8000) NULL,
  [product_git_hash] VARCHAR(8000) NULL,
  [product_language] VARCHAR(8000) NULL,
  [user_id] VARCHAR(8000) NULL,
  [tenant_id] VARCHAR(8000) NULL,
  [ip] VARCHAR(8000) NULL,
  [country] VARCHAR(8000) NULL,
  [parameters] VARCHAR(MAX) NOT NULL,
  [received_at] DATETIME2(3) NOT NULL,
  [sent_at] DATETIME2(3) NULL,
  [clock_skew_s] BIGINT NULL,
  [at_corrected] DATETIME2(3) NOT NULL,
  [source_key] VARCHAR(8000) NOT NULL,
  [fingerprint] VARCHAR(8000) NOT NULL
);
IF OBJECT_ID(N'[ferry].[ferry_staging_events]', N'U') IS NULL CREATE TABLE [ferry].[ferry_staging_events] (
  [device_id] VARCHAR(8000) NULL,
  [client_id] VARCHAR(8000) NULL,
  [session] VARCHAR(8000) NULL,
  [nr] BIGINT NULL,
  [env] VARCHAR(8000) NULL,
  [system_version] VARCHAR(8000) NULL,
  [product_version] VARCHAR(8000) NULL,
  [at] DATETIME2(3) NULL,
  [timezone] VARCHAR(8000) NULL,
  [event] VARCHAR(8000) NULL,
  [device_make] VARCHAR(8000) NULL,
  [device_model] VARCHAR(8000) NULL,
  [system] VARCHAR(8000) NULL,
  [system_language] VARCHAR(8000) NULL,
  [browser] VARCHAR(8000) NULL,
  [browser_version] VARCHAR(8000) NULL,
  [product_git_hash] VARCHAR(8000) NULL,
  [product_language] VARCHAR(8000) NULL,
  [user_id] VARCHAR(8000) NULL,
  [tenant_id] VARCHAR(8000) NULL,
  [ip] VARCHAR(8000) NULL,
  [country] VARCHAR(8000) NULL,
  [parameters] VARCHAR(MAX) NULL,
  [received_at] DATETIME2(3) NULL,
  [sent_at] DATETIME2(3) NULL,
  [clock_skew_s] BIGINT NULL,
  [at_corrected] DATETIME2(3) NULL,
  [source_key] VARCHAR(8000) NULL,
  [fingerprint] VARCHAR(8000) NULL
);
IF COL_LENGTH(N'[ferry].[events]', N'device_id') IS NULL ALTER TABLE [ferry].[events] ADD [device_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'client_id') IS NULL ALTER TABLE [ferry].[events] ADD [client_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'session') IS NULL ALTER TABLE [ferry].[events] ADD [session] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'nr') IS NULL ALTER TABLE [ferry].[events] ADD [nr] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[events]', N'env') IS NULL ALTER TABLE [ferry].[events] ADD [env] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'system_version') IS NULL ALTER TABLE [ferry].[events] ADD [system_version] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'product_version') IS NULL ALTER TABLE [ferry].[events] ADD [product_version] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'at') IS NULL ALTER TABLE [ferry].[events] ADD [at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'timezone') IS NULL ALTER TABLE [ferry].[events] ADD [timezone] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'event') IS NULL ALTER TABLE [ferry].[events] ADD [event] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'device_make') IS NULL ALTER TABLE [ferry].[events] ADD [device_make] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'device_model') IS NULL ALTER TABLE [ferry].[events] ADD [device_model] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'system') IS NULL ALTER TABLE [ferry].[events] ADD [system] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'system_language') IS NULL ALTER TABLE [ferry].[events] ADD [system_language] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'browser') IS NULL ALTER TABLE [ferry].[events] ADD [browser] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'browser_version') IS NULL ALTER TABLE [ferry].[events] ADD [browser_version] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'product_git_hash') IS NULL ALTER TABLE [ferry].[events] ADD [product_git_hash] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'product_language') IS NULL ALTER TABLE [ferry].[events] ADD [product_language] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'user_id') IS NULL ALTER TABLE [ferry].[events] ADD [user_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'tenant_id') IS NULL ALTER TABLE [ferry].[events] ADD [tenant_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'ip') IS NULL ALTER TABLE [ferry].[events] ADD [ip] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'country') IS NULL ALTER TABLE [ferry].[events] ADD [country] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'parameters') IS NULL ALTER TABLE [ferry].[events] ADD [parameters] VARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'received_at') IS NULL ALTER TABLE [ferry].[events] ADD [received_at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'sent_at') IS NULL ALTER TABLE [ferry].[events] ADD [sent_at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'clock_skew_s') IS NULL ALTER TABLE [ferry].[events] ADD [clock_skew_s] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[events]', N'at_corrected') IS NULL ALTER TABLE [ferry].[events] ADD [at_corrected] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'source_key') IS NULL ALTER TABLE [ferry].[events] ADD [source_key] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'fingerprint') IS NULL ALTER TABLE [ferry].[events] ADD [fingerprint] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'device_id') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [device_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'client_id') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [client_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'session') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [session] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'nr') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [nr] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'env') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [env] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'system_version') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [system_version] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'product_version') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [product_version] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'at') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'timezone') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [timezone] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'event') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [event] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'device_make') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [device_make] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'device_model') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [device_model] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'system') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [system] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'system_language') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [system_language] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'browser') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [browser] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'browser_version') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [browser_version] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'product_git_hash') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [product_git_hash] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'product_language') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [product_language] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'user_id') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [user_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'tenant_id') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [tenant_id] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'ip') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [ip] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'country') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [country] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'parameters') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [parameters] VARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'received_at') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [received_at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'sent_at') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [sent_at] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'clock_skew_s') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [clock_skew_s] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'at_corrected') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [at_corrected] DATETIME2(3) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'source_key') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [source_key] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_events]', N'fingerprint') IS NULL ALTER TABLE [ferry].[ferry_staging_events] ADD [fingerprint] VARCHAR(8000) NULL;
INSERT INTO [ferry].[load_leases] (table_name) SELECT N'events' WHERE NOT EXISTS (SELECT 1 FROM [ferry].[load_leases] WHERE table_name = N'events');
IF OBJECT_ID(N'[ferry].[source_counts]', N'U') IS NULL CREATE TABLE [ferry].[source_counts] (
  [summary_key] VARCHAR(8000) NOT NULL,
  [source] VARCHAR(8000) NOT NULL,
  [source_key] VARCHAR(8000) NOT NULL,
  [source_etag] VARCHAR(8000) NOT NULL,
  [date] VARCHAR(8000) NOT NULL,
  [lines] BIGINT NOT NULL,
  [accepted] BIGINT NOT NULL,
  [ignored] BIGINT NOT NULL,
  [rejected] BIGINT NOT NULL,
  [ignored_by] VARCHAR(MAX) NOT NULL,
  [rows] VARCHAR(MAX) NOT NULL,
  [collisions] BIGINT NOT NULL,
  [replaced] BIGINT NOT NULL
);
IF OBJECT_ID(N'[ferry].[ferry_staging_source_counts]', N'U') IS NULL CREATE TABLE [ferry].[ferry_staging_source_counts] (
  [summary_key] VARCHAR(8000) NULL,
  [source] VARCHAR(8000) NULL,
  [source_key] VARCHAR(8000) NULL,
  [source_etag] VARCHAR(8000) NULL,
  [date] VARCHAR(8000) NULL,
  [lines] BIGINT NULL,
  [accepted] BIGINT NULL,
  [ignored] BIGINT NULL,
  [rejected] BIGINT NULL,
  [ignored_by] VARCHAR(MAX) NULL,
  [rows] VARCHAR(MAX) NULL,
  [collisions] BIGINT NULL,
  [replaced] BIGINT NULL
);
IF COL_LENGTH(N'[ferry].[source_counts]', N'summary_key') IS NULL ALTER TABLE [ferry].[source_counts] ADD [summary_key] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source_key') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source_key] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source_etag') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source_etag] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'date') IS NULL ALTER TABLE [ferry].[source_counts] ADD [date] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'lines') IS NULL ALTER TABLE [ferry].[source_counts] ADD [lines] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'accepted') IS NULL ALTER TABLE [ferry].[source_counts] ADD [accepted] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'ignored') IS NULL ALTER TABLE [ferry].[source_counts] ADD [ignored] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'rejected') IS NULL ALTER TABLE [ferry].[source_counts] ADD [rejected] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'ignored_by') IS NULL ALTER TABLE [ferry].[source_counts] ADD [ignored_by] VARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'rows') IS NULL ALTER TABLE [ferry].[source_counts] ADD [rows] VARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'collisions') IS NULL ALTER TABLE [ferry].[source_counts] ADD [collisions] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'replaced') IS NULL ALTER TABLE [ferry].[source_counts] ADD [replaced] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'summary_key') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [summary_key] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'source') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [source] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'source_key') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [source_key] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'source_etag') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [source_etag] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'date') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [date] VARCHAR(8000) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'lines') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [lines] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'accepted') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [accepted] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'ignored') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [ignored] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'rejected') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [rejected] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'ignored_by') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [ignored_by] VARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'rows') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [rows] VARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'collisions') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [collisions] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[ferry_staging_source_counts]', N'replaced') IS NULL ALTER TABLE [ferry].[ferry_staging_source_counts] ADD [replaced] BIGINT NULL;
INSERT INTO [ferry].[load_leases] (table_name) SELECT N'source_counts' WHERE NOT EXISTS (SELECT 1 FROM [ferry].[load_leases] WHERE table_name = N'source_counts');
SELECT TOP (20000) [session], CONVERT(VARCHAR(20), [nr]) AS [nr], [device_id], [client_id], [env], [system_version], [product_version], CONVERT(VARCHAR(19), [at], 120) AS [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [country], [parameters] FROM [ferry].[events] WHERE [fingerprint] IS NULL ORDER BY [session], [nr];
UPDATE [ferry].[events] SET [fingerprint] = u.v FROM (
SELECT N'7f6797afd300a47cef3d73e2f4863976' AS k0, CAST(N'41' AS BIGINT) AS k1, N'7f8a6ac9ab6203c583066f39132604d3' AS v
) u
WHERE [ferry].[events].[session] = u.k0 AND [ferry].[events].[nr] = u.k1 AND [ferry].[events].[fingerprint] IS NULL;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'parsed/events/2026-11-23/c.csv.gz');
SELECT file_key, etag FROM [ferry].[load_quarantine] WHERE file_key IN (N'parsed/events/2026-11-23/c.csv.gz');
BEGIN TRANSACTION;
UPDATE [ferry].[load_leases] SET run_id = N'run-mismatch', expires_at = DATEADD(second, 3600, SYSUTCDATETIME())
WHERE table_name = N'events' AND (run_id IS NULL OR expires_at < SYSUTCDATETIME());
COMMIT TRANSACTION;
BEGIN TRANSACTION;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'parsed/events/2026-11-23/c.csv.gz');
DELETE FROM [ferry].[ferry_staging_events];
COPY INTO [ferry].[ferry_staging_events] ([device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], [fingerprint])
FROM 'https://ferryevents.blob.core.windows.net/ferry/parsed/events/2026-11-23/c.csv.gz'
WITH (
  FILE_TYPE = 'CSV',
  COMPRESSION = 'GZIP',
  FIELDQUOTE = '"',
  FIELDTERMINATOR = ',',
  ROWTERMINATOR = '0x0A',
  ENCODING = 'UTF8',
  MAXERRORS = 0
);
SELECT COUNT_BIG(*) AS copied FROM [ferry].[ferry_staging_events];
SELECT n.[source_key] AS source_key, COUNT(*) AS collisions
FROM (
  SELECT s.[source_key], s.[session], s.[nr], s.[fingerprint], s.[received_at],
    ROW_NUMBER() OVER (PARTITION BY s.[session], s.[nr] ORDER BY s.[received_at], s.[fingerprint]) AS ferry_order
  FROM (
    SELECT [source_key], [session], [nr], [fingerprint], [received_at], ROW_NUMBER() OVER (PARTITION BY [session], [nr], [fingerprint] ORDER BY [received_at]) AS ferry_rank
    FROM [ferry].[ferry_staging_events]
  ) s
  WHERE s.ferry_rank = 1
    AND NOT EXISTS (SELECT 1 FROM [ferry].[events] t WHERE t.[session] = s.[session] AND t.[nr] = s.[nr] AND t.[fingerprint] = s.[fingerprint])
) n
LEFT JOIN (
  SELECT DISTINCT t.[session], t.[nr] FROM [ferry].[events] t INNER JOIN [ferry].[ferry_staging_events] g ON t.[session] = g.[session] AND t.[nr] = g.[nr]
) p ON p.[session] = n.[session] AND p.[nr] = n.[nr]
WHERE n.ferry_order > 1 OR p.[session] IS NOT NULL
GROUP BY n.[source_key];
INSERT INTO [ferry].[events] ([device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], [fingerprint])
SELECT [device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], [fingerprint] FROM (
  SELECT [device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], [fingerprint], ROW_NUMBER() OVER (PARTITION BY [session], [nr], [fingerprint] ORDER BY [received_at]) AS ferry_rank
  FROM [ferry].[ferry_staging_events]
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM [ferry].[events] t WHERE t.[session] = s.[session] AND t.[nr] = s.[nr] AND t.[fingerprint] = s.[fingerprint]);
DELETE FROM [ferry].[ferry_staging_events];
ROLLBACK TRANSACTION;
BEGIN TRANSACTION;
UPDATE [ferry].[load_leases] SET run_id = NULL, expires_at = NULL WHERE table_name = N'events' AND run_id = N'run-mismatch';
COMMIT TRANSACTION;
BEGIN TRANSACTION;
DELETE FROM [ferry].[load_quarantine] WHERE file_key IN (N'parsed/events/2026-11-23/c.csv.gz');
INSERT INTO [ferry].[load_quarantine] (file_key, etag, table_name, code, sqlstate, message, run_id)
SELECT N'parsed/events/2026-11-23/c.csv.gz', N'etag-c', N'events', N'load_failed', NULL, N'row count mismatch in parsed/events/2026-11-23/c.csv.gz: parser wrote 5, warehouse loaded 2', N'run-mismatch';
COMMIT TRANSACTION;
