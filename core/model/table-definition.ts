/** Logical column types; each warehouse dialect maps them to its own SQL types. */
export type ColumnType = 'text' | 'bigint' | 'double' | 'timestamp' | 'json';

/** Every logical column type, for validating configuration. */
export const columnTypes: readonly ColumnType[] = ['text', 'bigint', 'double', 'timestamp', 'json'];

/** One column of an output table. */
export interface ColumnDefinition {
  name: string;
  type: ColumnType;
  /** NOT NULL in the warehouse; the parser never writes NULL here. */
  required?: boolean;
}

/**
 * An output table: the parser writes its columns in this exact order, the loader creates and
 * loads it. `key` de-duplicates rows (a client's re-sent event is stored once); among duplicates
 * the row with the smallest `keepEarliest` value wins (any one of them when it is not set).
 */
export interface TableDefinition {
  name: string;
  columns: readonly ColumnDefinition[];
  key: readonly string[];
  keepEarliest?: string;
  /**
   * A leading part of `key`: rows sharing it but not the whole key are distinct rows the load
   * counts as collisions per `source_key` (events: the same `(session, nr)`, other content).
   */
  collisionKey?: readonly string[];
  /**
   * Time columns analysts filter by, each indexed where the warehouse has secondary indexes.
   * `arrivalOrder`: the column grows with the load order, so a block-range index is enough.
   */
  timeIndexes?: readonly { column: string; arrivalOrder?: boolean }[];
  /**
   * A key column tables created before it existed lack: the loader fills it for their rows from
   * the stored columns `reads` (each read as text) before making it part of the key.
   */
  backfill?: { column: string; reads: readonly string[]; compute(row: Readonly<Record<string, string | null>>): string };
}
