import type { Readable } from 'node:stream';
import type { TableDefinition } from '../model/table-definition.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Row, Warehouse, WarehouseTransaction } from '../ports/warehouse.js';

/** The warehouses Ferry loads into. `postgres` also serves the embedded PGlite. */
export type WarehouseKind = 'postgres' | 'redshift' | 'azuresql' | 'synapse' | 'fabric';

/** Every warehouse kind, for validating configuration. */
export const warehouseKinds: readonly WarehouseKind[] = ['postgres', 'redshift', 'azuresql', 'synapse', 'fabric'];

/** Something statements can run on: the warehouse itself or an open transaction. */
export type Queryable = Pick<Warehouse, 'query'>;

/** A parsed file due for loading. */
export interface DueFile {
  key: string;
  etag: string;
  /** Rows the parser wrote, from the object's metadata. */
  expectedRows: number;
}

/** A file loaded by a batch, as its manifest row records it. */
export interface LoadedFile extends DueFile {
  rowsLoaded: number;
}

/** One batch of one table's due files, inside the table's load transaction. */
export interface BatchInput {
  tx: WarehouseTransaction;
  table: TableDefinition;
  files: readonly DueFile[];
  /** Opens one file as CSV (decompressed) for a client-side bulk load; the caller destroys it. */
  open(key: string): Promise<Readable>;
  /**
   * Whether the warehouse can read the files straight from storage (gzip'd CSV objects). False
   * for rows Ferry derives on the fly (parse summaries), which are always sent by the client.
   */
  storedCsv: boolean;
  store: BlobStore;
  runId: string;
  /** Unique per batch within a run; names per-batch artifacts such as a Redshift manifest. */
  batchId: string;
}

/**
 * Rows the warehouse took from the batch's files. `perFile` when the bulk path reports each
 * file (client-side loads); otherwise only the batch `total` is known (one server-side COPY).
 */
export interface BatchCopied {
  perFile?: number[];
  total: number;
  /** Rows that reached the target after de-duplication. */
  inserted: number;
  /**
   * For tables with a `collisionKey`: per `source_key`, the rows added that share the collision
   * key with a row of other content already stored or added before them in the batch.
   */
  collisions?: ReadonlyMap<string, number>;
}

/** One failed batch, kept for `ferry status`. */
export interface LoadFailure {
  runId: string;
  table: string;
  code: string;
  message: string;
  keys: readonly string[];
}

/** A file the warehouse refused, kept out of later loads until it changes or is retried. */
export interface QuarantineEntry {
  table: string;
  key: string;
  etag: string;
  /** Ferry's error code (`load_failed`, `not_found`, …). */
  code: string;
  /** SQLSTATE (PostgreSQL, Redshift) or error number (SQL Server family); null when Ferry found the fault itself. */
  sqlstate: string | null;
  message: string;
  runId: string;
}

/** A quarantined file as the warehouse keeps it (`<schema>.load_quarantine`). */
export interface QuarantineRow {
  table_name: string;
  file_key: string;
  etag: string;
  code: string;
  sqlstate: string | null;
  message: string;
  run_id: string;
  quarantined_at: string;
}

/** Status rows, already normalised across dialects. */
export interface ManifestTotal {
  table_name: string;
  files: number;
  rows: number;
  last_loaded_at: string | null;
}
export interface ManifestDay {
  table_name: string;
  date: string;
  files: number;
  rows: number;
}
export interface LatestFailure {
  table_name: string;
  run_id: string;
  code: string;
  message: string;
  file_keys: string[];
  failed_at: string;
}

/** Returned by `withTableLock` when another run holds the table. */
export const tableLocked: unique symbol = Symbol('table locked');

/**
 * How one warehouse does each step of the load run. `runLoad` owns the order (list, subtract the
 * manifest, lock, re-check, load, reconcile, record); a dialect owns the SQL and the bulk path.
 * Every statement is built from validated identifiers; values travel as parameters, except
 * where a warehouse accepts only literals (storage URLs in COPY), which are escaped.
 */
