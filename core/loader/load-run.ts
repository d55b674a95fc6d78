import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FerryError, LoadError } from '../errors.js';
import type { TableDefinition } from '../model/table-definition.js';
import { parsedMetadata } from '../parser/output-keys.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import type { Logger } from '../ports/logger.js';
import type { Warehouse, WarehouseTransaction } from '../ports/warehouse.js';
import { errorFields } from '../support/json-logger.js';
import { PostgresLoadSql } from './postgres-sql.js';
import { sourceCountsTable, summariesPrefix, summaryCsv } from './source-counts.js';

/** What a load run needs. */
export interface LoadOptions {
  store: BlobStore;
  warehouse: Warehouse;
  logger: Logger;
  tables: readonly TableDefinition[];
  /** Warehouse schema holding the tables and the manifest. */
  schema: string;
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

interface DueFile {
  key: string;
  etag: string;
  expectedRows: number;
}

/** Where a table's files come from and how each is read as CSV. */
interface FileSource {
  prefix: string;
  accept(info: BlobInfo): boolean;
  expectedRows(info: BlobInfo, store: BlobStore): Promise<number>;
  /** The file as CSV; the caller destroys it. */
  open(store: BlobStore, key: string): Promise<Readable>;
}

/** Parsed files: gzip'd CSV under `parsed/<table>/`, their row count in metadata. */
function parsedFiles(table: TableDefinition): FileSource {
  return {
    prefix: `parsed/${table.name}/`,
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
  accept: (info) => info.key.endsWith('.json'),
  expectedRows: async () => 1,
  open: async (store, key) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
    return summaryCsv(key, Buffer.concat(chunks).toString('utf8'));
  },
};

/** SQLSTATE of a duplicate key: the target already holds a row of this batch. */
const uniqueViolation = '23505';

// Schemas already ensured per warehouse connection, so DDL runs once per process, not per tick.
const ensured = new WeakMap<Warehouse, Set<string>>();

/** Creates the schema, manifest and tables if missing (idempotent, serialized across runs). */
export async function ensureWarehouseSchema(warehouse: Warehouse, schema: string, tables: readonly TableDefinition[]): Promise<void> {
  const sql = new PostgresLoadSql(schema);
  await warehouse.transaction(async (tx) => {
    await tx.query(sql.ddlLock());
    for (const statement of sql.createSchema(tables)) await tx.query(statement);
  });
}

function expectedRows(info: BlobInfo): number {
  const value = info.metadata[parsedMetadata.rows];
  const rows = value === undefined ? Number.NaN : Number(value);
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new LoadError(`parsed object has no valid ${parsedMetadata.rows} metadata`, { key: info.key, keys: [info.key] });
  }
  return rows;
}

/** Copies each file into `target`, checking its row count against the parser's; returns the counts. */
async function copyFiles(tx: WarehouseTransaction, options: LoadOptions, table: TableDefinition, source: FileSource, files: DueFile[], target: string, columns: string[]) {
  const copied: number[] = [];
  for (const file of files) {
    const csv = await source.open(options.store, file.key);
    let rows: number;
    try {
      rows = await tx.copyCsv(target, columns, csv);
    } finally {
      csv.destroy(); // a failed COPY must not leave the object's stream (and file handle) open
    }
    if (rows !== file.expectedRows) {
      throw new LoadError(`row count mismatch in ${file.key}: parser wrote ${file.expectedRows}, warehouse loaded ${rows}`, {
        key: file.key,
        table: table.name,
      });
    }
    copied.push(rows);
  }
  return copied;
}

function sqlstateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Loads one batch inside the caller's transaction. Fast path: COPY straight into the target under
 * a savepoint — one pass, as fast as psql's \copy. The target's key refuses a row it already
 * holds (a client's re-send), and only then is the savepoint rolled back and the batch loaded
 * the careful way: into a staging table, de-duplicated keeping the earliest `keepEarliest`, and
 * inserted where the target lacks the key.
 */
async function loadBatch(tx: WarehouseTransaction, sql: PostgresLoadSql, options: LoadOptions, table: TableDefinition, source: FileSource, files: DueFile[]) {
  await tx.query(sql.sortMemory());
  let copied: number[];
  let inserted: number;
  await tx.query(sql.savepoint());
  try {
    copied = await copyFiles(tx, options, table, source, files, sql.target(table), sql.columns(table));
    await tx.query(sql.releaseSavepoint());
    inserted = copied.reduce((a, b) => a + b, 0);
  } catch (err) {
    if (sqlstateOf(err) !== uniqueViolation) throw err;
    await tx.query(sql.rollbackToSavepoint());
    await tx.query(sql.createStaging(table));
    copied = await copyFiles(tx, options, table, source, files, sql.staging(table), sql.columns(table));
    const [merged] = await tx.query<{ inserted: string | number }>(sql.mergeStaging(table));
    inserted = Number(merged?.inserted ?? 0);
  }
  await tx.query(sql.insertManifest(), [
    files.map((f) => f.key),
    files.map((f) => f.etag),
    files.map(() => table.name),
    files.map((f) => f.expectedRows),
    copied,
    files.map(() => options.runId),
  ]);
  return { rowsCopied: copied.reduce((a, b) => a + b, 0), rowsInserted: inserted };
}

async function loadTable(options: LoadOptions, sql: PostgresLoadSql, table: TableDefinition, source: FileSource): Promise<TableLoadResult> {
  const result: TableLoadResult = { table: table.name, files: 0, rowsCopied: 0, rowsInserted: 0 };
  const listed: BlobInfo[] = [];
  const prefixes = options.dates === undefined ? [source.prefix] : options.dates.map((d) => `${source.prefix}${d}/`);
  for (const prefix of prefixes) for await (const info of options.store.list(prefix)) if (source.accept(info)) listed.push(info);
  const maxFiles = options.maxFilesPerBatch ?? 500;
  for (let start = 0; start < listed.length; start += maxFiles) {
    const candidates = listed.slice(start, start + maxFiles);
    const loaded = new Set(
      (await options.warehouse.query<{ file_key: string }>(sql.loadedKeys(), [candidates.map((c) => c.key)])).map((r) => r.file_key),
    );
    const due = candidates.filter((c) => !loaded.has(c.key));
    if (due.length === 0) continue;
    const keys = due.map((d) => d.key);
    try {
      const outcome = await options.warehouse.transaction(async (tx) => {
        const [lock] = await tx.query<{ locked: boolean }>(sql.tryLoadLock(), [table.name]);
        if (!lock?.locked) return 'locked' as const;
        // Re-check under the lock: a run that held it may have loaded some of these meanwhile.
        const again = new Set((await tx.query<{ file_key: string }>(sql.loadedKeys(), [keys])).map((r) => r.file_key));
        const files: DueFile[] = [];
        for (const d of due) if (!again.has(d.key)) files.push({ key: d.key, etag: d.etag, expectedRows: await source.expectedRows(d, options.store) });
        if (files.length === 0) return { files: 0, rowsCopied: 0, rowsInserted: 0 };
        return { files: files.length, ...(await loadBatch(tx, sql, options, table, source, files)) };
      });
      if (outcome === 'locked') {
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
      await options.warehouse
        .query(sql.insertFailure(), [options.runId, table.name, result.error.code, result.error.message, keys])
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
  const sql = new PostgresLoadSql(options.schema);
  const done = ensured.get(options.warehouse) ?? new Set<string>();
  if (!done.has(options.schema)) {
    await ensureWarehouseSchema(options.warehouse, options.schema, [...options.tables, sourceCountsTable]);
    done.add(options.schema);
    ensured.set(options.warehouse, done);
  }
  const tables: TableLoadResult[] = [];
  for (const table of options.tables) tables.push(await loadTable(options, sql, table, parsedFiles(table)));
  tables.push(await loadTable(options, sql, sourceCountsTable, summaryFiles));
  return { runId: options.runId, tables };
}
