IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF OBJECT_ID(N'[ferry].[runs]', N'U') IS NULL CREATE TABLE [ferry].[runs] (
  run_id NVARCHAR(256) NOT NULL,
  stage NVARCHAR(32) NOT NULL,
  target NVARCHAR(512) NOT NULL,
  attempt INT NOT NULL,
  started_at DATETIME2(3) NOT NULL,
  finished_at DATETIME2(3) NOT NULL,
  status NVARCHAR(16) NOT NULL,
  [rows] BIGINT NULL,
  error NVARCHAR(4000) NULL,
  log_excerpt NVARCHAR(4000) NULL
);
IF SCHEMA_ID(N'ferry') IS NULL EXEC sp_executesql N'CREATE SCHEMA [ferry]';
IF SCHEMA_ID(N'analytics') IS NULL EXEC sp_executesql N'CREATE SCHEMA [analytics]';
IF OBJECT_ID(N'[ferry].[transform_state]', N'U') IS NULL CREATE TABLE [ferry].[transform_state] (
  model NVARCHAR(128) NOT NULL,
  version NVARCHAR(128) NOT NULL,
  template_hash NVARCHAR(128) NOT NULL,
  refs_version NVARCHAR(128) NOT NULL,
  built_at DATETIME2(3) NOT NULL
);
IF OBJECT_ID(N'[ferry].[transform_inputs]', N'U') IS NULL CREATE TABLE [ferry].[transform_inputs] (
  model NVARCHAR(128) NOT NULL,
  file_key NVARCHAR(800) NOT NULL,
  consumed_at DATETIME2(3) NOT NULL
);
IF OBJECT_ID(N'[ferry].[transform_changes]', N'U') IS NULL CREATE TABLE [ferry].[transform_changes] (
  model NVARCHAR(128) NOT NULL,
  table_name NVARCHAR(128) NOT NULL,
  file_key NVARCHAR(800) NOT NULL,
  source_key NVARCHAR(1024) NULL
);
IF OBJECT_ID(N'[ferry].[transform_lease]', N'U') IS NULL CREATE TABLE [ferry].[transform_lease] (
  name NVARCHAR(64) NOT NULL,
  run_id NVARCHAR(256) NULL,
  expires_at DATETIME2(3) NULL
);
INSERT INTO [ferry].[transform_lease] (name) SELECT N'transform' WHERE NOT EXISTS (SELECT 1 FROM [ferry].[transform_lease] WHERE name = N'transform');
BEGIN TRANSACTION;
UPDATE [ferry].[transform_lease] SET run_id = N'run-table', expires_at = DATEADD(second, 300, SYSUTCDATETIME())
WHERE name = N'transform' AND (run_id IS NULL OR expires_at < SYSUTCDATETIME());
COMMIT TRANSACTION;
SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, TABLE_TYPE AS table_type FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA IN (N'ferry', N'analytics');
SELECT table_name, COUNT_BIG(*) AS files, MAX(loaded_at) AS last_loaded_at FROM [ferry].[load_manifest] GROUP BY table_name;
SELECT model, version, template_hash, refs_version, built_at FROM [ferry].[transform_state];
SELECT target, attempt, status, started_at, finished_at FROM [ferry].[runs] WHERE stage = N'transform' AND started_at >= N'2026-11-25 00:00:00.000' ORDER BY started_at, target;
BEGIN TRANSACTION;
IF OBJECT_ID(N'[analytics].[api_latency__ferry_new]', N'U') IS NOT NULL DROP TABLE [analytics].[api_latency__ferry_new];
SELECT * INTO [analytics].[api_latency__ferry_new] FROM (
-- API latency per endpoint and day from the nginx access log (docs/rules/api-nginx.yml): request
-- count and the 50th, 95th and 99th percentile of nginx's $request_time, in seconds. T-SQL has
-- PERCENTILE_CONT only as a window function, hence its own branch.

SELECT DISTINCT
  CAST(r.time AS DATE) AS day,
  r.event AS endpoint,
  COUNT(*) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS requests,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY r.request_time) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS p50,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY r.request_time) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS p95,
  PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY r.request_time) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS p99
FROM [ferry].[api_requests] r
WHERE r.request_time IS NOT NULL
) AS ferry_model;
IF OBJECT_ID(N'[analytics].[api_latency]', N'U') IS NOT NULL DROP TABLE [analytics].[api_latency];
EXEC sp_rename N'analytics.api_latency__ferry_new', N'api_latency';
DELETE FROM [ferry].[transform_state] WHERE model = N'api_latency';
INSERT INTO [ferry].[transform_state] (model, version, template_hash, refs_version, built_at)
SELECT N'api_latency', N'109b6f700b0772340a86e9e41e027126', N'f27665daa3c66d162cb7c098a447485d', N'e3b0c44298fc1c149afbf4c8996fb924', N'2026-11-25 06:00:00.000';
COMMIT TRANSACTION;
SELECT COUNT(*) AS [failures] FROM [analytics].[api_latency] WHERE [endpoint] IS NULL;
SELECT COUNT(*) AS [failures] FROM [analytics].[api_latency] WHERE [requests] IS NULL;
SELECT COUNT(*) AS [failures] FROM (SELECT [day], [endpoint] FROM [analytics].[api_latency] GROUP BY [day], [endpoint] HAVING COUNT(*) > 1) AS ferry_duplicates;
INSERT INTO [ferry].[runs] (run_id, stage, target, attempt, started_at, finished_at, status, [rows], error, log_excerpt)
VALUES (N'run-table', N'check', N'api_latency.not_null(endpoint)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-table', N'check', N'api_latency.not_null(requests)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL),
  (N'run-table', N'check', N'api_latency.unique(day, endpoint)', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 0, NULL, NULL);
INSERT INTO [ferry].[runs] (run_id, stage, target, attempt, started_at, finished_at, status, [rows], error, log_excerpt)
VALUES (N'run-table', N'transform', N'api_latency', 1, N'2026-11-25 06:00:00.000', N'2026-11-25 06:00:00.000', N'success', 42, NULL, N'table build');
DELETE FROM [ferry].[runs] WHERE started_at < N'2026-08-27 06:00:00.000';
DELETE FROM [ferry].[transform_inputs] WHERE consumed_at < DATEADD(day, -8, SYSUTCDATETIME());
BEGIN TRANSACTION;
UPDATE [ferry].[transform_lease] SET run_id = NULL, expires_at = NULL WHERE name = N'transform' AND run_id = N'run-table';
COMMIT TRANSACTION;