export interface LoadDialect {
  readonly kind: WarehouseKind;
  /**
   * Creates schema, manifest, failure log, quarantine, collision counts and tables if missing;
   * adds new columns, drops none; moves a table whose key changed to its new key in place
   * (filling a `backfill` column for existing rows first).
   */
  ensureSchema(warehouse: Warehouse, tables: readonly TableDefinition[]): Promise<void>;
  /** Which of `keys` the manifest already lists. */
  loadedKeys(q: Queryable, keys: readonly string[]): Promise<Set<string>>;
  /**
   * Runs `fn` in one transaction holding the table's load lock, or returns `tableLocked` when
   * another run holds it (dialects that can only wait for the lock wait, then `fn` re-checks).
   */
  withTableLock<T>(warehouse: Warehouse, table: string, runId: string, fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T | typeof tableLocked>;
  /** Bulk-loads the batch, de-duplicates it on the table key and inserts what the target lacks. */
  loadBatch(batch: BatchInput): Promise<BatchCopied>;
  /** One manifest row per file, in the batch's transaction. */
  recordManifest(tx: WarehouseTransaction, table: string, files: readonly LoadedFile[], runId: string): Promise<void>;
  /** Adds a batch's collisions per input key to `load_collisions`, in the batch's transaction. */
  recordCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void>;
  /** The collisions recorded for these input keys (absent: none). */
  collisionsOf(q: Queryable, sourceKeys: readonly string[]): Promise<Map<string, number>>;
  /**
   * Adds collisions to the `source_counts` rows of these input keys, for event files that load
   * after their summary did (a file released from quarantine).
   */
  addSourceCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void>;
  /** Records a rolled-back batch, outside its transaction. */
  recordFailure(q: Queryable, failure: LoadFailure): Promise<void>;
  /**
   * Whether `err` (or an error it wraps) says the warehouse refused the batch's content: a data
   * exception or integrity violation that the same files would raise again, not a lost
   * connection, a lock or a serialization conflict. Such a batch is split to find the file.
   */
  refusesData(err: unknown): boolean;
  /** The warehouse's code for `err`: its SQLSTATE, or the SQL Server family's error number. */
  errorCode(err: unknown): string | undefined;
  /** Records refused files (replacing earlier entries for the same keys) in a transaction of its own. */
  quarantine(warehouse: Warehouse, entries: readonly QuarantineEntry[]): Promise<void>;
  /** Which of `keys` are quarantined, with the ETag each was quarantined at. */
  quarantinedEtags(q: Queryable, keys: readonly string[]): Promise<Map<string, string>>;
  /** Removes quarantine entries, in the transaction that loads the files or for files that are gone. */
  releaseQuarantine(q: Queryable, keys: readonly string[]): Promise<void>;
  /** Every quarantined file, or one table's, oldest first. */
  quarantinedFiles(q: Queryable, table?: string): Promise<QuarantineRow[]>;
  /** Whether `err` says a table does not exist (nothing was ever loaded into this schema). */
  isMissingTable(err: unknown): boolean;
  /** Per table: files and rows loaded, and the last load time. */
  manifestTotals(q: Queryable): Promise<ManifestTotal[]>;
  /** Per table, files and rows per date partition, the newest `days` partitions. */
  manifestByDay(q: Queryable, days: number): Promise<ManifestDay[]>;
  /** The latest failed batch per table. */
  latestFailures(q: Queryable): Promise<LatestFailure[]>;
}

/** Reads a numeric column that drivers return as a string (bigint) or number. */
export function numberOf(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

/** Normalises one status row's numeric fields. */
export function toTotals(rows: readonly Row[]): ManifestTotal[] {
  return rows.map((r) => ({
    table_name: String(r.table_name),
    files: numberOf(r.files),
    rows: numberOf(r.rows),
    last_loaded_at: r.last_loaded_at == null ? null : String(r.last_loaded_at),
  }));
}

export function toDays(rows: readonly Row[]): ManifestDay[] {
  return rows.map((r) => ({ table_name: String(r.table_name), date: String(r.date), files: numberOf(r.files), rows: numberOf(r.rows) }));
}

/** Failure rows keep their file keys as an array (PostgreSQL) or as JSON text (the others). */
export function toFailures(rows: readonly Row[]): LatestFailure[] {
  return rows.map((r) => ({
    table_name: String(r.table_name),
    run_id: String(r.run_id),
    code: String(r.code),
    message: String(r.message),
    file_keys: Array.isArray(r.file_keys) ? (r.file_keys as string[]) : (JSON.parse(String(r.file_keys)) as string[]),
    failed_at: String(r.failed_at),
  }));
}

/** Quarantine rows with their text fields normalised. */
export function toQuarantineRows(rows: readonly Row[]): QuarantineRow[] {
  return rows.map((r) => ({
    table_name: String(r.table_name),
    file_key: String(r.file_key),
    etag: String(r.etag),
    code: String(r.code),
    sqlstate: r.sqlstate == null ? null : String(r.sqlstate),
    message: String(r.message),
    run_id: String(r.run_id),
    quarantined_at: String(r.quarantined_at),
  }));
}

/** `err` and the errors it wraps (`cause`), outermost first. */
export function* errorChain(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e != null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/** The first SQLSTATE found on `err` or the errors it wraps (PostgreSQL-protocol drivers set `code`). */
export function sqlstateOf(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    const context = (e as { context?: { sqlstate?: unknown } }).context;
    if (typeof context?.sqlstate === 'string') return context.sqlstate;
  }
  return undefined;
}

/**
 * Adds per-input collision counts from the derived table `pairs` (columns `source_key`, `n`) to
 * `table`, for warehouses without an upsert (Redshift, the SQL Server family): the update of the
 * inputs it holds, then the insert of the others.
 */
export function addCollisionsSql(table: string, pairs: string): [update: string, insert: string] {
  return [
    `UPDATE ${table} SET collisions = ${table}.collisions + u.n FROM ${pairs} WHERE ${table}.source_key = u.source_key`,
    `INSERT INTO ${table} (source_key, collisions) SELECT u.source_key, u.n FROM ${pairs} WHERE NOT EXISTS (SELECT 1 FROM ${table} c WHERE c.source_key = u.source_key)`,
  ];
}

/** Splits `items` into chunks of at most `size` (statement parameter limits). */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
