import { createHash } from 'node:crypto';
import { isTimeSortableId, timeSortablePrefix } from '../support/time-sortable-id.js';
import { storageLayout } from '../storage-layout.js';

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
 * Within a partition names sort by when their input arrived — the collector's raw objects are
 * named by a time-sortable id already, other inputs get their last-modified time in front — so a
 * load tick can list only what arrived since it last looked (`ListOptions.startAfter`).
 */
export function outputKeysFor(inputKey: string, etag: string, lastModified: Date): OutputKeys {
  const date = partitionDateOf(inputKey, lastModified)!;
  const digest = createHash('sha256').update(inputKey).update('\0').update(etag).digest('hex').slice(0, 16);
  const name = `${arrivalName(inputKey, lastModified)}-${digest}`;
  return {
    table: (table) => `${storageLayout.parsedTable(table, date)}${name}.csv.gz`,
    rejected: `${storageLayout.rejectedOn(date)}${name}.csv.gz`,
    summary: `${storageLayout.summariesOn(date)}${name}.json`,
    date,
  };
}

/**
 * Output keys of a batch of inputs parsed together into shared outputs, all of one date
 * partition: named after the first input (by key) and a digest of every member's key and
 * version, so a redelivered batch rewrites the same objects, and a regrouped one writes others
 * whose rows the loader's row keys de-duplicate.
 */
export function batchOutputKeysFor(members: readonly { key: string; etag: string; lastModified?: Date }[], date: string): OutputKeys {
  const sorted = [...members].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  for (const m of sorted) hash.update(m.key).update('\0').update(m.etag).update('\n');
  const arrived = sorted.reduce<Date | undefined>((min, m) => (m.lastModified && (!min || m.lastModified < min) ? m.lastModified : min), undefined);
  const name = `${arrivalName(sorted[0]?.key ?? 'batch', arrived ?? new Date(`${date}T00:00:00Z`))}-b${sorted.length}-${hash.digest('hex').slice(0, 16)}`;
  return {
    table: (table) => `${storageLayout.parsedTable(table, date)}${name}.csv.gz`,
    rejected: `${storageLayout.rejectedOn(date)}${name}.csv.gz`,
    summary: `${storageLayout.summariesOn(date)}${name}.json`,
    date,
  };
}

/** Whether a summary object is a batch's (`batchOutputKeysFor`), holding an entry per input. */
export function isBatchSummaryKey(key: string): boolean {
  return /-b\d+-[0-9a-f]{16}\.json$/.test(key);
}

/** An input's file name without its extensions, safe in a key: the readable part of an output's name. */
function baseNameOf(inputKey: string): string {
  return (inputKey.split('/').pop() ?? 'object').replace(/\.(ndjson|json|log|txt|csv)?(\.gz)?$/, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'object';
}

/** The readable part of an output's name, starting with the time its input arrived. */
function arrivalName(inputKey: string, lastModified: Date): string {
  const base = baseNameOf(inputKey);
  return isTimeSortableId(base) ? base : `${timeSortablePrefix(lastModified)}-${base.slice(0, 80)}`;
}

/** The date partition an input's outputs go to: the date in its key, else its last-modified date. */
export function partitionDateOf(inputKey: string, lastModified?: Date): string | undefined {
  const match = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})(?:\/|$)/.exec(inputKey);
  if (match) return `${match[1]}-${match[2]}-${match[3]}`;
  return lastModified?.toISOString().slice(0, 10);
}

/** Metadata names the parser sets on each parsed object. */
export const parsedMetadata = {
  rows: 'ferry_rows',
  sourceKey: 'ferry_source_key',
  sourceEtag: 'ferry_source_etag',
} as const;
