SELECT table_name, file_key, etag, code, sqlstate, message, run_id, TO_CHAR(quarantined_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS quarantined_at
FROM "ferry"."load_quarantine" ORDER BY quarantined_at, file_key;
SELECT table_name, COUNT(*) AS files, SUM(rows_loaded) AS rows, TO_CHAR(MAX(loaded_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_loaded_at
FROM "ferry"."load_manifest" GROUP BY table_name ORDER BY table_name;
SELECT table_name, date, files, rows FROM (
  SELECT table_name, date, files, rows, ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY date DESC) AS n
  FROM (SELECT table_name, SPLIT_PART(file_key, '/', CASE WHEN table_name = 'source_counts' THEN 2 ELSE 3 END) AS date, COUNT(*) AS files, SUM(rows_loaded) AS rows FROM "ferry"."load_manifest" GROUP BY 1, 2) g
) d WHERE n <= 7 ORDER BY table_name, date DESC;
SELECT table_name, run_id, code, message, file_keys, failed_at FROM (
  SELECT table_name, run_id, code, message, file_keys, TO_CHAR(failed_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS failed_at,
    ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY failed_at DESC) AS n
  FROM "ferry"."load_failures"
) f WHERE n = 1 ORDER BY table_name;
