SELECT table_name, file_key, etag, code, sqlstate, message, run_id, CONVERT(VARCHAR(19), quarantined_at, 126) + 'Z' AS quarantined_at
FROM [ferry].[load_quarantine] ORDER BY quarantined_at, file_key;
SELECT table_name, COUNT_BIG(*) AS files, SUM(rows_loaded) AS [rows], CONVERT(VARCHAR(19), MAX(loaded_at), 126) + 'Z' AS last_loaded_at
FROM [ferry].[load_manifest] GROUP BY table_name ORDER BY table_name;
SELECT table_name, [date], files, [rows] FROM (
  SELECT table_name, [date], files, [rows], ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY [date] DESC) AS n
  FROM (SELECT table_name, SUBSTRING(file_key, CASE WHEN table_name = N'source_counts' THEN 11 ELSE LEN(table_name) + 9 END, 10) AS [date], COUNT_BIG(*) AS files, SUM(rows_loaded) AS [rows] FROM [ferry].[load_manifest] GROUP BY table_name, SUBSTRING(file_key, CASE WHEN table_name = N'source_counts' THEN 11 ELSE LEN(table_name) + 9 END, 10)) g
) d WHERE n <= 7 ORDER BY table_name, [date] DESC;
SELECT table_name, run_id, code, message, file_keys, CONVERT(VARCHAR(19), failed_at, 126) + 'Z' AS failed_at FROM (
  SELECT table_name, run_id, code, message, file_keys, failed_at, ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY failed_at DESC) AS n
  FROM [ferry].[load_failures]
) f WHERE n = 1 ORDER BY table_name;
