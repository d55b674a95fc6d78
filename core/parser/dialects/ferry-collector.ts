import { ParseError } from '../../errors.js';
import { decodeCollectionJson } from '../../model/decode-collection-json.js';
import { eventTable } from '../../model/event-table.js';
import { flattenRawRecord } from '../../model/flatten-event.js';
import type { RawRecord } from '../../model/raw-record.js';
import { Replacements, storableText } from '../../model/storable-text.js';
import type { Dialect, LineReader, RecordValues } from '../dialect.js';

const fields = eventTable.columns.map((c) => c.name);
const index = new Map(fields.map((name, i) => [name, i]));

/**
 * A raw line's record. The collector stored its text storable already (and counted it in
 * `replaced`); objects it wrote before that rule get the rule here, counted in `replaced`.
 */
function decodeRawRecord(value: Record<string, unknown>, replaced: Replacements): RawRecord {
  if (typeof value.received_at !== 'string') throw new ParseError('received_at is missing', { field: 'received_at' });
  return {
    received_at: value.received_at,
    sent_at: typeof value.sent_at === 'string' ? value.sent_at : null,
    ip: typeof value.ip === 'string' ? storableText(value.ip) : null,
    collection: decodeCollectionJson(value.collection, replaced),
  };
}

/**
 * Ferry's own raw collector lines (`raw/events/…ndjson.gz`): one JSON object per accepted
 * collection. Each payload becomes one record whose fields are the `events` columns, with the
 * clock skew corrected beyond `skewThresholdS` seconds. A payload that cannot be stored is
 * rejected alone (`LineContext.rejectRecord`); the line's other payloads load.
 */
export function ferryCollectorDialect(name: string, skewThresholdS: number): Dialect {
  return {
    name,
    fields,
    reader(wanted) {
      const sources = wanted.map((f) => index.get(f));
      // Rules that route to the events table want every column first, in order: rows are then used as they are.
      const prefix = sources.length >= fields.length && fields.every((_, i) => sources[i] === i);
      const replaced = new Replacements();
      const read: LineReader = (line, context) => {
        if (line.charCodeAt(0) !== 0x7b /* { */) return undefined;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (err) {
          throw new ParseError(`not JSON: ${(err as Error).message}`);
        }
        if (typeof value !== 'object' || value === null || !('collection' in value)) return undefined;
        const raw = value as Record<string, unknown>;
        if (typeof raw.request_id === 'string') context.requestId?.(raw.request_id);
        const before = replaced.count;
        const rows: RecordValues[] = flattenRawRecord(decodeRawRecord(raw, replaced), context.sourceKey, skewThresholdS, context.rejectRecord);
        const count = replaced.count - before + (typeof raw.replaced === 'number' ? raw.replaced : 0);
        if (count > 0) context.replaced = (context.replaced ?? 0) + count;
        if (prefix) {
          for (const row of rows) for (let i = fields.length; i < wanted.length; i++) row.push(undefined);
          return rows;
        }
        return rows.map((row) => sources.map((s) => (s === undefined ? undefined : row[s])));
      };
      // `parameters` is made by JSON.stringify.
      read.jsonText = new Set(wanted.flatMap((f, i) => (f === 'parameters' ? [i] : [])));
      return read;
    },
  };
}
