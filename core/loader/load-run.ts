import { FerryError, LoadError, NotFoundError } from '../errors.js';
import type { TableDefinition } from '../model/table-definition.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import type { Logger } from '../ports/logger.js';
import type { Warehouse } from '../ports/warehouse.js';
import { compareKeys } from '../support/blob-metadata.js';
import { errorFields } from '../support/json-logger.js';
import { timeSortablePrefix } from '../support/time-sortable-id.js';
import { PostgresDialect } from './dialects/postgres.js';
import { errorChain, tableLocked, type BatchCopied, type DueFile, type LoadDialect, type LoadedFile } from './load-dialect.js';
import { parsedFiles, SummaryFiles, type FileSource } from './file-sources.js';
import { sourceCountsTable } from './source-counts.js';

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
  /**
   * Lists in each date partition only files named from this arrival time on (parsed files are
   * named by when their input arrived, `outputKeysFor`), so a timer's tick costs what arrived
   * since the last one; without it partitions are listed whole. Only with `dates`.
   */
  since?: Date;
  /**
   * Tries quarantined files again (wherever their date partition is): those that load leave the
   * quarantine, those still refused stay in it with the new error. Without it, a quarantined file
   * is skipped until its content changes (a new ETag).
   */
  retryQuarantined?: boolean;
  /** Called after each batch, for progress displays. */
  onBatch?: (progress: { table: string; files: number; rows: number }) => void;
}

/** A file this run found the warehouse refusing, now in `<schema>.load_quarantine`. */
export interface QuarantinedInRun {
  key: string;
  etag: string;
  code: string;
  sqlstate: string | null;
  message: string;
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
  /** Files the warehouse refused in this run: isolated and quarantined while the others loaded. */
  quarantined?: QuarantinedInRun[];
  /** Rows added that share their collision key (`(session, nr)`) with a row of other content; absent when none. */
  collisions?: number;
}

/** Outcome of one load run. */
export interface LoadResult {
  runId: string;
  tables: TableLoadResult[];
}

// Schemas already ensured per warehouse connection, so DDL runs once per process, not per tick.
const ensured = new WeakMap<Warehouse, Set<string>>();

/**
 * Keys this process knows the manifest holds, per warehouse, schema and partition folder
 * (`parsed/events/2026-11-25/`), from manifest queries and committed loads: a timed tick's
 * listing skips them (`ListOptions.skip`), so a tick no longer reads the details of every file
 * of its look-back window again. A whole listing (at start, hourly) asks the manifest afresh, so
 * rows deleted from it by hand are found again there.
 */
const knownLoaded = new WeakMap<Warehouse, Map<string, Map<string, Set<string>>>>();

function partitionOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/**
 * Compares what the warehouse took with what the parser wrote: per file where the bulk path
 * reports each file, else for the whole batch (one server-side COPY). Returns the loaded files.
 */
function reconcile(table: TableDefinition, files: readonly DueFile[], copied: BatchCopied): LoadedFile[] {
  if (copied.perFile) {
    return files.map((file, i) => {
      const rowsLoaded = copied.perFile![i]!;
      if (rowsLoaded !== file.expectedRows) {
        throw new LoadError(`row count mismatch in ${file.key}: parser wrote ${file.expectedRows}, warehouse loaded ${rowsLoaded}`, {
          key: file.key,
          table: table.name,
          fault: 'file',
        });
      }
      return { ...file, rowsLoaded };
    });
  }
  const expected = files.reduce((sum, f) => sum + f.expectedRows, 0);
  if (copied.total !== expected) {
    const where = files.length === 1 ? files[0]!.key : `a batch of ${files.length} files`;
    const key = files.length === 1 ? { key: files[0]!.key } : {};
    throw new LoadError(`row count mismatch in ${where}: parser wrote ${expected}, warehouse loaded ${copied.total}`, { table: table.name, fault: 'file', ...key });
  }
  // The batch total matched, so each file loaded what its parser count says.
  return files.map((f) => ({ ...f, rowsLoaded: f.expectedRows }));
}

