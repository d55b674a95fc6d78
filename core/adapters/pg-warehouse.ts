import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CopyTarget, Row, Warehouse, WarehouseTransaction } from '../ports/warehouse.js';

// Timestamps come back as their UTC text, not as Dates shifted into the local time zone.
const rawText = (value: string) => value;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 1114 || oid === 1184 || oid === 1082) return rawText;
    return pg.types.getTypeParser(oid, format);
  },
};

function transactionOn(client: pg.PoolClient): WarehouseTransaction {
  return {
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      return (await client.query<R>(sql, params as unknown[] | undefined)).rows;
    },
    async execute(sql: string, params?: readonly unknown[]): Promise<number> {
      return (await client.query(sql, params as unknown[] | undefined)).rowCount ?? 0;
    },
    async copyCsv(target: CopyTarget, csv: Readable): Promise<number> {
      const columns = target.columns.map((c) => c.quoted).join(', ');
      const stream = client.query(copyFrom(`COPY ${target.table} (${columns}) FROM STDIN WITH (FORMAT csv)`));
      await pipeline(csv, stream);
      return stream.rowCount;
    },
  };
}

/**
 * `Warehouse` on PostgreSQL via `pg`, bulk-loading with `COPY … FROM STDIN` (pg-copy-streams).
 * Also the Redshift adapter: Redshift speaks the same protocol, and its dialect loads with a
 * server-side `COPY … FROM 's3://…'` instead of `copyCsv`.
 */
export class PgWarehouse implements Warehouse {
  readonly description: string;
  private readonly pool: pg.Pool;

  constructor(connectionString: string, options: { max?: number; description?: string } = {}) {
    this.pool = new pg.Pool({ connectionString, max: options.max ?? 4, types: typeParsers });
    // An idle client's connection dropping must not crash the process; the pool replaces it.
    this.pool.on('error', () => {});
    const url = new URL(connectionString);
    this.description = options.description ?? `postgresql://${url.host}${url.pathname}`;
  }

  async transaction<T>(fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client whose connection dies emits 'error'; without a listener that would
    // crash the process. The failing query rejects on its own, so only remember the error.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(transactionOn(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error; // the connection is gone; do not return it to the pool
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(sql, params as unknown[] | undefined)).rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
