const dayMs = 86_400_000;

/** `YYYY-MM-DD` (UTC) of a time. */
function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The date partitions a timer's load run lists: the last `days` days up to today (UTC), plus
 * tomorrow for inputs stamped by clocks slightly ahead. Listing partitions, not the whole store,
 * keeps a run's cost flat however much history the store holds; older late arrivals are what
 * `ferry status` reports and `ferry load --from … --to …` loads.
 */
export function lookbackDates(now: Date, days: number): string[] {
  const dates: string[] = [];
  for (let d = days; d >= -1; d--) dates.push(day(now.getTime() - d * dayMs));
  return dates;
}

/** Every date from `from` to `to` (inclusive, `YYYY-MM-DD`), for a backfill. */
export function datesBetween(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  // Date.parse takes 2026-02-30 as March 2: a date is valid only if it reads back the same.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to) || Number.isNaN(start) || Number.isNaN(end) || day(start) !== from || day(end) !== to) {
    throw new RangeError(`dates must be calendar dates YYYY-MM-DD, got ${from} and ${to}`);
  }
  if (end < start) throw new RangeError(`--to ${to} is before --from ${from}`);
  if ((end - start) / dayMs > 3660) throw new RangeError('a backfill spans at most ten years');
  const dates: string[] = [];
  for (let t = start; t <= end; t += dayMs) dates.push(day(t));
  return dates;
}
