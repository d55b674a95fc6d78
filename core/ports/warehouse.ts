import type { Readable } from 'node:stream';
import type { ColumnType } from '../model/table-definition.js';

/** A row as returned by a query: column name to value. */
export type Row = Record<string, unknown>;

/** Where a bulk load goes: names already checked and quoted by a dialect, never raw input. */
export interface CopyTarget {
  /** Quoted, possibly schema-qualified table name. */
  table: string;
  /** In CSV field order: the bare (checked) name, the quoted name and the logical type. */
  columns: readonly { name: string; quoted: string; type: ColumnType; required: boolean }[];
}

/** One open transaction on the warehouse. */
export interface WarehouseTransaction {
  /**
   * Runs one statement with positional parameters; the placeholder syntax is the dialect's
   * (`$1` on PostgreSQL and Redshift, `@p1` on the SQL Server family).
   */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs one statement and returns the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Bulk-loads CSV (RFC 4180, UTF-8, no header, unquoted empty field = NULL) into `target` from
   * the client and returns the number of rows copied.
   */
  copyCsv(target: CopyTarget, csv: Readable): Promise<number>;
}

/**
 * Warehouse port. Adapters: PostgreSQL and Redshift (`pg` + `pg-copy-streams`), embedded
 * PostgreSQL (PGlite), and the SQL Server family (`tedious`). The SQL itself comes from the
 * load dialect (`core/loader/dialects/`).
 */
export interface Warehouse {
  /** Human-readable name of the target, for logs and `ferry status`. */
  readonly description: string;
  /** Runs `fn` in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T>;
  /** Runs one statement outside an explicit transaction. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  close(): Promise<void>;
}
