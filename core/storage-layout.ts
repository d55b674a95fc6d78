/**
 * Where Ferry keeps each kind of object in a store — the one place the layout is spelt out;
 * every module that reads or writes a prefix asks here.
 *
 * - `raw/events/YYYY/MM/DD/HH/<id>.ndjson.gz` — the collector's raw batches, by receive hour;
 * - `raw/rejections/YYYY/MM/DD/HH/<id>.ndjson.gz` — the requests the collector refused;
 * - `parsed/<table>/<YYYY-MM-DD>/<name>.csv.gz` — load-ready CSV per table and date partition;
 * - `summaries/<YYYY-MM-DD>/<name>.json` — what became of each input (one per parse, or a batch's);
 * - `rejected/<YYYY-MM-DD>/<name>.csv.gz` — refused lines with their line number and reason;
 * - `mirror-pending/…`, `health/readiness`, `load-manifests/…` — the collector's and loader's own;
 * - `state/sweep-mark.json` — how far the cloud timer's sweep has examined the raw objects.
 */
export const storageLayout = {
  rawEvents: 'raw/events/',
  rawRejections: 'raw/rejections/',
  parsed: 'parsed/',
  summaries: 'summaries/',
  rejected: 'rejected/',
  mirrorPending: 'mirror-pending/',
  readiness: 'health/readiness',
  loadManifests: 'load-manifests/',
  sweepMark: 'state/sweep-mark.json',
  /** `parsed/<table>/`, or one of its date partitions. */
  parsedTable(table: string, date?: string): string {
    return date === undefined ? `parsed/${table}/` : `parsed/${table}/${date}/`;
  },
  /** `summaries/<date>/`. */
  summariesOn(date: string): string {
    return `summaries/${date}/`;
  },
  /** `rejected/<date>/`. */
  rejectedOn(date: string): string {
    return `rejected/${date}/`;
  },
  /** `raw/events/YYYY/MM/DD/HH/`: the raw partition of an hour. */
  rawHour(at: Date): string {
    const iso = at.toISOString();
    return `raw/events/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
  },
  /** `raw/rejections/YYYY/MM/DD/HH/`: the refused requests of an hour. */
  rejectionsHour(at: Date): string {
    const iso = at.toISOString();
    return `raw/rejections/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
  },
} as const;
