-- API latency per endpoint and day from the nginx access log (docs/rules/api-nginx.yml): request
-- count and the 50th, 95th and 99th percentile of nginx's $request_time, in seconds. T-SQL has
-- PERCENTILE_CONT only as a window function, hence its own branch.
{{ config(materialized='table', unique_key=['day', 'endpoint']) }}
{% if dialect == 'tsql' %}
SELECT DISTINCT
  CAST(r.time AS DATE) AS day,
  r.event AS endpoint,
  COUNT(*) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS requests,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY r.request_time) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS p50,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY r.request_time) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS p95,
  PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY r.request_time) OVER (PARTITION BY CAST(r.time AS DATE), r.event) AS p99
FROM {{ source('ferry', 'api_requests') }} r
WHERE r.request_time IS NOT NULL
{% else %}
SELECT
  CAST(r.time AS DATE) AS day,
  r.event AS endpoint,
  COUNT(*) AS requests,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY r.request_time) AS p50,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY r.request_time) AS p95,
  PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY r.request_time) AS p99
FROM {{ source('ferry', 'api_requests') }} r
WHERE r.request_time IS NOT NULL
GROUP BY CAST(r.time AS DATE), r.event
{% endif %}
