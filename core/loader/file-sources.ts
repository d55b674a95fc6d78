import { pipeline, Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { LoadError, NotFoundError } from '../errors.js';
import type { TableDefinition } from '../model/table-definition.js';
import { encodeCsvRow } from '../parser/csv.js';
import { parsedMetadata } from '../parser/output-keys.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import { inFile } from './client-copy.js';
import { peekFieldCount, readCsvRecords } from './csv-rows.js';
import type { DueFile, LoadDialect, Queryable } from './load-dialect.js';
import { readSummary, summaryCsv, summariesPrefix, type SummaryContent } from './source-counts.js';
import { storageLayout } from '../storage-layout.js';
import { readBlobText } from '../support/blob-text.js';

/** Where a table's files come from and how each is read as CSV. */
export interface FileSource {
  prefix: string;
  /** Whether the objects are load-ready gzip'd CSV a warehouse can read from storage itself. */
  storedCsv: boolean;
  accept(info: BlobInfo): boolean;
  /** Of the due files, those that may load in this run; the others wait for a later one. */
  ready?(due: readonly BlobInfo[]): Promise<BlobInfo[]>;
  /** The file as the load needs it (its row count from metadata, or from a head when S3 listed none). */
  describe(info: BlobInfo, store: BlobStore): Promise<DueFile>;
  /** The file as CSV (`size`: its stored bytes, when listed); the caller destroys it. */
  open(store: BlobStore, key: string, size?: number): Promise<Readable>;
}

function expectedRows(info: BlobInfo): number {
  const value = info.metadata[parsedMetadata.rows];
  const rows = value === undefined ? Number.NaN : Number(value);
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new LoadError(`parsed object has no valid ${parsedMetadata.rows} metadata`, { key: info.key, keys: [info.key], fault: 'file' });
  }
  return rows;
}

/** Parsed files: gzip'd CSV under `parsed/<table>/`, their row count in metadata. */
export function parsedFiles(table: TableDefinition): FileSource {
  return {
    prefix: storageLayout.parsedTable(table.name),
    storedCsv: true,
    accept: (info) => info.key.endsWith('.csv.gz'),
    // S3 does not list metadata; then the count comes from a head of the (due) file.
    describe: async (info, store) => {
      const described = info.metadata[parsedMetadata.rows] === undefined ? await store.head(info.key) : info;
      return { key: info.key, etag: info.etag, expectedRows: expectedRows(described) };
    },
    open: async (store, key, size) => {
      const csv = size !== undefined && size <= wholeReadBytes ? await inflatedWhole(store, key) : inflating(await store.get(key));
      return table.backfill ? withBackfill(table, key, csv) : csv;
    },
  };
}

/**
 * Files up to this size (stored bytes) are read whole, and inflated in one call when they inflate
 * to at most `wholeInflatedBytes`: for a small file (a collector batch's rows) the streaming
 * inflate's hand-offs to zlib's pool cost several times the inflating. A larger one streams in
 * pieces of `inflatedChunkBytes`: glibc's malloc, once a buffer of several MiB is freed, serves
 * every later one below that size from a heap it seldom gives back, and serve's memory grows by
 * tens of MiB under load.
 */
const wholeReadBytes = 1024 * 1024;
const wholeInflatedBytes = 1024 * 1024;
const inflatedChunkBytes = 256 * 1024;

// pipeline() ties the two together: destroying the gunzip (a failed COPY) also closes the file.
function inflating(gzipped: Readable): Readable {
  return pipeline(gzipped, createGunzip({ chunkSize: inflatedChunkBytes }), () => {});
}

async function inflatedWhole(store: BlobStore, key: string): Promise<Readable> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  const gzipped = Buffer.concat(chunks);
  if (inflatedSizeHint(gzipped) <= wholeInflatedBytes) {
    try {
      return Readable.from([gunzipSync(gzipped, { maxOutputLength: wholeInflatedBytes })], { objectMode: false });
    } catch (err) {
      // Damaged: named as the streamed copy names it. Larger than its hint: streamed below.
      if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw inFile(key, err);
    }
  }
  return inflating(Readable.from([gzipped], { objectMode: false }));
}

/** A gzip member ends with its inflated size modulo 2^32 (RFC 1952 ISIZE): a hint, not a bound. */
function inflatedSizeHint(gzipped: Buffer): number {
  return gzipped.length >= 18 ? gzipped.readUInt32LE(gzipped.length - 4) : 0;
}

