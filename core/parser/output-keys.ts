import { createHash } from 'node:crypto';

/** Where the outputs of one input object go; all derived from the input key and its ETag. */
export interface OutputKeys {
  /** `parsed/<table>/<date>/<name>.csv.gz` for a table. */
  table(table: string): string;
  rejected: string;
  summary: string;
  date: string;
}

/**
 * Derives output keys from the input's key and version, so a duplicate trigger for the same
 * version rewrites the same objects instead of adding new ones. The date partition is the date in
 * the input key (`…/YYYY/MM/DD/…`) when there is one, else the input's last-modified date (UTC).
 */
export function outputKeysFor(inputKey: string, etag: string, lastModified: Date): OutputKeys {
  const match = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})(?:\/|$)/.exec(inputKey);
  const date = match ? `${match[1]}-${match[2]}-${match[3]}` : lastModified.toISOString().slice(0, 10);
  const base = (inputKey.split('/').pop() ?? 'object').replace(/\.(ndjson|json|log|txt|csv)?(\.gz)?$/, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'object';
  const digest = createHash('sha256').update(inputKey).update('\0').update(etag).digest('hex').slice(0, 16);
  const name = `${base.slice(0, 80)}-${digest}`;
  return {
    table: (table) => `parsed/${table}/${date}/${name}.csv.gz`,
    rejected: `rejected/${date}/${name}.csv.gz`,
    summary: `summaries/${date}/${name}.json`,
    date,
  };
}

/** Metadata names the parser sets on each parsed object. */
export const parsedMetadata = {
  rows: 'ferry_rows',
  sourceKey: 'ferry_source_key',
  sourceEtag: 'ferry_source_etag',
} as const;
