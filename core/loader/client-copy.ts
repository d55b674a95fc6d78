import { LoadError } from '../errors.js';
import type { CopyTarget } from '../ports/warehouse.js';
import { readCsvRecords, type CsvRecord } from './csv-rows.js';
import type { BatchInput } from './load-dialect.js';

/**
 * Streams each file of the batch from the store through the client into `target`, one bulk
 * load per file so each file's count can be checked; returns the rows copied per file.
 */
export async function copyFilesFromClient(batch: BatchInput, target: CopyTarget): Promise<number[]> {
  const copied: number[] = [];
  for (const file of batch.files) {
    const csv = await batch.open(file.key);
    try {
      copied.push(await batch.tx.copyCsv(target, csv));
    } catch (err) {
      throw inFile(file.key, err);
    } finally {
      csv.destroy(); // a failed load must not leave the object's stream (and file handle) open
    }
  }
  return copied;
}

/**
 * Names the file whose copy failed, keeping the warehouse's error as the cause (its SQLSTATE or
 * number is what decides whether the file is refused): the load run then isolates that file.
 */
export function inFile(key: string, err: unknown): LoadError {
  return new LoadError(`${key}: ${(err as Error).message}`, { key }, { cause: err });
}

/** A statement and its positional parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * For warehouses without a client-side bulk path (Redshift, Synapse): sends each file's records
 * as parameterised multi-row inserts of at most `rowsPerStatement`; returns the rows per file.
 * Only for small inputs (parse summaries, one row each) — data files go server-side.
 */
export async function insertFilesFromClient(batch: BatchInput, rowsPerStatement: number, insert: (records: CsvRecord[]) => Statement): Promise<number[]> {
  const inserted: number[] = [];
  for (const file of batch.files) {
    const csv = await batch.open(file.key);
    let rows = 0;
    try {
      let pending: CsvRecord[] = [];
      const flush = async () => {
        if (pending.length === 0) return;
        const { sql, params } = insert(pending);
        rows += await batch.tx.execute(sql, params);
        pending = [];
      };
      for await (const record of readCsvRecords(csv, file.key)) {
        pending.push(record);
        if (pending.length >= rowsPerStatement) await flush();
      }
      await flush();
    } catch (err) {
      throw inFile(batch.files[inserted.length]!.key, err);
    } finally {
      csv.destroy();
    }
    inserted.push(rows);
  }
  return inserted;
}
