import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FerryError, ParseError } from '../errors.js';
import { decodeCollectionJson } from '../model/decode-collection-json.js';
import { eventTable } from '../model/event-table.js';
import { flattenRawRecord } from '../model/flatten-event.js';
import type { RawRecord } from '../model/raw-record.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Logger } from '../ports/logger.js';
import { encodeCsvRow } from './csv.js';
import { GzipSpool } from './gzip-spool.js';
import { outputKeysFor, parsedMetadata } from './output-keys.js';
import { splitLines } from './split-lines.js';

/** What became of one input object; `lines = accepted + ignored + rejected`, always. */
export interface ParseSummary {
  source_key: string;
  source_etag: string;
  date: string;
  lines: number;
  /** Lines that produced rows (a collector line gives one row per payload). */
  accepted: number;
  rows: Record<string, number>;
  ignored: number;
  rejected: number;
  outputs: string[];
}

/** Dependencies and limits of the parser. */
export interface ParseOptions {
  store: BlobStore;
  logger: Logger;
  /** Lines longer than this many bytes are rejected without being buffered. */
  maxLineBytes?: number;
  /** Where output is spooled before upload (the OS temp dir by default). */
  spoolDir?: string;
}

/** Input object to parse: its key and, when the trigger knows it, its version tag. */
export interface ParseInput {
  key: string;
  etag?: string;
}

async function maybeGunzip(stream: Readable): Promise<Readable> {
  // Sniff the gzip magic bytes rather than trust the key's extension.
  const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done ? undefined : first.value;
  const whole = Readable.from((async function* () {
    if (head) yield head;
    yield* { [Symbol.asyncIterator]: () => iterator };
  })());
  return head && head[0] === 0x1f && head[1] === 0x8b ? whole.pipe(createGunzip()) : whole;
}

function decodeRawLine(text: string): RawRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null) throw new ParseError('not a JSON object');
  const record = value as Record<string, unknown>;
  if (typeof record.received_at !== 'string') throw new ParseError('received_at is missing', { field: 'received_at' });
  const sentAt = record.sent_at;
  const ip = record.ip;
  return {
    received_at: record.received_at,
    sent_at: typeof sentAt === 'string' ? sentAt : null,
    ip: typeof ip === 'string' ? ip : null,
    collection: decodeCollectionJson(record.collection),
  };
}

/**
 * Parses one raw collector object into one gzip'd CSV per table plus rejected lines and a
 * summary. Deterministic: the same input version always gives byte-identical objects under the
 * same keys, and the summary (written last) marks the input as done.
 */
export async function parseObject(options: ParseOptions, input: ParseInput): Promise<ParseSummary> {
  const { store, logger } = options;
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  const info = await store.head(input.key);
  const etag = input.etag ?? info.etag;
  const keys = outputKeysFor(input.key, etag, info.lastModified);
  const events = await GzipSpool.create(options.spoolDir);
  const rejected = await GzipSpool.create(options.spoolDir);
  const summary: ParseSummary = {
    source_key: input.key,
    source_etag: etag,
    date: keys.date,
    lines: 0,
    accepted: 0,
    rows: { [eventTable.name]: 0 },
    ignored: 0,
    rejected: 0,
    outputs: [],
  };
  try {
    const body = await maybeGunzip(await store.get(input.key));
    for await (const line of splitLines(body, maxLineBytes)) {
      summary.lines++;
      try {
        if (line.tooLong) throw new ParseError(`line longer than ${maxLineBytes} bytes`, { limit: 'maxLineBytes' });
        if (line.text.trim() === '') {
          summary.ignored++;
          continue;
        }
        const rows = flattenRawRecord(decodeRawLine(line.text), input.key).map(encodeCsvRow);
        for (const row of rows) await events.write(row);
        summary.accepted++;
      } catch (err) {
        if (!(err instanceof FerryError)) throw err;
        summary.rejected++;
        await rejected.write(encodeCsvRow([input.key, String(line.number), err.message, line.text]));
      }
    }
    summary.rows[eventTable.name] = events.count;
    const sourceMetadata = { [parsedMetadata.sourceKey]: encodeURIComponent(input.key), [parsedMetadata.sourceEtag]: etag };
    if (events.count > 0) {
      const { body: csv } = await events.finish();
      const key = keys.table(eventTable.name);
      await store.put(key, csv, { ...sourceMetadata, [parsedMetadata.rows]: String(events.count) });
      summary.outputs.push(key);
    }
    if (rejected.count > 0) {
      const { body: csv } = await rejected.finish();
      await store.put(keys.rejected, csv, { ...sourceMetadata, [parsedMetadata.rows]: String(rejected.count) });
      summary.outputs.push(keys.rejected);
    }
    await store.put(keys.summary, Buffer.from(`${JSON.stringify(summary)}\n`));
    logger.info('parsed', { key: input.key, lines: summary.lines, rows: summary.rows, rejected: summary.rejected });
    return summary;
  } finally {
    await Promise.all([events.dispose(), rejected.dispose()]);
  }
}

/** The summary key that marks `key` at version `etag` as parsed. */
export function summaryKeyFor(key: string, etag: string, lastModified: Date): string {
  return outputKeysFor(key, etag, lastModified).summary;
}
