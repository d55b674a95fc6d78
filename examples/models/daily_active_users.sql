-- Daily active users per platform: devices that sent at least one event that day (UTC, by the
-- client's clock corrected for skew). Incremental: a run replaces only the days its newly
-- loaded events fall on, so a late batch for last week rebuilds last week's day alone.
{{ config(materialized='incremental', partition_by='day', unique_key=['day', 'platform']) }}
SELECT
  CAST(e.at_corrected AS DATE) AS day,
  COALESCE(e.system, 'unknown') AS platform,
  COUNT(DISTINCT e.device_id) AS users
FROM {{ source('ferry', 'events') }} e
GROUP BY CAST(e.at_corrected AS DATE), COALESCE(e.system, 'unknown')
