import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Readable } from 'node:stream';
import type { CopyTarget, Row, Warehouse, WarehouseTransaction } from '../../core/ports/warehouse.js';

const rawText = (value: string) => value;
// Same value shapes as the `pg` adapter: timestamps as UTC text, bigint as decimal text.
const parsers = { 20: rawText, 1114: rawText, 1184: rawText, 1082: rawText };

async function toBlob(stream: Readable): Promise<Blob> {
  const chunks: BlobPart[] = [];
  for await (const chunk of stream) chunks.push(chunk as BlobPart);
  return new Blob(chunks);
}

function transactionOn(tx: Transaction): WarehouseTransaction {
  return {
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      return (await tx.query<R>(sql, params as unknown[] | undefined)).rows;
    },
    async execute(sql: string, params?: readonly unknown[]): Promise<number> {
      return (await tx.query(sql, params as unknown[] | undefined)).affectedRows ?? 0;
    },
    async copyCsv(target: CopyTarget, csv: Readable): Promise<number> {
      // PGlite reads COPY input from a Blob (`/dev/blob`), so one file is held in memory here.
      const blob = await toBlob(csv);
      const columns = target.columns.map((c) => c.quoted).join(', ');
      const result = await tx.query(`COPY ${target.table} (${columns}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob });
      return result.affectedRows ?? 0;
    },
  };
}

/**
 * `Warehouse` on PGlite (PostgreSQL compiled to WASM) stored in a directory: the embedded default
 * of earlier Ferry versions, kept here to make the warehouses they left for the migration tests.
 */
export class PgliteWarehouse implements Warehouse {
  readonly description: string;

  private constructor(private readonly db: PGlite, location: string) {
    this.description = `embedded PostgreSQL (PGlite) at ${location}`;
  }

  /** Opens (creating if needed) the database in `dataDir`, or in memory when omitted. */
  static async open(dataDir?: string): Promise<PgliteWarehouse> {
    const db = await PGlite.create(dataDir ?? 'memory://', { parsers });
    return new PgliteWarehouse(db, dataDir ?? 'memory');
  }

  async transaction<T>(fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(transactionOn(tx)));
  }

  async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return (await this.db.query<R>(sql, params as unknown[] | undefined)).rows;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
