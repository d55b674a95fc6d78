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
IF OBJECT_ID(N'[ferry].[load_collisions]', N'U') IS NULL CREATE TABLE [ferry].[load_collisions] (
  [source_key] NVARCHAR(800) NOT NULL,
  [collisions] BIGINT NOT NULL,
  CONSTRAINT [pk_load_collisions] PRIMARY KEY NONCLUSTERED ([source_key])
);
IF OBJECT_ID(N'[ferry].[events]', N'U') IS NULL CREATE TABLE [ferry].[events] (
  [device_id] NVARCHAR(MAX) NOT NULL,
  [client_id] NVARCHAR(MAX) NOT NULL,
  [session] NVARCHAR(423) NOT NULL,
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
  [fingerprint] NVARCHAR(423) NOT NULL,
  CONSTRAINT [pk_events] PRIMARY KEY NONCLUSTERED ([session], [nr], [fingerprint])
);
IF COL_LENGTH(N'[ferry].[events]', N'device_id') IS NULL ALTER TABLE [ferry].[events] ADD [device_id] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'client_id') IS NULL ALTER TABLE [ferry].[events] ADD [client_id] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[events]', N'session') IS NULL ALTER TABLE [ferry].[events] ADD [session] NVARCHAR(423) NULL;
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
IF COL_LENGTH(N'[ferry].[events]', N'fingerprint') IS NULL ALTER TABLE [ferry].[events] ADD [fingerprint] NVARCHAR(423) NULL;
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'[ferry].[events]') AND name = N'ix_events_at_corrected') CREATE NONCLUSTERED INDEX [ix_events_at_corrected] ON [ferry].[events] ([at_corrected]);
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'[ferry].[events]') AND name = N'ix_events_received_at') CREATE NONCLUSTERED INDEX [ix_events_received_at] ON [ferry].[events] ([received_at]);
IF OBJECT_ID(N'[ferry].[source_counts]', N'U') IS NULL CREATE TABLE [ferry].[source_counts] (
  [summary_key] NVARCHAR(425) NOT NULL,
  [source] NVARCHAR(MAX) NOT NULL,
  [source_key] NVARCHAR(425) NOT NULL,
  [source_etag] NVARCHAR(MAX) NOT NULL,
  [date] NVARCHAR(MAX) NOT NULL,
  [lines] BIGINT NOT NULL,
  [accepted] BIGINT NOT NULL,
  [ignored] BIGINT NOT NULL,
  [rejected] BIGINT NOT NULL,
  [ignored_by] NVARCHAR(MAX) NOT NULL,
  [rows] NVARCHAR(MAX) NOT NULL,
  [collisions] BIGINT NOT NULL,
  [replaced] BIGINT NOT NULL,
  CONSTRAINT [pk_source_counts] PRIMARY KEY NONCLUSTERED ([summary_key], [source_key])
);
IF COL_LENGTH(N'[ferry].[source_counts]', N'summary_key') IS NULL ALTER TABLE [ferry].[source_counts] ADD [summary_key] NVARCHAR(425) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source_key') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source_key] NVARCHAR(425) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'source_etag') IS NULL ALTER TABLE [ferry].[source_counts] ADD [source_etag] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'date') IS NULL ALTER TABLE [ferry].[source_counts] ADD [date] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'lines') IS NULL ALTER TABLE [ferry].[source_counts] ADD [lines] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'accepted') IS NULL ALTER TABLE [ferry].[source_counts] ADD [accepted] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'ignored') IS NULL ALTER TABLE [ferry].[source_counts] ADD [ignored] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'rejected') IS NULL ALTER TABLE [ferry].[source_counts] ADD [rejected] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'ignored_by') IS NULL ALTER TABLE [ferry].[source_counts] ADD [ignored_by] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'rows') IS NULL ALTER TABLE [ferry].[source_counts] ADD [rows] NVARCHAR(MAX) NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'collisions') IS NULL ALTER TABLE [ferry].[source_counts] ADD [collisions] BIGINT NULL;
IF COL_LENGTH(N'[ferry].[source_counts]', N'replaced') IS NULL ALTER TABLE [ferry].[source_counts] ADD [replaced] BIGINT NULL;
SELECT c.name AS column_name, i.name AS constraint_name
FROM sys.indexes i
INNER JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
INNER JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = OBJECT_ID(N'[ferry].[events]') AND i.is_primary_key = 1
ORDER BY ic.key_ordinal;
SELECT TOP (20000) [session], CONVERT(VARCHAR(20), [nr]) AS [nr], [device_id], [client_id], [env], [system_version], [product_version], CONVERT(VARCHAR(19), [at], 120) AS [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [country], [parameters] FROM [ferry].[events] WHERE [fingerprint] IS NULL ORDER BY [session], [nr];
UPDATE [ferry].[events] SET [fingerprint] = u.v FROM (
SELECT N'7f6797afd300a47cef3d73e2f4863976' AS k0, CAST(N'41' AS BIGINT) AS k1, N'7f8a6ac9ab6203c583066f39132604d3' AS v
) u
WHERE [ferry].[events].[session] = u.k0 AND [ferry].[events].[nr] = u.k1 AND [ferry].[events].[fingerprint] IS NULL;
ALTER TABLE [ferry].[events] ALTER COLUMN [fingerprint] NVARCHAR(423) NOT NULL;
ALTER TABLE [ferry].[events] DROP CONSTRAINT [pk_events];
ALTER TABLE [ferry].[events] ADD CONSTRAINT [pk_events] PRIMARY KEY NONCLUSTERED ([session], [nr], [fingerprint]);
SELECT c.name AS column_name, i.name AS constraint_name
FROM sys.indexes i
INNER JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
INNER JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = OBJECT_ID(N'[ferry].[source_counts]') AND i.is_primary_key = 1
ORDER BY ic.key_ordinal;
ALTER TABLE [ferry].[source_counts] ALTER COLUMN [source_key] NVARCHAR(425) NOT NULL;
ALTER TABLE [ferry].[source_counts] DROP CONSTRAINT [pk_source_counts];
ALTER TABLE [ferry].[source_counts] ADD CONSTRAINT [pk_source_counts] PRIMARY KEY NONCLUSTERED ([summary_key], [source_key]);
SELECT t.name AS table_name, COALESCE(c.name, N'') AS column_name, CAST(ep.value AS NVARCHAR(4000)) AS description
FROM sys.extended_properties ep
INNER JOIN sys.tables t ON t.object_id = ep.major_id
LEFT JOIN sys.columns c ON c.object_id = ep.major_id AND c.column_id = ep.minor_id AND ep.minor_id > 0
WHERE ep.class = 1 AND ep.name = N'MS_Description' AND t.schema_id = SCHEMA_ID(N'ferry');
EXEC sp_addextendedproperty N'MS_Description', N'One row per parsed file loaded, written in the same transaction as its rows: a file in it is never loaded again.', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest';
EXEC sp_addextendedproperty N'MS_Description', N'The parsed file.', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest', N'COLUMN', N'file_key';
EXEC sp_addextendedproperty N'MS_Description', N'The parsed file''s version (ETag) that was loaded.', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest', N'COLUMN', N'etag';
EXEC sp_addextendedproperty N'MS_Description', N'The table it was loaded into.', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest', N'COLUMN', N'table_name';
EXEC sp_addextendedproperty N'MS_Description', N'Rows the parser wrote into the file.', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest', N'COLUMN', N'rows_expected';
EXEC sp_addextendedproperty N'MS_Description', N'Rows the warehouse read from it (equal to rows_expected, or the batch rolls back).', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest', N'COLUMN', N'rows_loaded';
EXEC sp_addextendedproperty N'MS_Description', N'The load run.', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest', N'COLUMN', N'run_id';
EXEC sp_addextendedproperty N'MS_Description', N'When it was loaded (UTC).', N'SCHEMA', N'ferry', N'TABLE', N'load_manifest', N'COLUMN', N'loaded_at';
EXEC sp_addextendedproperty N'MS_Description', N'One row per rolled-back load batch; ferry status shows the latest.', N'SCHEMA', N'ferry', N'TABLE', N'load_failures';
EXEC sp_addextendedproperty N'MS_Description', N'The load run.', N'SCHEMA', N'ferry', N'TABLE', N'load_failures', N'COLUMN', N'run_id';
EXEC sp_addextendedproperty N'MS_Description', N'The table of the batch.', N'SCHEMA', N'ferry', N'TABLE', N'load_failures', N'COLUMN', N'table_name';
EXEC sp_addextendedproperty N'MS_Description', N'Ferry''s error code.', N'SCHEMA', N'ferry', N'TABLE', N'load_failures', N'COLUMN', N'code';
EXEC sp_addextendedproperty N'MS_Description', N'The error message.', N'SCHEMA', N'ferry', N'TABLE', N'load_failures', N'COLUMN', N'message';
EXEC sp_addextendedproperty N'MS_Description', N'The parsed files of the batch.', N'SCHEMA', N'ferry', N'TABLE', N'load_failures', N'COLUMN', N'file_keys';
EXEC sp_addextendedproperty N'MS_Description', N'When it failed (UTC).', N'SCHEMA', N'ferry', N'TABLE', N'load_failures', N'COLUMN', N'failed_at';
EXEC sp_addextendedproperty N'MS_Description', N'Parsed files the warehouse refused, isolated so the table keeps loading; deleting a row releases the file.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine';
EXEC sp_addextendedproperty N'MS_Description', N'The parsed file.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'file_key';
EXEC sp_addextendedproperty N'MS_Description', N'The file''s version (ETag) that was refused.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'etag';
EXEC sp_addextendedproperty N'MS_Description', N'The table it was meant for.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'table_name';
EXEC sp_addextendedproperty N'MS_Description', N'Ferry''s error code.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'code';
EXEC sp_addextendedproperty N'MS_Description', N'The warehouse''s SQLSTATE or error number.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'sqlstate';
EXEC sp_addextendedproperty N'MS_Description', N'The warehouse''s message.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'message';
EXEC sp_addextendedproperty N'MS_Description', N'The load run that quarantined it.', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'run_id';
EXEC sp_addextendedproperty N'MS_Description', N'When (UTC).', N'SCHEMA', N'ferry', N'TABLE', N'load_quarantine', N'COLUMN', N'quarantined_at';
EXEC sp_addextendedproperty N'MS_Description', N'Collision counts per raw input, kept until its summary loads into source_counts.', N'SCHEMA', N'ferry', N'TABLE', N'load_collisions';
EXEC sp_addextendedproperty N'MS_Description', N'The raw events object.', N'SCHEMA', N'ferry', N'TABLE', N'load_collisions', N'COLUMN', N'source_key';
EXEC sp_addextendedproperty N'MS_Description', N'Event rows of it that share (session, nr) with a stored event of other content.', N'SCHEMA', N'ferry', N'TABLE', N'load_collisions', N'COLUMN', N'collisions';
EXEC sp_addextendedproperty N'MS_Description', N'One row per collected event, flattened with its collection. Keyed (session, nr, fingerprint): a re-sent identical event is stored once. Loaded by the date the collector received it.', N'SCHEMA', N'ferry', N'TABLE', N'events';
EXEC sp_addextendedproperty N'MS_Description', N'The device''s identifier, as the client sent it.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'device_id';
EXEC sp_addextendedproperty N'MS_Description', N'The app or client that sent the event.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'client_id';
EXEC sp_addextendedproperty N'MS_Description', N'The session hash: md5 of device_id, client_id, system_version, product_version and env as its number.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'session';
EXEC sp_addextendedproperty N'MS_Description', N'The event''s number within its session.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'nr';
EXEC sp_addextendedproperty N'MS_Description', N'The collection''s environment by name (PRODUCTION, STAGING, ...).', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'env';
EXEC sp_addextendedproperty N'MS_Description', N'The operating system''s version.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'system_version';
EXEC sp_addextendedproperty N'MS_Description', N'The app''s version.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'product_version';
EXEC sp_addextendedproperty N'MS_Description', N'When the event happened by the device''s clock, UTC. May be wrong by the device''s clock skew; see at_corrected.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'at';
EXEC sp_addextendedproperty N'MS_Description', N'The device''s time zone, e.g. Europe/Berlin; at is UTC regardless.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'timezone';
EXEC sp_addextendedproperty N'MS_Description', N'The event''s name.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'event';
EXEC sp_addextendedproperty N'MS_Description', N'The device maker, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'device_make';
EXEC sp_addextendedproperty N'MS_Description', N'The device model, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'device_model';
EXEC sp_addextendedproperty N'MS_Description', N'The operating system, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'system';
EXEC sp_addextendedproperty N'MS_Description', N'The system''s language, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'system_language';
EXEC sp_addextendedproperty N'MS_Description', N'The browser, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'browser';
EXEC sp_addextendedproperty N'MS_Description', N'The browser''s version, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'browser_version';
EXEC sp_addextendedproperty N'MS_Description', N'The app build''s commit, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'product_git_hash';
EXEC sp_addextendedproperty N'MS_Description', N'The app''s language, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'product_language';
EXEC sp_addextendedproperty N'MS_Description', N'The user, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'user_id';
EXEC sp_addextendedproperty N'MS_Description', N'The tenant, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'tenant_id';
EXEC sp_addextendedproperty N'MS_Description', N'The client address: the payload''s, else the one the collector saw (masked when FERRY_MASK_IP is on).', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'ip';
EXEC sp_addextendedproperty N'MS_Description', N'The country the payload names, NULL when not sent.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'country';
EXEC sp_addextendedproperty N'MS_Description', N'The event''s parameters as one JSON object (a repeated name keeps its last value).', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'parameters';
EXEC sp_addextendedproperty N'MS_Description', N'When the collector received the request, by the server''s clock, UTC. Decides the date partition ferry load --from/--to means.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'received_at';
EXEC sp_addextendedproperty N'MS_Description', N'When the client says it sent the request (X-Hamustro-Time), UTC; NULL when it did not say.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'sent_at';
EXEC sp_addextendedproperty N'MS_Description', N'received_at minus sent_at in whole seconds: how far the device''s clock is behind; NULL without sent_at.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'clock_skew_s';
EXEC sp_addextendedproperty N'MS_Description', N'at plus clock_skew_s when the skew is over FERRY_CLOCK_SKEW_THRESHOLD_S, else at. Use it for daily activity.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'at_corrected';
EXEC sp_addextendedproperty N'MS_Description', N'The raw object in storage the row was parsed from.', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'source_key';
EXEC sp_addextendedproperty N'MS_Description', N'Hex hash of the payload as the client sent it: tells a re-send (same) from a different event sharing (session, nr).', N'SCHEMA', N'ferry', N'TABLE', N'events', N'COLUMN', N'fingerprint';
EXEC sp_addextendedproperty N'MS_Description', N'Data quality per parsed input version, from the parser''s summary: lines = accepted + ignored + rejected.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts';
EXEC sp_addextendedproperty N'MS_Description', N'The parser''s summary object this row came from.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'summary_key';
EXEC sp_addextendedproperty N'MS_Description', N'The source: events, or the rules file that parsed the log.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'source';
EXEC sp_addextendedproperty N'MS_Description', N'The input object (raw events or a log).', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'source_key';
EXEC sp_addextendedproperty N'MS_Description', N'The input object''s version (ETag).', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'source_etag';
EXEC sp_addextendedproperty N'MS_Description', N'The date partition of the input (YYYY-MM-DD): the receive date of raw events, the date in a log key or its upload date.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'date';
EXEC sp_addextendedproperty N'MS_Description', N'Lines (or events) read from the input.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'lines';
EXEC sp_addextendedproperty N'MS_Description', N'Lines that became rows.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'accepted';
EXEC sp_addextendedproperty N'MS_Description', N'Lines skipped on purpose (blank, filtered or matched by no rule); ignored_by splits them.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'ignored';
EXEC sp_addextendedproperty N'MS_Description', N'Lines refused as malformed (written to rejected/ with the reason).', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'rejected';
EXEC sp_addextendedproperty N'MS_Description', N'Ignored lines per reason, as a JSON object.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'ignored_by';
EXEC sp_addextendedproperty N'MS_Description', N'Rows written per output table, as a JSON object.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'rows';
EXEC sp_addextendedproperty N'MS_Description', N'Event rows of this input that share (session, nr) with a stored event of other content.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'collisions';
EXEC sp_addextendedproperty N'MS_Description', N'Values whose unstorable characters (NUL, lone surrogates, invalid UTF-8) became U+FFFD.', N'SCHEMA', N'ferry', N'TABLE', N'source_counts', N'COLUMN', N'replaced';
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
  [session] NVARCHAR(423) NULL,
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
  [source_key] NVARCHAR(MAX) NULL,
  [fingerprint] NVARCHAR(423) NULL
);
-- TDS bulk load (tedious execBulkLoad) into #ferry_staging_events (device_id, client_id, session, nr, env, system_version, product_version, at, timezone, event, device_make, device_model, system, system_language, browser, browser_version, product_git_hash, product_language, user_id, tenant_id, ip, country, parameters, received_at, sent_at, clock_skew_s, at_corrected, source_key, fingerprint): 2 rows
-- TDS bulk load (tedious execBulkLoad) into #ferry_staging_events (device_id, client_id, session, nr, env, system_version, product_version, at, timezone, event, device_make, device_model, system, system_language, browser, browser_version, product_git_hash, product_language, user_id, tenant_id, ip, country, parameters, received_at, sent_at, clock_skew_s, at_corrected, source_key, fingerprint): 1 rows
SELECT n.[source_key] AS source_key, COUNT(*) AS collisions
FROM (
  SELECT s.[source_key], s.[session], s.[nr], s.[fingerprint], s.[received_at],
    ROW_NUMBER() OVER (PARTITION BY s.[session], s.[nr] ORDER BY s.[received_at], s.[fingerprint]) AS ferry_order
  FROM (
    SELECT [source_key], [session], [nr], [fingerprint], [received_at], ROW_NUMBER() OVER (PARTITION BY [session], [nr], [fingerprint] ORDER BY [received_at]) AS ferry_rank
    FROM #ferry_staging_events
  ) s
  WHERE s.ferry_rank = 1
    AND NOT EXISTS (SELECT 1 FROM [ferry].[events] t WHERE t.[session] = s.[session] AND t.[nr] = s.[nr] AND t.[fingerprint] = s.[fingerprint])
) n
LEFT JOIN (
  SELECT DISTINCT t.[session], t.[nr] FROM [ferry].[events] t INNER JOIN #ferry_staging_events g ON t.[session] = g.[session] AND t.[nr] = g.[nr]
) p ON p.[session] = n.[session] AND p.[nr] = n.[nr]
WHERE n.ferry_order > 1 OR p.[session] IS NOT NULL
GROUP BY n.[source_key];
INSERT INTO [ferry].[events] ([device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], [fingerprint])
SELECT [device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], [fingerprint] FROM (
  SELECT [device_id], [client_id], [session], [nr], [env], [system_version], [product_version], [at], [timezone], [event], [device_make], [device_model], [system], [system_language], [browser], [browser_version], [product_git_hash], [product_language], [user_id], [tenant_id], [ip], [country], [parameters], [received_at], [sent_at], [clock_skew_s], [at_corrected], [source_key], [fingerprint], ROW_NUMBER() OVER (PARTITION BY [session], [nr], [fingerprint] ORDER BY [received_at]) AS ferry_rank
  FROM #ferry_staging_events
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM [ferry].[events] t WHERE t.[session] = s.[session] AND t.[nr] = s.[nr] AND t.[fingerprint] = s.[fingerprint]);
DROP TABLE #ferry_staging_events;
INSERT INTO [ferry].[load_manifest] (file_key, etag, table_name, rows_expected, rows_loaded, run_id)
SELECT N'parsed/events/2026-11-23/a.csv.gz', N'etag-a', N'events', 2, 2, N'run-1'
UNION ALL SELECT N'parsed/events/2026-11-23/b.csv.gz', N'etag-b', N'events', 1, 1, N'run-1';
UPDATE [ferry].[load_collisions] SET collisions = [ferry].[load_collisions].collisions + u.n FROM (
SELECT N'raw/events/2026/11/23/10/web-quoted-values.ndjson.gz' AS source_key, CAST(1 AS BIGINT) AS n
) u WHERE [ferry].[load_collisions].source_key = u.source_key;
INSERT INTO [ferry].[load_collisions] (source_key, collisions) SELECT u.source_key, u.n FROM (
SELECT N'raw/events/2026/11/23/10/web-quoted-values.ndjson.gz' AS source_key, CAST(1 AS BIGINT) AS n
) u WHERE NOT EXISTS (SELECT 1 FROM [ferry].[load_collisions] c WHERE c.source_key = u.source_key);
COMMIT TRANSACTION;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
SELECT file_key, etag FROM [ferry].[load_quarantine] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
SELECT source_key, collisions FROM [ferry].[load_collisions] WHERE source_key IN (N'raw/events/2026/11/23/10/01ABC.ndjson.gz');
BEGIN TRANSACTION;
DECLARE @result INT;
EXEC @result = sp_getapplock @Resource = N'ferry.load.ferry.source_counts', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 0;
SELECT CASE WHEN @result >= 0 THEN 1 ELSE 0 END AS locked;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
CREATE TABLE #ferry_staging_source_counts (
  [summary_key] NVARCHAR(425) NULL,
  [source] NVARCHAR(MAX) NULL,
  [source_key] NVARCHAR(425) NULL,
  [source_etag] NVARCHAR(MAX) NULL,
  [date] NVARCHAR(MAX) NULL,
  [lines] BIGINT NULL,
  [accepted] BIGINT NULL,
  [ignored] BIGINT NULL,
  [rejected] BIGINT NULL,
  [ignored_by] NVARCHAR(MAX) NULL,
  [rows] NVARCHAR(MAX) NULL,
  [collisions] BIGINT NULL,
  [replaced] BIGINT NULL
);
-- TDS bulk load (tedious execBulkLoad) into #ferry_staging_source_counts (summary_key, source, source_key, source_etag, date, lines, accepted, ignored, rejected, ignored_by, rows, collisions, replaced): 1 rows
INSERT INTO [ferry].[source_counts] ([summary_key], [source], [source_key], [source_etag], [date], [lines], [accepted], [ignored], [rejected], [ignored_by], [rows], [collisions], [replaced])
SELECT [summary_key], [source], [source_key], [source_etag], [date], [lines], [accepted], [ignored], [rejected], [ignored_by], [rows], [collisions], [replaced] FROM (
  SELECT [summary_key], [source], [source_key], [source_etag], [date], [lines], [accepted], [ignored], [rejected], [ignored_by], [rows], [collisions], [replaced], ROW_NUMBER() OVER (PARTITION BY [summary_key], [source_key] ORDER BY [summary_key], [source_key]) AS ferry_rank
  FROM #ferry_staging_source_counts
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM [ferry].[source_counts] t WHERE t.[summary_key] = s.[summary_key] AND t.[source_key] = s.[source_key]);
DROP TABLE #ferry_staging_source_counts;
INSERT INTO [ferry].[load_manifest] (file_key, etag, table_name, rows_expected, rows_loaded, run_id)
SELECT N'summaries/2026-11-23/01ABC.json', N'etag-01ABC', N'source_counts', 1, 1, N'run-1';
COMMIT TRANSACTION;
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'parsed/events/2026-11-23/a.csv.gz', N'parsed/events/2026-11-23/b.csv.gz');
SELECT file_key FROM [ferry].[load_manifest] WHERE file_key IN (N'summaries/2026-11-23/01ABC.json');
