import type { TableDefinition } from '../model/table-definition.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { PostgresDialect } from './dialects/postgres.js';
import type { LoadDialect } from './load-dialect.js';
import { sourceCountsTable, summariesPrefix } from './source-counts.js';
import { storageLayout } from '../storage-layout.js';

/**
 * A file the warehouse refused (`<schema>.load_quarantine`): the table's other files loaded
 * without it, and it is not tried again until its content changes or `ferry load
 * --retry-quarantined` runs. Any entry means something needs fixing.
 */
export interface QuarantinedFile {
  table: string;
  key: string;
  /** The version that was refused; a new version of the object is loaded as usual. */
  etag: string;
  /** Ferry's error code (`load_failed`, `not_found`). */
  code: string;
  /** The warehouse's SQLSTATE (PostgreSQL, Redshift) or error number (SQL Server family); null when Ferry found the fault itself (row count, unreadable file). */
  sqlstate: string | null;
  message: string;
  run_id: string;
  quarantined_at: string;
}

/** A `ferry status` report, Snowplow-style: the store listing minus the manifest, plus load health. */
export interface LoadStatus {
  generated_at: string;
  /** Parsed files not in the manifest (nor quarantined) and older than the threshold: loads that are late or stuck. */
  unloaded: { table: string; key: string; age_s: number }[];
  /** Files the warehouse refused, oldest first. */
  quarantined: QuarantinedFile[];
  /** Parsed files not yet loaded but younger than the threshold (normal in-flight work). */
  pending: number;
  tables: {
    table: string;
    files: number;
    rows: number;
    last_loaded_at: string | null;
    /** Newest date partitions first. */
    days: { date: string; files: number; rows: number }[];
    latest_failure: { run_id: string; code: string; message: string; keys: string[]; failed_at: string } | null;
  }[];
}

/** What `loadStatus` reads. Only queries: it never changes the warehouse. */
export interface LoadStatusOptions {
  store: BlobStore;
  warehouse: Pick<Warehouse, 'query'>;
  schema: string;
  /** How to speak to the warehouse; PostgreSQL (`schema`) when omitted. */
  dialect?: LoadDialect;
  tables: readonly TableDefinition[];
  now: Date;
  /** Unloaded files younger than this many seconds are counted as pending, not reported. */
  olderThanS: number;
  /** Date partitions per table in `days` (default 7). */
  days?: number;
}

/** Nothing was ever loaded into this schema when its tables are missing: an empty answer. */
async function tolerateMissing<T>(dialect: LoadDialect, query: Promise<T[]>): Promise<T[]> {
  try {
    return await query;
  } catch (err) {
    if (dialect.isMissingTable(err)) return [];
    throw err;
  }
}

/**
 * Builds the status report: every parsed file (and summary) in the store that the manifest does
 * not list, with its age; the quarantined files; per table the files, rows and last load, rows per date partition, and
 * the latest rolled-back batch with its file keys.
 */
export async function loadStatus(options: LoadStatusOptions): Promise<LoadStatus> {
  const dialect = options.dialect ?? new PostgresDialect(options.schema);
  const all = [...options.tables, sourceCountsTable];
  const report: LoadStatus = { generated_at: options.now.toISOString(), unloaded: [], quarantined: [], pending: 0, tables: [] };
  const quarantined = await tolerateMissing(dialect, dialect.quarantinedFiles(options.warehouse));
  report.quarantined = quarantined.map((q) => ({
    table: q.table_name,
    key: q.file_key,
    etag: q.etag,
    code: q.code,
    sqlstate: q.sqlstate,
    message: q.message,
    run_id: q.run_id,
    quarantined_at: q.quarantined_at,
  }));
  const quarantinedEtag = new Map(quarantined.map((q) => [q.file_key, q.etag]));
  for (const table of all) {
    const prefix = table === sourceCountsTable ? summariesPrefix : storageLayout.parsedTable(table.name);
    const listed: { key: string; etag: string; lastModified: Date }[] = [];
    for await (const info of options.store.list(prefix)) if (info.key.endsWith('.csv.gz') || info.key.endsWith('.json')) listed.push(info);
    for (let i = 0; i < listed.length; i += 1000) {
      const chunk = listed.slice(i, i + 1000);
      const loaded = new Set(await tolerateMissing(dialect, dialect.loadedKeys(options.warehouse, chunk.map((c) => c.key)).then((keys) => [...keys])));
      for (const info of chunk) {
        if (loaded.has(info.key) || quarantinedEtag.get(info.key) === info.etag) continue;
        const age = Math.round((options.now.getTime() - info.lastModified.getTime()) / 1000);
        if (age >= options.olderThanS) report.unloaded.push({ table: table.name, key: info.key, age_s: age });
        else report.pending++;
      }
    }
  }
  const totals = await tolerateMissing(dialect, dialect.manifestTotals(options.warehouse));
  const days = await tolerateMissing(dialect, dialect.manifestByDay(options.warehouse, options.days ?? 7));
  const failures = await tolerateMissing(dialect, dialect.latestFailures(options.warehouse));
  for (const table of all) {
    const total = totals.find((t) => t.table_name === table.name);
    const failure = failures.find((f) => f.table_name === table.name);
    report.tables.push({
      table: table.name,
      files: total?.files ?? 0,
      rows: total?.rows ?? 0,
      last_loaded_at: total?.last_loaded_at ?? null,
      days: days.filter((d) => d.table_name === table.name).map((d) => ({ date: d.date, files: d.files, rows: d.rows })),
      latest_failure: failure ? { run_id: failure.run_id, code: failure.code, message: failure.message, keys: failure.file_keys, failed_at: failure.failed_at } : null,
    });
  }
  return report;
}
