-- Each platform's share of a day's active users, read from the incremental model above it.
{{ config(materialized='view') }}
SELECT
  u.day,
  u.platform,
  u.users,
  CAST(u.users AS FLOAT) / NULLIF(SUM(u.users) OVER (PARTITION BY u.day), 0) AS share
FROM {{ ref('daily_active_users') }} u
