import type { Readable } from 'node:stream';

/** A row as returned by a query: column name to value. */
export type Row = Record<string, unknown>;

/** One open transaction on the warehouse. */
export interface WarehouseTransaction {
  /** Runs one statement with positional parameters (`$1`, `$2`, …). */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Bulk-loads CSV (RFC 4180, UTF-8, no header, unquoted empty field = NULL) into `table`'s
   * `columns` and returns the number of rows copied. `table` and `columns` are already-quoted
   * identifiers produced by the SQL builder, never raw input.
   */
  copyCsv(table: string, columns: readonly string[], csv: Readable): Promise<number>;
}

/**
 * Warehouse port. Adapters: PostgreSQL (`pg` + `pg-copy-streams`) and embedded PostgreSQL
 * (PGlite); Redshift and the SQL Server family join through the same port.
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