/** Whether `err` is about the files' content: the same files fail the same way on every retry. */
function refusedContent(err: unknown, dialect: LoadDialect): boolean {
  for (const e of errorChain(err)) {
    if (e instanceof NotFoundError) return true;
    if (e instanceof FerryError && e.context.fault === 'file') return true;
    // zlib's codes: a damaged gzip object.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) return true;
  }
  return dialect.refusesData(err);
}

/** The file an error names (a client-side copy or a count check knows which file failed). */
function culpritOf(err: unknown): string | undefined {
  for (const e of errorChain(err)) if (e instanceof FerryError && typeof e.context.key === 'string') return e.context.key;
  return undefined;
}

/**
 * How a refused batch is split: the file the error names alone, then the rest; else in halves.
 * Each part is then loaded (or split again) in its own transaction.
 */
function splitRefused<T extends { key: string }>(files: readonly T[], err: unknown): [T[], T[]] {
  const culprit = files.findIndex((f) => f.key === culpritOf(err));
  if (culprit >= 0) return [[files[culprit]!], files.filter((_, i) => i !== culprit)];
  const half = Math.ceil(files.length / 2);
  return [files.slice(0, half), files.slice(half)];
}

interface BatchOutcome {
  files: number;
  rowsCopied: number;
  rowsInserted: number;
  collisions: number;
}

/**
 * One table's part of a load run: lists its files, subtracts the manifest and the quarantine,
 * and loads the rest in batches. A batch the warehouse refuses for its content is split until
 * the refused files are found; they are quarantined and everything else loads in the same run.
 * Any other failure (connection, lock, timeout) rolls the batch back and stops the table until
 * the next run, as a transient fault should.
 */
class TableLoad {
  private readonly result: TableLoadResult;
  /** Quarantine entries (key → ETag) among the files this run considers; released when they load. */
  private readonly inQuarantine = new Map<string, string>();
  private batches = 0;

  constructor(
    private readonly options: LoadOptions,
    private readonly dialect: LoadDialect,
    private readonly table: TableDefinition,
    private readonly source: FileSource,
  ) {
    this.result = { table: table.name, files: 0, rowsCopied: 0, rowsInserted: 0 };
  }

  async run(): Promise<TableLoadResult> {
    const listed = await this.list();
    const maxFiles = this.options.maxFilesPerBatch ?? 500;
    for (let start = 0; start < listed.length; start += maxFiles) {
      const due = await this.due(listed.slice(start, start + maxFiles));
      if (due.length > 0 && !(await this.loadIsolating(due))) break;
    }
    if (this.result.files > 0) this.options.logger.info('loaded', { run_id: this.options.runId, ...this.result });
    return this.result;
  }

  /** What is known loaded of this table's partitions (per partition folder). */
  private knownPartitions(): Map<string, Set<string>> {
    const { warehouse, schema } = this.options;
    const tables = knownLoaded.get(warehouse) ?? knownLoaded.set(warehouse, new Map()).get(warehouse)!;
    const id = `${schema}\0${this.source.prefix}`;
    return tables.get(id) ?? tables.set(id, new Map()).get(id)!;
  }

  private isKnown(key: string): boolean {
    return this.knownPartitions().get(partitionOf(key))?.has(key) === true;
  }

  private know(keys: Iterable<string>): void {
    const partitions = this.knownPartitions();
    for (const key of keys) {
      const partition = partitionOf(key);
      (partitions.get(partition) ?? partitions.set(partition, new Set()).get(partition)!).add(key);
    }
  }

  /** Keeps what is known of the partitions a timed tick lists (`keep`), and nothing before a whole listing. */
  private forgetKnown(keep: readonly string[] | undefined): void {
    const partitions = this.knownPartitions();
    for (const partition of [...partitions.keys()]) if (keep === undefined || !keep.includes(partition)) partitions.delete(partition);
  }

