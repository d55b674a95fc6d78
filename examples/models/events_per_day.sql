-- Events per name per day: the volume every other model is read against.
{{ config(materialized='incremental', partition_by='day', unique_key=['day', 'event']) }}
SELECT
  CAST(e.at_corrected AS DATE) AS day,
  e.event,
  COUNT(*) AS events,
  COUNT(DISTINCT e.device_id) AS devices
FROM {{ source('ferry', 'events') }} e
GROUP BY CAST(e.at_corrected AS DATE), e.event
