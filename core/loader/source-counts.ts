import { Readable } from 'node:stream';
import { LoadError } from '../errors.js';
import type { TableDefinition } from '../model/table-definition.js';
import { encodeCsvRow } from '../parser/csv.js';
import type { BatchSummary, ParseSummary } from '../parser/parse-summary.js';
import { storageLayout } from '../storage-layout.js';

/**
 * `source_counts`: one row per parsed input version, from the parser's summary (a batch's
 * summary object holds one entry per input), so data quality can be checked in SQL (`lines =
 * accepted + ignored + rejected`, rejects per source and day).
 *
 * `replaced` is the summary's count of values whose unstorable characters became U+FFFD.
 * `collisions` counts the input's event rows that share `(session, nr)` with a stored event of
 * other content: each row the load added to a `(session, nr)` that already had one (stored
 * earlier, or earlier in the same batch by receipt time) counts once, for the input it came
 * from. An identical re-send adds no row, so re-loads never count twice, and over a table
 * `sum(collisions) = count(*) - count(distinct (session, nr))` from this version on. Rows
 * loaded before these columns existed hold NULL there.
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
    { name: 'collisions', type: 'bigint', required: true },
    { name: 'replaced', type: 'bigint', required: true },
  ],
  key: ['summary_key', 'source_key'],
};

/** Prefix of the parser's summaries. */
export const summariesPrefix = storageLayout.summaries;

/** One summary object: the inputs it accounts for and the parsed objects they went to. */
export interface SummaryContent {
  inputs: ParseSummary[];
  outputs: string[];
}

/** Reads a summary object's text, one input's or a batch's; malformed text is the file's fault. */
export function readSummary(summaryKey: string, json: string): SummaryContent {
  try {
    const parsed = JSON.parse(json) as ParseSummary | BatchSummary;
    const inputs = 'batch' in parsed ? parsed.batch : [parsed];
    if (!Array.isArray(inputs)) throw new Error('batch is not a list');
    return { inputs, outputs: Array.isArray(parsed.outputs) ? parsed.outputs : [] };
  } catch (err) {
    throw new LoadError(`summary ${summaryKey} is not a parse summary: ${(err as Error).message}`, { key: summaryKey, fault: 'file' }, { cause: err });
  }
}

/**
 * One summary object's inputs as the CSV rows `copyCsv` loads into `source_counts`, with the
 * collisions found when their event rows loaded (by input key).
 */
export function summaryCsv(summaryKey: string, summary: SummaryContent, collisions: ReadonlyMap<string, number>): Readable {
  return Readable.from(
    summary.inputs.map((s) =>
      encodeCsvRow([
        // A batch's entry names its input's own summary: one row per input version, whichever batch it came in.
        s.summary_key ?? summaryKey,
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
        String(collisions.get(s.source_key) ?? 0),
        String(s.replaced ?? 0),
      ]),
    ),
  );
}