  /** The table's files in the dates asked for; with `retryQuarantined`, its quarantined files too. */
  private async list(): Promise<BlobInfo[]> {
    const { store, dates, since } = this.options;
    const listed: BlobInfo[] = [];
    const prefixes = dates === undefined ? [this.source.prefix] : dates.map((d) => `${this.source.prefix}${d}/`);
    const timed = since !== undefined && dates !== undefined;
    this.forgetKnown(timed ? prefixes : undefined);
    for (const prefix of prefixes) {
      const from = timed ? { startAfter: `${prefix}${timeSortablePrefix(since)}`, skip: (key: string) => this.isKnown(key) } : {};
      for await (const info of store.list(prefix, from)) if (this.source.accept(info)) listed.push(info);
    }
    if (!this.options.retryQuarantined) return listed;
    const seen = new Set(listed.map((l) => l.key));
    const gone: string[] = [];
    for (const entry of await this.dialect.quarantinedFiles(this.options.warehouse, this.table.name)) {
      if (seen.has(entry.file_key)) continue;
      try {
        listed.push(await store.head(entry.file_key));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        gone.push(entry.file_key);
      }
    }
    if (gone.length > 0) {
      await this.dialect.releaseQuarantine(this.options.warehouse, gone);
      this.options.logger.info('quarantined files no longer in the store: released', { table: this.table.name, keys: gone });
    }
    return listed.sort((a, b) => compareKeys(a.key, b.key));
  }

  /** Candidates the manifest lacks, minus quarantined ones unchanged since (unless retrying). */
  private async due(candidates: readonly BlobInfo[]): Promise<BlobInfo[]> {
    const { warehouse } = this.options;
    const loaded = await this.dialect.loadedKeys(warehouse, candidates.map((c) => c.key));
    this.know(loaded);
    const due = candidates.filter((c) => !loaded.has(c.key));
    if (due.length === 0) return due;
    const quarantined = await this.dialect.quarantinedEtags(warehouse, due.map((d) => d.key));
    for (const [key, etag] of quarantined) this.inQuarantine.set(key, etag);
    const retried = this.options.retryQuarantined ? due : due.filter((d) => quarantined.get(d.key) !== d.etag);
    return this.source.ready && retried.length > 0 ? this.source.ready(retried) : retried;
  }

  /**
   * Loads `due`; when the warehouse refuses the content, splits it and loads each part on its
   * own, down to single files, which are quarantined. Returns false when the table must stop
   * for this run (locked by another run, or a failure that is not the files' fault).
   */
  private async loadIsolating(due: readonly BlobInfo[]): Promise<boolean> {
    try {
      const outcome = await this.loadBatch(due);
      if (outcome === tableLocked) {
        this.result.skipped = 'locked';
        this.options.logger.info('load skipped: table locked by another run', { table: this.table.name, run_id: this.options.runId });
        return false;
      }
      this.know(due.map((d) => d.key)); // committed: in the manifest now (or found there under the lock)
      this.result.files += outcome.files;
      this.result.rowsCopied += outcome.rowsCopied;
      this.result.rowsInserted += outcome.rowsInserted;
      if (outcome.collisions > 0) this.result.collisions = (this.result.collisions ?? 0) + outcome.collisions;
      if (outcome.files > 0) this.options.onBatch?.({ table: this.table.name, files: outcome.files, rows: outcome.rowsCopied });
      return true;
    } catch (err) {
      if (!refusedContent(err, this.dialect)) {
        await this.fail(err, due.map((d) => d.key));
        return false;
      }
      if (due.length === 1) return this.quarantine(due[0]!, err);
      const [first, rest] = splitRefused(due, err);
      return (await this.loadIsolating(first)) && this.loadIsolating(rest);
    }
  }

