import type { Readable } from 'node:stream';
import { readCsvRecords } from '../../core/loader/csv-rows.js';
import type { CopyTarget, Row, Warehouse, WarehouseTransaction } from '../../core/ports/warehouse.js';

/** One thing the load run asked of the warehouse, in order. */
export type Recorded =
  | { kind: 'begin' | 'commit' | 'rollback' }
  | { kind: 'query' | 'execute'; sql: string; params: readonly unknown[]; inTransaction: boolean }
  | { kind: 'bulk'; table: string; columns: string[]; rows: number };

/** What the fake answers to one statement: rows for a query, a count for an execute. */
export type Answer = { rows?: Row[]; count?: number; error?: Error } | undefined;

/**
 * A `Warehouse` that records every statement, parameter, bulk load and transaction boundary, and
 * answers from a small model of the load tables: the manifest (committed rows only, as another
 * session would see them) plus whatever `answer` returns for the rest. Stands in for the
 * warehouses that cannot run here (Redshift, Azure SQL, Synapse); the statements it records are
 * the golden files' content.
 */
export class RecordingWarehouse implements Warehouse {
  readonly description = 'recording fake';
  readonly log: Recorded[] = [];
  /** File keys whose manifest rows are committed. */
  readonly manifest = new Set<string>();
  private pending: string[] = [];
  private open = false;
  /** Makes a client-side bulk load fail, as a warehouse refusing a file's content would. */
  refuseBulk: (table: string, records: readonly (string | null)[][]) => Error | undefined = () => undefined;

  constructor(private readonly answer: (sql: string, params: readonly unknown[]) => Answer = () => undefined) {}

  private run(kind: 'query' | 'execute', sql: string, params: readonly unknown[] = []): { rows: Row[]; count: number } {
    this.log.push({ kind, sql, params, inTransaction: this.open });
    const given = this.answer(sql, params);
    if (given?.error) throw given.error;
    if (/INSERT INTO \S*load_manifest\S* \(file_key/.test(sql)) {
      // Six parameters a manifest row, the file key first.
      const keys = params.filter((_, i) => i % 6 === 0) as string[];
      if (this.open) this.pending.push(...keys);
      else keys.forEach((k) => this.manifest.add(k));
      return { rows: [], count: keys.length };
    }
    if (/SELECT file_key FROM \S*load_manifest\S* WHERE file_key IN/.test(sql)) {
      const seen = new Set([...this.manifest, ...(this.open ? this.pending : [])]);
      return { rows: (params as string[]).filter((k) => seen.has(k)).map((file_key) => ({ file_key })), count: 0 };
    }
    if (given) return { rows: given.rows ?? [], count: given.count ?? given.rows?.length ?? 0 };
    // A multi-row insert of client-side records: one row per `SELECT …` or `(…)` tuple.
    const tuples = sql.match(/\nUNION ALL SELECT |\), \(/g)?.length ?? 0;
    return { rows: [], count: /^INSERT INTO \S*ferry_staging/.test(sql) ? tuples + 1 : 0 };
  }

  private transactionHandle(): WarehouseTransaction {
    return {
      query: async <R extends Row = Row>(sql: string, params?: readonly unknown[]) => this.run('query', sql, params).rows as R[],
      execute: async (sql: string, params?: readonly unknown[]) => this.run('execute', sql, params).count,
      copyCsv: async (target: CopyTarget, csv: Readable) => {
        const records = [];
        for await (const record of readCsvRecords(csv)) records.push(record);
        this.log.push({ kind: 'bulk', table: target.table, columns: target.columns.map((c) => c.name), rows: records.length });
        const refused = this.refuseBulk(target.table, records);
        if (refused) throw refused;
        return records.length;
      },
    };
  }

  async transaction<T>(fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T> {
    if (this.open) throw new Error('the fake holds one connection: nested transaction');
    this.open = true;
    this.pending = [];
    this.log.push({ kind: 'begin' });
    try {
      const result = await fn(this.transactionHandle());
      this.pending.forEach((k) => this.manifest.add(k));
      this.log.push({ kind: 'commit' });
      return result;
    } catch (err) {
      this.log.push({ kind: 'rollback' });
      throw err;
    } finally {
      this.open = false;
      this.pending = [];
    }
  }

  async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return this.run('query', sql, params).rows as R[];
  }

  async close(): Promise<void> {}

  /** The recorded statements' SQL with transaction markers, for order assertions. */
  shapes(): string[] {
    return this.log.map((r) => {
      if (r.kind === 'bulk') return `BULK ${r.table}`;
      if (r.kind === 'query' || r.kind === 'execute') return r.sql.split('\n')[0]!;
      return r.kind.toUpperCase();
    });
  }
}

/** Inlines parameters as literals so a golden file is plain SQL a parser can read. */
export function renderTranscript(log: readonly Recorded[], dialect: 'redshift' | 'tsql'): string {
  const literal = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'number') return String(v);
    const text = `'${String(v).replaceAll("'", "''")}'`;
    return dialect === 'tsql' ? `N${text}` : text;
  };
  const placeholder = dialect === 'tsql' ? /@p(\d+)\b/g : /\$(\d+)\b/g;
  const out: string[] = [];
  for (const r of log) {
    if (r.kind === 'begin') out.push(dialect === 'tsql' ? 'BEGIN TRANSACTION;' : 'BEGIN;');
    else if (r.kind === 'commit') out.push(dialect === 'tsql' ? 'COMMIT TRANSACTION;' : 'COMMIT;');
    else if (r.kind === 'rollback') out.push(dialect === 'tsql' ? 'ROLLBACK TRANSACTION;' : 'ROLLBACK;');
    else if (r.kind === 'bulk') out.push(`-- TDS bulk load (tedious execBulkLoad) into ${r.table} (${r.columns.join(', ')}): ${r.rows} rows`);
    else if (r.kind === 'query' || r.kind === 'execute') {
      const params = r.params;
      out.push(`${r.sql.replace(placeholder, (_: string, n: string) => literal(params[Number(n) - 1]))};`);
    }
  }
  return `${out.join('\n')}\n`;
}
