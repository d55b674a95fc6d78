import type { Readable } from 'node:stream';
import { Connection, Request, TYPES, type ConnectionConfiguration } from 'tedious';
import type { DataType } from 'tedious/lib/data-type.js';
import { readCsvRecords, type CsvRecord } from '../loader/csv-rows.js';
import type { ColumnType } from '../model/table-definition.js';
import type { CopyTarget, Row, Warehouse, WarehouseTransaction } from '../ports/warehouse.js';

import { sqlServerDescription } from './sqlserver-url.js';

export { connectionConfigFromUrl } from './sqlserver-url.js';


/** The TDS type a positional parameter is sent as, from its JavaScript value. */
export function parameterType(value: unknown): DataType {
  if (typeof value === 'number') return Number.isInteger(value) ? TYPES.BigInt : TYPES.Float;
  if (typeof value === 'bigint') return TYPES.BigInt;
  if (value instanceof Date) return TYPES.DateTime2;
  return TYPES.NVarChar;
}

/** The bulk-load column type of a logical column type. */
export function bulkColumn(type: ColumnType): { type: DataType; length?: number; scale?: number } {
  switch (type) {
    case 'text':
    case 'json':
      return { type: TYPES.NVarChar, length: Infinity };
    case 'bigint':
      return { type: TYPES.BigInt };
    case 'double':
      return { type: TYPES.Float };
    case 'timestamp':
      return { type: TYPES.DateTime2, scale: 3 };
  }
}

/** One CSV record as bulk-load values: numbers and dates typed, NULL kept, text as is. */
export function toBulkRow(record: CsvRecord, types: readonly ColumnType[]): unknown[] {
  return types.map((type, i) => {
    const field = record[i] ?? null;
    if (field === null) return null;
    switch (type) {
      case 'bigint':
        return BigInt(field);
      case 'double':
        return Number(field);
      case 'timestamp':
        return new Date(field);
      default:
        return field;
    }
  });
}

function connect(config: ConnectionConfiguration): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const connection = new Connection(config);
    // An error after connect (a dropped socket) fails the request under way; do not crash.
    connection.on('error', () => {});
    connection.connect((err) => (err ? reject(err) : resolve(connection)));
  });
}

function exec(connection: Connection, sql: string, params: readonly unknown[] = []): Promise<{ rows: Row[]; count: number }> {
  return new Promise((resolve, reject) => {
    const rows: Row[] = [];
    const request = new Request(sql, (err, rowCount) => (err ? reject(err) : resolve({ rows, count: rowCount ?? 0 })));
    params.forEach((value, i) => request.addParameter(`p${i + 1}`, parameterType(value), value ?? null));
    request.on('row', (columns: { metadata: { colName: string }; value: unknown }[]) => {
      const row: Row = {};
      for (const c of columns) row[c.metadata.colName] = c.value;
      rows.push(row);
    });
    connection.execSql(request);
  });
}

function transactionOn(connection: Connection): WarehouseTransaction {
  return {
    query: async <R extends Row = Row>(sql: string, params?: readonly unknown[]) => (await exec(connection, sql, params)).rows as R[],
    execute: async (sql: string, params?: readonly unknown[]) => (await exec(connection, sql, params)).count,
    copyCsv: (target: CopyTarget, csv: Readable) =>
      new Promise<number>((resolve, reject) => {
        // keepNulls: an empty field is NULL, not the column's default.
        const bulk = connection.newBulkLoad(target.table, { keepNulls: true }, (err, rowCount) => (err ? reject(err) : resolve(rowCount ?? 0)));
        for (const c of target.columns) bulk.addColumn(c.name, bulkColumn(c.type).type, { ...bulkColumn(c.type), nullable: true });
        const types = target.columns.map((c) => c.type);
        // Rows are produced as tedious asks for them: one file is never held in memory.
        const rows = (async function* () {
          for await (const record of readCsvRecords(csv)) yield toBulkRow(record, types);
        })();
        connection.execBulkLoad(bulk, rows);
      }),
  };
}

/**
 * `Warehouse` on Azure SQL Database and Synapse dedicated pools via `tedious` (the driver under
 * `mssql`, used directly because its TDS bulk load streams rows from an async iterable, where
 * `mssql`'s `bulk()` holds every row in memory). One connection per transaction: the loader runs
 * a few transactions per timer tick, and a connection never outlives its work.
 */
export class TediousWarehouse implements Warehouse {
  readonly description: string;

  constructor(private readonly config: ConnectionConfiguration) {
    this.description = sqlServerDescription(config);
  }

  async transaction<T>(fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T> {
    const connection = await connect(this.config);
    try {
      await new Promise<void>((resolve, reject) => connection.beginTransaction((err) => (err ? reject(err) : resolve())));
      try {
        const result = await fn(transactionOn(connection));
        await new Promise<void>((resolve, reject) => connection.commitTransaction((err) => (err ? reject(err) : resolve())));
        return result;
      } catch (err) {
        // A failed statement may already have ended the transaction (XACT_ABORT); closing rolls back the rest.
        await new Promise<void>((resolve) => connection.rollbackTransaction(() => resolve()));
        throw err;
      }
    } finally {
      connection.close();
    }
  }

  async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    const connection = await connect(this.config);
    try {
      return (await exec(connection, sql, params)).rows as R[];
    } finally {
      connection.close();
    }
  }

  async close(): Promise<void> {}
}
