import { Readable } from 'node:stream';
import { LoadError } from '../errors.js';
import type { TableDefinition } from '../model/table-definition.js';
import { encodeCsvRow } from '../parser/csv.js';
import type { ParseSummary } from '../parser/parse-object.js';

/**
 * `source_counts`: one row per parsed input version, from the parser's summary, so data quality
 * can be checked in SQL (`lines = accepted + ignored + rejected`, rejects per source and day).
 */
export const sourceCountsTable: TableDefinition = {
  name: 'source_counts',
  columns: [
    { name: 'summary_key', type: 'text', required: true },
    { name: 'source', type: 'text', required: true },
    { name: 'source_key', type: 'text', required: true },
    { name: 'source_etag', type: 'text', required: true },
    { name: 'date', type: 'text', required: true },
    { name: 'lines', type: 'bigint', required: true },
    { name: 'accepted', type: 'bigint', required: true },
    { name: 'ignored', type: 'bigint', required: true },
    { name: 'rejected', type: 'bigint', required: true },
    { name: 'ignored_by', type: 'json', required: true },
    { name: 'rows', type: 'json', required: true },
  ],
  key: ['summary_key'],
};

/** Prefix of the parser's summaries. */
export const summariesPrefix = 'summaries/';

/** One summary object as the CSV row `copyCsv` loads into `source_counts`. */
export function summaryCsv(summaryKey: string, json: string): Readable {
  let s: ParseSummary;
  try {
    s = JSON.parse(json) as ParseSummary;
  } catch (err) {
    throw new LoadError(`summary ${summaryKey} is not JSON: ${(err as Error).message}`, { key: summaryKey, fault: 'file' }, { cause: err });
  }
  const row = encodeCsvRow([
    summaryKey,
    s.source ?? 'events', // summaries written before sources existed came from the collector
    s.source_key,
    s.source_etag,
    s.date,
    String(s.lines),
    String(s.accepted),
    String(s.ignored),
    String(s.rejected),
    JSON.stringify(s.ignored_by ?? {}),
    JSON.stringify(s.rows),
  ]);
  return Readable.from([row]);
}
