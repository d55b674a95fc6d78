import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FerryError, LoadError } from '../errors.js';
import type { TableDefinition } from '../model/table-definition.js';
import { parsedMetadata } from '../parser/output-keys.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import type { Logger } from '../ports/logger.js';
import type { Warehouse } from '../ports/warehouse.js';
import { errorFields } from '../support/json-logger.js';
import { PostgresDialect } from './dialects/postgres.js';
import { tableLocked, type BatchCopied, type DueFile, type LoadDialect } from './load-dialect.js';
import { sourceCountsTable, summariesPrefix, summaryCsv } from './source-counts.js';

/** What a load run needs. */
export interface LoadOptions {
  store: BlobStore;
  warehouse: Warehouse;
  logger: Logger;
  tables: readonly TableDefinition[];
  /** Warehouse schema holding the tables and the manifest. */
  schema: string;
  /** How to speak to the warehouse; PostgreSQL (`schema`) when omitted. */
  dialect?: LoadDialect;
  /** Identifies this run in the manifest and in logs. */
  runId: string;
  /** Most files loaded in one transaction; more are loaded in further batches. */
  maxFilesPerBatch?: number;
  /**
   * Date partitions (`YYYY-MM-DD`) to list; every partition when omitted. Timers pass a look-back
   * window (`lookbackDates`), backfills a range (`datesBetween`).
   */
  dates?: readonly string[];
  /** Called after each batch, for progress displays. */
  onBatch?: (progress: { table: string; files: number; rows: number }) => void;
}

/** Outcome for one table. */
export interface TableLoadResult {
  table: string;
  files: number;
  rowsCopied: number;
  rowsInserted: number;
  /** Set when another run held the table's load lock. */
  skipped?: 'locked';
  /** Set when a batch failed and was rolled back. */
  error?: { message: string; code: string; keys: string[] };
}

/** Outcome of one load run. */
export interface LoadResult {
  runId: string;
  tables: TableLoadResult[];
}

/** Where a table's files come from and how each is read as CSV. */
interface FileSource {
  prefix: string;
  /** Whether the objects are load-ready gzip'd CSV a warehouse can read from storage itself. */
  storedCsv: boolean;
  accept(info: BlobInfo): boolean;
  expectedRows(info: BlobInfo, store: BlobStore): Promise<number>;
  /** The file as CSV; the caller destroys it. */
  open(store: BlobStore, key: string): Promise<Readable>;
}

/** Parsed files: gzip'd CSV under `parsed/<table>/`, their row count in metadata. */
function parsedFiles(table: TableDefinition): FileSource {
  return {
    prefix: `parsed/${table.name}/`,
    storedCsv: true,
    accept: (info) => info.key.endsWith('.csv.gz'),
    // S3 does not list metadata; then the count comes from a head of the (due) file.
    expectedRows: async (info, store) => expectedRows(info.metadata[parsedMetadata.rows] === undefined ? await store.head(info.key) : info),
    // pipeline() ties the two together: destroying the gunzip (a failed COPY) also closes the file.
    open: async (store, key) => pipeline(await store.get(key), createGunzip(), () => {}),
  };
}

/** Parse summaries, one `source_counts` row each. */
const summaryFiles: FileSource = {
  prefix: summariesPrefix,
  storedCsv: false,
  accept: (info) => info.key.endsWith('.json'),
  expectedRows: async () => 1,
  open: async (store, key) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
    return summaryCsv(key, Buffer.concat(chunks).toString('utf8'));
  },
};

// Schemas already ensured per warehouse connection, so DDL runs once per process, not per tick.
const ensured = new WeakMap<Warehouse, Set<string>>();

function expectedRows(info: BlobInfo): number {
  const value = info.metadata[parsedMetadata.rows];
  const rows = value === undefined ? Number.NaN : Number(value);
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new LoadError(`parsed object has no valid ${parsedMetadata.rows} metadata`, { key: info.key, keys: [info.key] });
  }
  return rows;
}

/**
 * Compares what the warehouse took with what the parser wrote: per file where the bulk path
 * reports each file, else for the whole batch (one server-side COPY). Returns rows per file.
 */
function reconcile(table: TableDefinition, files: readonly DueFile[], copied: BatchCopied): number[] {
  if (copied.perFile) {
    files.forEach((file, i) => {
      if (copied.perFile![i] !== file.expectedRows) {
        throw new LoadError(`row count mismatch in ${file.key}: parser wrote ${file.expectedRows}, warehouse loaded ${copied.perFile![i]}`, {
          key: file.key,
          table: table.name,
        });
      }
    });
    return copied.perFile;
  }
  const expected = files.reduce((sum, f) => sum + f.expectedRows, 0);
  if (copied.total !== expected) {
    throw new LoadError(`row count mismatch in a batch of ${files.length} files: parser wrote ${expected}, warehouse loaded ${copied.total}`, { table: table.name });
  }
  // The batch total matched, so each file loaded what its parser count says.
  return files.map((f) => f.expectedRows);
}