/**
 * A file parsed before the table's backfill column existed has one field fewer per row: the
 * column is computed for each row on the way (as the migration does for stored rows), so files
 * parsed before an upgrade and loaded after it load like any other. Current files pass through
 * untouched; only the first record is looked at.
 */
async function withBackfill(table: TableDefinition, key: string, csv: Readable): Promise<Readable> {
  const peeked = await peekFieldCount(csv);
  if (peeked.fields !== table.columns.length - 1) return peeked.csv;
  const fill = table.backfill!;
  const names = table.columns.map((c) => c.name).filter((n) => n !== fill.column);
  const rows = async function* () {
    for await (const record of readCsvRecords(peeked.csv, key)) {
      const row = Object.fromEntries(names.map((n, i) => [n, record[i] ?? null]));
      yield encodeCsvRow(table.columns.map((c) => (c.name === fill.column ? fill.compute(row) : (row[c.name] ?? null))));
    }
  };
  const out = Readable.from(rows());
  out.once('close', () => peeked.csv.destroy());
  return out;
}


/**
 * Parse summaries, one `source_counts` row per input they account for. A summary waits until
 * the files of its inputs' events are loaded (or quarantined, or gone), so the collisions those
 * loads found are known when its rows are written — in their own committed transactions, never
 * racing a load still under way.
 */
export class SummaryFiles implements FileSource {
  readonly prefix = summariesPrefix;
  readonly storedCsv = false;
  private readonly read = new Map<string, { summary: SummaryContent; collisions: Map<string, number> }>();

  constructor(
    private readonly store: BlobStore,
    private readonly warehouse: Queryable,
    private readonly dialect: LoadDialect,
    /** Tables whose loads count collisions (`collisionKey`), among those this run loads. */
    private readonly collisionTables: readonly string[],
  ) {}

  accept(info: BlobInfo): boolean {
    return info.key.endsWith('.json');
  }

  async ready(due: readonly BlobInfo[]): Promise<BlobInfo[]> {
    const waitingOn = new Map<string, string[]>();
    for (const d of due) {
      try {
        const summary = readSummary(d.key, await readBlobText(this.store, d.key));
        this.read.set(d.key, { summary, collisions: new Map() });
        waitingOn.set(d.key, summary.outputs.filter((o) => this.collisionTables.some((t) => o.startsWith(storageLayout.parsedTable(t)))));
      } catch {
        // Unreadable: the load reads it again and fails (or quarantines) it there.
        waitingOn.set(d.key, []);
      }
    }
    const unsettled = await this.unsettled([...new Set([...waitingOn.values()].flat())]);
    const ready = due.filter((d) => !waitingOn.get(d.key)!.some((o) => unsettled.has(o)));
    const inputs = ready.flatMap((d) => this.read.get(d.key)?.summary.inputs.map((i) => i.source_key) ?? []);
    const collisions = inputs.length === 0 ? new Map<string, number>() : await this.dialect.collisionsOf(this.warehouse, inputs);
    for (const d of ready) {
      const entry = this.read.get(d.key);
      if (entry) for (const i of entry.summary.inputs) if (collisions.has(i.source_key)) entry.collisions.set(i.source_key, collisions.get(i.source_key)!);
    }
    return ready;
  }

  /** Output files neither loaded nor quarantined that are still in the store: their loads are pending. */
  private async unsettled(outputs: readonly string[]): Promise<Set<string>> {
    if (outputs.length === 0) return new Set();
    const loaded = await this.dialect.loadedKeys(this.warehouse, outputs);
    const missing = outputs.filter((o) => !loaded.has(o));
    if (missing.length === 0) return new Set();
    const quarantined = await this.dialect.quarantinedEtags(this.warehouse, missing);
    const pending = new Set<string>();
    for (const key of missing.filter((o) => !quarantined.has(o))) {
      try {
        await this.store.head(key);
        pending.add(key);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return pending;
  }

  async describe(info: BlobInfo): Promise<DueFile> {
    const summary = this.read.get(info.key)?.summary ?? readSummary(info.key, await readBlobText(this.store, info.key));
    return { key: info.key, etag: info.etag, expectedRows: summary.inputs.length };
  }

  async open(store: BlobStore, key: string): Promise<Readable> {
    const entry = this.read.get(key);
    if (entry) return summaryCsv(key, entry.summary, entry.collisions);
    return summaryCsv(key, readSummary(key, await readBlobText(store, key)), new Map());
  }
}