  /** One batch in one transaction under the table's lock: re-check, copy, reconcile, record. */
  private async loadBatch(due: readonly BlobInfo[]): Promise<BatchOutcome | typeof tableLocked> {
    const { store, runId, warehouse } = this.options;
    const keys = due.map((d) => d.key);
    const sizes = new Map(due.map((d) => [d.key, d.size]));
    const batchId = `${this.table.name}-${++this.batches}`;
    return this.dialect.withTableLock(warehouse, this.table.name, runId, async (tx) => {
      // Re-check under the lock: a run that held it may have loaded some of these meanwhile.
      const again = await this.dialect.loadedKeys(tx, keys);
      const files: DueFile[] = [];
      for (const d of due) if (!again.has(d.key)) files.push(await this.source.describe(d, store));
      if (files.length === 0) return { files: 0, rowsCopied: 0, rowsInserted: 0, collisions: 0 };
      const copied = await this.dialect.loadBatch({
        tx,
        table: this.table,
        files,
        open: (key) => this.source.open(store, key, sizes.get(key)),
        storedCsv: this.source.storedCsv,
        store,
        runId,
        batchId,
      });
      const loaded = reconcile(this.table, files, copied);
      await this.dialect.recordManifest(tx, this.table.name, loaded, runId);
      const released = files.filter((f) => this.inQuarantine.has(f.key)).map((f) => f.key);
      if (released.length > 0) await this.dialect.releaseQuarantine(tx, released);
      const collisions = copied.collisions ?? new Map<string, number>();
      if (collisions.size > 0) {
        await this.dialect.recordCollisions(tx, collisions);
        // Summaries wait for their event files, so only a file released from quarantine can find its summary's rows loaded already.
        if (released.length > 0) await this.dialect.addSourceCollisions(tx, collisions);
      }
      const collided = [...collisions.values()].reduce((a, b) => a + b, 0);
      return { files: files.length, rowsCopied: copied.total, rowsInserted: copied.inserted, collisions: collided };
    });
  }

  /** Records a refused file; the run goes on with the table's other files. */
  private async quarantine(file: BlobInfo, err: unknown): Promise<boolean> {
    const error = err instanceof FerryError ? err : new LoadError((err as Error).message, {}, { cause: err });
    const sqlstate = this.dialect.errorCode(err) ?? null;
    const entry = { key: file.key, etag: file.etag, code: error.code, sqlstate, message: error.message };
    try {
      await this.dialect.quarantine(this.options.warehouse, [{ ...entry, table: this.table.name, runId: this.options.runId }]);
    } catch (recordError) {
      // Not recorded: nothing is lost, the file is tried again next run.
      await this.fail(recordError, [file.key]);
      return false;
    }
    this.options.logger.error('file quarantined: the warehouse refused it; the table\'s other files load', {
      run_id: this.options.runId,
      table: this.table.name,
      key: file.key,
      etag: file.etag,
      sqlstate,
      message: error.message,
    });
    (this.result.quarantined ??= []).push(entry);
    return true;
  }

  /** A rolled-back batch that is not the files' fault: logged, recorded for `ferry status`, retried next run. */
  private async fail(err: unknown, keys: string[]): Promise<void> {
    const table = this.table.name;
    const error =
      err instanceof LoadError ? err : new LoadError(`loading ${table} failed: ${(err as Error).message}`, { table, sqlstate: this.dialect.errorCode(err) }, { cause: err });
    error.context.keys = keys;
    this.options.logger.error('load batch rolled back', { run_id: this.options.runId, ...errorFields(error) });
    this.result.error = { message: error.message, code: error.code, keys };
    // Kept for `ferry status`; if the warehouse itself is down this fails too, and the log line above remains.
    await this.dialect
      .recordFailure(this.options.warehouse, { runId: this.options.runId, table, code: error.code, message: error.message, keys })
      .catch((e: unknown) => this.options.logger.warn('could not record the load failure', errorFields(e)));
  }
}

/**
 * One load run: for each table, loads every parsed object not yet in the manifest, in batches,
 * each batch in one transaction with its manifest rows, under a per-table lock; then the parse
 * summaries into `source_counts` the same way. A file the warehouse refuses is isolated and
 * quarantined while the rest loads; any other failed batch rolls back whole and is reported with
 * its file keys; other tables still load.
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
  for (const table of options.tables) tables.push(await new TableLoad(options, dialect, table, parsedFiles(table)).run());
  const collisionTables = options.tables.filter((t) => t.collisionKey).map((t) => t.name);
  const summaries = new SummaryFiles(options.store, options.warehouse, dialect, collisionTables);
  tables.push(await new TableLoad(options, dialect, sourceCountsTable, summaries).run());
  return { runId: options.runId, tables };
}