async function loadTable(options: LoadOptions, dialect: LoadDialect, table: TableDefinition, source: FileSource): Promise<TableLoadResult> {
  const result: TableLoadResult = { table: table.name, files: 0, rowsCopied: 0, rowsInserted: 0 };
  const listed: BlobInfo[] = [];
  const prefixes = options.dates === undefined ? [source.prefix] : options.dates.map((d) => `${source.prefix}${d}/`);
  for (const prefix of prefixes) for await (const info of options.store.list(prefix)) if (source.accept(info)) listed.push(info);
  const maxFiles = options.maxFilesPerBatch ?? 500;
  for (let start = 0; start < listed.length; start += maxFiles) {
    const candidates = listed.slice(start, start + maxFiles);
    const loaded = await dialect.loadedKeys(options.warehouse, candidates.map((c) => c.key));
    const due = candidates.filter((c) => !loaded.has(c.key));
    if (due.length === 0) continue;
    const keys = due.map((d) => d.key);
    try {
      const outcome = await dialect.withTableLock(options.warehouse, table.name, options.runId, async (tx) => {
        // Re-check under the lock: a run that held it may have loaded some of these meanwhile.
        const again = await dialect.loadedKeys(tx, keys);
        const files: DueFile[] = [];
        for (const d of due) if (!again.has(d.key)) files.push({ key: d.key, etag: d.etag, expectedRows: await source.expectedRows(d, options.store) });
        if (files.length === 0) return { files: 0, rowsCopied: 0, rowsInserted: 0 };
        const copied = await dialect.loadBatch({
          tx,
          table,
          files,
          open: (key) => source.open(options.store, key),
          storedCsv: source.storedCsv,
          store: options.store,
          runId: options.runId,
          batchId: `${table.name}-${start / maxFiles + 1}`,
        });
        const rowsLoaded = reconcile(table, files, copied);
        await dialect.recordManifest(tx, table.name, files, rowsLoaded, options.runId);
        return { files: files.length, rowsCopied: copied.total, rowsInserted: copied.inserted };
      });
      if (outcome === tableLocked) {
        result.skipped = 'locked';
        options.logger.info('load skipped: table locked by another run', { table: table.name, run_id: options.runId });
        return result;
      }
      result.files += outcome.files;
      result.rowsCopied += outcome.rowsCopied;
      result.rowsInserted += outcome.rowsInserted;
      options.onBatch?.({ table: table.name, files: outcome.files, rows: outcome.rowsCopied });
    } catch (err) {
      const error = err instanceof LoadError ? err : new LoadError(`loading ${table.name} failed: ${(err as Error).message}`, {
        table: table.name,
        sqlstate: typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined,
      }, { cause: err });
      error.context.keys = keys;
      options.logger.error('load batch rolled back', { run_id: options.runId, ...errorFields(error) });
      result.error = { message: error.message, code: error instanceof FerryError ? error.code : 'load_failed', keys };
      // Kept for `ferry status`; if the warehouse itself is down this fails too, and the log line above remains.
      await dialect
        .recordFailure(options.warehouse, { runId: options.runId, table: table.name, code: result.error.code, message: result.error.message, keys })
        .catch((err: unknown) => options.logger.warn('could not record the load failure', errorFields(err)));
      return result;
    }
  }
  if (result.files > 0) options.logger.info('loaded', { run_id: options.runId, ...result });
  return result;
}

/**
 * One load run: for each table, loads every parsed object not yet in the manifest, in batches,
 * each batch in one transaction with its manifest rows, under a per-table lock; then the parse
 * summaries into `source_counts` the same way. A failed batch rolls back whole and is reported
 * with its file keys; other tables still load.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const dialect = options.dialect ?? new PostgresDialect(options.schema);
  const done = ensured.get(options.warehouse) ?? new Set<string>();
  if (!done.has(options.schema)) {
    await dialect.ensureSchema(options.warehouse, [...options.tables, sourceCountsTable]);
    done.add(options.schema);
    ensured.set(options.warehouse, done);
  }
  const tables: TableLoadResult[] = [];
  for (const table of options.tables) tables.push(await loadTable(options, dialect, table, parsedFiles(table)));
  tables.push(await loadTable(options, dialect, sourceCountsTable, summaryFiles));
  return { runId: options.runId, tables };
}
