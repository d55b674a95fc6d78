-- Task funnel per day: devices that created a task, and how many of them completed one that day.
{{ config(materialized='table', unique_key='day') }}
SELECT
  c.day,
  COUNT(*) AS created,
  COUNT(d.device_id) AS completed
FROM {{ ref('task_events') }} c
LEFT JOIN {{ ref('task_events') }} d
  ON d.day = c.day AND d.device_id = c.device_id AND d.event = 'Task.Complete'
WHERE c.event = 'Task.Create'
GROUP BY c.day
