IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF OBJECT_ID(N'[ferry].[runs]', N'U') IS NULL CREATE TABLE [ferry].[runs] (
  run_id VARCHAR(512) NOT NULL,
  stage VARCHAR(64) NOT NULL,
  target VARCHAR(1024) NOT NULL,
  attempt INT NOT NULL,
  started_at DATETIME2(3) NOT NULL,
  finished_at DATETIME2(3) NOT NULL,
  status VARCHAR(32) NOT NULL,
  [rows] BIGINT NULL,
  error VARCHAR(8000) NULL,
  log_excerpt VARCHAR(8000) NULL
);
IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF SCHEMA_ID(N'analytics') IS NULL EXEC sp_executesql N'CREATE SCHEMA [analytics]';
IF OBJECT_ID(N'[ferry].[transform_state]', N'U') IS NULL CREATE TABLE [ferry].[transform_state] (
  model VARCHAR(256) NOT NULL,
  version VARCHAR(256) NOT NULL,
  template_hash VARCHAR(256) NOT NULL,
  refs_version VARCHAR(256) NOT NULL,
  built_at DATETIME2(3) NOT NULL
);
IF OBJECT_ID(N'[ferry].[transform_inputs]', N'U') IS NULL CREATE TABLE [ferry].[transform_inputs] (
  model VARCHAR(256) NOT NULL,
  file_key VARCHAR(1600) NOT NULL,
  consumed_at DATETIME2(3) NOT NULL
);
IF OBJECT_ID(N'[ferry].[transform_changes]', N'U') IS NULL CREATE TABLE [ferry].[transform_changes] (
  model VARCHAR(256) NOT NULL,
  table_name VARCHAR(256) NOT NULL,
  file_key VARCHAR(1600) NOT NULL,
  source_key VARCHAR(2048) NULL
);
IF OBJECT_ID(N'[ferry].[transform_lease]', N'U') IS NULL CREATE TABLE [ferry].[transform_lease] (
  name VARCHAR(128) NOT NULL,
  run_id VARCHAR(512) NULL,
  expires_at DATETIME2(3) NULL
);
INSERT INTO [ferry].[transform_lease] (name) SELECT N'transform' WHERE NOT EXISTS (SELECT 1 FROM [ferry].[transform_lease] WHERE name = N'transform');
BEGIN TRANSACTION;
UPDATE [ferry].[transform_lease] SET run_id = N'run-full', expires_at = DATEADD(second, 300, SYSUTCDATETIME())
WHERE name = N'transform' AND (run_id IS NULL OR expires_at < SYSUTCDATETIME());
COMMIT TRANSACTION;
SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, TABLE_TYPE AS table_type FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA IN (N'ferry', N'analytics');
SELECT table_name, COUNT_BIG(*) AS files, MAX(loaded_at) AS last_loaded_at FROM [ferry].[load_manifest] GROUP BY table_name;
SELECT model, version, template_hash, refs_version, built_at FROM [ferry].[transform_state];
SELECT target, attempt, status, started_at, finished_at FROM [ferry].[runs] WHERE stage = N'transform' AND started_at >= N'2026-11-25 00:00:00.000' ORDER BY started_at, target;
BEGIN TRANSACTION;
INSERT INTO [ferry].[transform_inputs] (model, file_key, consumed_at)
SELECT N'daily_active_users', m.file_key, SYSUTCDATETIME() FROM [ferry].[load_manifest] m
WHERE m.table_name IN (N'events') AND m.loaded_at > DATEADD(day, -7, SYSUTCDATETIME())
  AND NOT EXISTS (SELECT 1 FROM [ferry].[transform_inputs] i WHERE i.model = N'daily_active_users' AND i.file_key = m.file_key);
