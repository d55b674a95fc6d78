-- The to-do app's task events, one row per device, day and step: what the funnel counts.
{{ config(materialized='view') }}
SELECT DISTINCT
  CAST(e.at_corrected AS DATE) AS day,
  e.device_id,
  e.event
FROM {{ source('ferry', 'events') }} e
WHERE e.event IN ('Task.Create', 'Task.Complete')