IF OBJECT_ID(N'[analytics].[daily_active_users__ferry_new]', N'U') IS NOT NULL DROP TABLE [analytics].[daily_active_users__ferry_new];
CREATE TABLE [analytics].[daily_active_users__ferry_new] AS
-- Daily active users per platform: devices that sent at least one event that day (UTC, by the
-- client's clock corrected for skew). Incremental: a run replaces only the days its newly
-- loaded events fall on, so a late batch for last week rebuilds last week's day alone.

SELECT
  CAST(e.at_corrected AS DATE) AS day,
  COALESCE(e.system, 'unknown') AS platform,
  COUNT(DISTINCT e.device_id) AS users
FROM [ferry].[events] e
GROUP BY CAST(e.at_corrected AS DATE), COALESCE(e.system, 'unknown');
EXEC sp_rename N'analytics.daily_active_users__ferry_new', N'daily_active_users';
DELETE FROM [ferry].[transform_state] WHERE model = N'daily_active_users';
INSERT INTO [ferry].[transform_state] (model, version, template_hash, refs_version, built_at)
SELECT N'daily_active_users', N'4cd9261eb00658f4b603f16f457b0cc9', N'6694b5a21e1f37214b8349f98ef48586', N'e3b0c44298fc1c149afbf4c8996fb924', N'2026-11-25 06:00:00.000';
COMMIT TRANSACTION;
SELECT COUNT(*) AS [failures] FROM [analytics].[daily_active_users] WHERE [day] IS NULL;
SELECT COUNT(*) AS [failures] FROM [analytics].[daily_active_users] WHERE [platform] IS NULL;
SELECT COUNT(*) AS [failures] FROM [analytics].[daily_active_users] WHERE [users] IS NULL;
SELECT COUNT(*) AS [failures] FROM (SELECT [day], [platform] FROM [analytics].[daily_active_users] GROUP BY [day], [platform] HAVING COUNT(*) > 1) AS ferry_duplicates;
INSERT INTO [ferry].[runs] (run_id, stage, target, attempt, started_at, finished_at, status, [rows], error, log_excerpt)
VALUES (N'run-full', N'check', N'daily_active_users.not_null(day)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-full', N'check', N'daily_active_users.not_null(platform)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-full', N'check', N'daily_active_users.not_null(users)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-full', N'check', N'daily_active_users.unique(day, platform)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL);
INSERT INTO [ferry].[runs] (run_id, stage, target, attempt, started_at, finished_at, status, [rows], error, log_excerpt)
VALUES (N'run-full', N'transform', N'daily_active_users', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 42, NULL, N'full build');
DELETE FROM [ferry].[runs] WHERE started_at < N'2026-08-27 06:00:00.000';
DELETE FROM [ferry].[transform_inputs] WHERE consumed_at < DATEADD(day, -8, SYSUTCDATETIME());
BEGIN TRANSACTION;
UPDATE [ferry].[transform_lease] SET run_id = NULL, expires_at = NULL WHERE name = N'transform' AND run_id = N'run-full';
COMMIT TRANSACTION;
IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF OBJECT_ID(N'[ferry].[runs]', N'U') IS NULL CREATE TABLE [ferry].[runs] (
  run_id VARCHAR(512) NOT NULL,
  stage VARCHAR(64) NOT NULL,
  target VARCHAR(1024) NOT NULL,
  attempt INT NOT NULL,
  started_at DATETIME2(3) NOT NULL,
  finished_at DATETIME2(3) NOT NULL,
  status VARCHAR(32) NOT NULL,
  [rows] BIGINT NULL,
  error VARCHAR(8000) NULL,
  log_excerpt VARCHAR(8000) NULL
);
IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF SCHEMA_ID(N'analytics') IS NULL EXEC sp_executesql N'CREATE SCHEMA [analytics]';
IF OBJECT_ID(N'[ferry].[transform_state]', N'U') IS NULL CREATE TABLE [ferry].[transform_state] (
  model VARCHAR(256) NOT NULL,
  version VARCHAR(256) NOT NULL,
  template_hash VARCHAR(256) NOT NULL,
  refs_version VARCHAR(256) NOT NULL,
  built_at DATETIME2(3) NOT NULL
);
IF OBJECT_ID(N'[ferry].[transform_inputs]', N'U') IS NULL CREATE TABLE [ferry].[transform_inputs] (
  model VARCHAR(256) NOT NULL,
  file_key VARCHAR(1600) NOT NULL,
  consumed_at DATETIME2(3) NOT NULL
);
IF OBJECT_ID(N'[ferry].[transform_changes]', N'U') IS NULL CREATE TABLE [ferry].[transform_changes] (
  model VARCHAR(256) NOT NULL,
  table_name VARCHAR(256) NOT NULL,
  file_key VARCHAR(1600) NOT NULL,
  source_key VARCHAR(2048) NULL
);
IF OBJECT_ID(N'[ferry].[transform_lease]', N'U') IS NULL CREATE TABLE [ferry].[transform_lease] (
  name VARCHAR(128) NOT NULL,
  run_id VARCHAR(512) NULL,
  expires_at DATETIME2(3) NULL
);
INSERT INTO [ferry].[transform_lease] (name) SELECT N'transform' WHERE NOT EXISTS (SELECT 1 FROM [ferry].[transform_lease] WHERE name = N'transform');
BEGIN TRANSACTION;
UPDATE [ferry].[transform_lease] SET run_id = N'run-incremental', expires_at = DATEADD(second, 300, SYSUTCDATETIME())
WHERE name = N'transform' AND (run_id IS NULL OR expires_at < SYSUTCDATETIME());
COMMIT TRANSACTION;
SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, TABLE_TYPE AS table_type FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA IN (N'ferry', N'analytics');
SELECT table_name, COUNT_BIG(*) AS files, MAX(loaded_at) AS last_loaded_at FROM [ferry].[load_manifest] GROUP BY table_name;
SELECT model, version, template_hash, refs_version, built_at FROM [ferry].[transform_state];
SELECT target, attempt, status, started_at, finished_at FROM [ferry].[runs] WHERE stage = N'transform' AND started_at >= N'2026-11-25 00:00:00.000' ORDER BY started_at, target;
BEGIN TRANSACTION;
DELETE FROM [ferry].[transform_changes] WHERE model = N'daily_active_users';
INSERT INTO [ferry].[transform_changes] (model, table_name, file_key, source_key)
SELECT N'daily_active_users', m.table_name, m.file_key, c.source_key
FROM [ferry].[load_manifest] m
LEFT JOIN [ferry].[source_counts] c ON c.summary_key = CASE WHEN m.table_name = N'source_counts' THEN m.file_key ELSE N'summaries/' + SUBSTRING(m.file_key, LEN(m.table_name) + 9, LEN(m.file_key) - LEN(m.table_name) - 15) + N'.json' END
WHERE m.table_name IN (N'events') AND m.loaded_at > DATEADD(day, -7, SYSUTCDATETIME())
  AND NOT EXISTS (SELECT 1 FROM [ferry].[transform_inputs] i WHERE i.model = N'daily_active_users' AND i.file_key = m.file_key);
IF OBJECT_ID(N'[analytics].[daily_active_users__ferry_chg1]', N'U') IS NOT NULL DROP TABLE [analytics].[daily_active_users__ferry_chg1];
CREATE TABLE [analytics].[daily_active_users__ferry_chg1] AS
SELECT * FROM [ferry].[events] WHERE [source_key] IN (SELECT source_key FROM [ferry].[transform_changes] WHERE model = N'daily_active_users' AND table_name = N'events');
SELECT DISTINCT ferry_model.[day] AS [ferry_partition] FROM (
-- Daily active users per platform: devices that sent at least one event that day (UTC, by the
-- client's clock corrected for skew). Incremental: a run replaces only the days its newly
-- loaded events fall on, so a late batch for last week rebuilds last week's day alone.

SELECT
  CAST(e.at_corrected AS DATE) AS day,
  COALESCE(e.system, 'unknown') AS platform,
  COUNT(DISTINCT e.device_id) AS users
FROM [analytics].[daily_active_users__ferry_chg1] e
GROUP BY CAST(e.at_corrected AS DATE), COALESCE(e.system, 'unknown')
) AS ferry_model;
DELETE FROM [analytics].[daily_active_users] WHERE [day] IN (N'2026-11-19');
INSERT INTO [analytics].[daily_active_users]
SELECT * FROM (
-- Daily active users per platform: devices that sent at least one event that day (UTC, by the
-- client's clock corrected for skew). Incremental: a run replaces only the days its newly
-- loaded events fall on, so a late batch for last week rebuilds last week's day alone.

SELECT
  CAST(e.at_corrected AS DATE) AS day,
  COALESCE(e.system, 'unknown') AS platform,
  COUNT(DISTINCT e.device_id) AS users
FROM [ferry].[events] e
GROUP BY CAST(e.at_corrected AS DATE), COALESCE(e.system, 'unknown')
) AS ferry_model
WHERE ferry_model.[day] IN (N'2026-11-19');
INSERT INTO [ferry].[transform_inputs] (model, file_key, consumed_at)
SELECT model, file_key, SYSUTCDATETIME() FROM [ferry].[transform_changes] WHERE model = N'daily_active_users' AND (source_key IS NOT NULL OR table_name = N'source_counts');
DELETE FROM [ferry].[transform_changes] WHERE model = N'daily_active_users';
DELETE FROM [ferry].[transform_state] WHERE model = N'daily_active_users';
INSERT INTO [ferry].[transform_state] (model, version, template_hash, refs_version, built_at)
SELECT N'daily_active_users', N'4cd9261eb00658f4b603f16f457b0cc9', N'6694b5a21e1f37214b8349f98ef48586', N'e3b0c44298fc1c149afbf4c8996fb924', N'2026-11-25 06:00:00.000';
IF OBJECT_ID(N'[analytics].[daily_active_users__ferry_chg1]', N'U') IS NOT NULL DROP TABLE [analytics].[daily_active_users__ferry_chg1];
COMMIT TRANSACTION;
SELECT COUNT(*) AS [failures] FROM [analytics].[daily_active_users] WHERE [day] IS NULL;
SELECT COUNT(*) AS [failures] FROM [analytics].[daily_active_users] WHERE [platform] IS NULL;
SELECT COUNT(*) AS [failures] FROM [analytics].[daily_active_users] WHERE [users] IS NULL;
SELECT COUNT(*) AS [failures] FROM (SELECT [day], [platform] FROM [analytics].[daily_active_users] GROUP BY [day], [platform] HAVING COUNT(*) > 1) AS ferry_duplicates;
INSERT INTO [ferry].[runs] (run_id, stage, target, attempt, started_at, finished_at, status, [rows], error, log_excerpt)
VALUES (N'run-incremental', N'check', N'daily_active_users.not_null(day)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-incremental', N'check', N'daily_active_users.not_null(platform)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-incremental', N'check', N'daily_active_users.not_null(users)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-incremental', N'check', N'daily_active_users.unique(day, platform)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL);
INSERT INTO [ferry].[runs] (run_id, stage, target, attempt, started_at, finished_at, status, [rows], error, log_excerpt)
VALUES (N'run-incremental', N'transform', N'daily_active_users', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 3, NULL, N'replaced 1 partition(s): 2026-11-19');
DELETE FROM [ferry].[runs] WHERE started_at < N'2026-08-27 06:00:00.000';
DELETE FROM [ferry].[transform_inputs] WHERE consumed_at < DATEADD(day, -8, SYSUTCDATETIME());
BEGIN TRANSACTION;
UPDATE [ferry].[transform_lease] SET run_id = NULL, expires_at = NULL WHERE name = N'transform' AND run_id = N'run-incremental';
COMMIT TRANSACTION;
