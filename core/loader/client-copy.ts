import { Readable } from 'node:stream';
import { LoadError } from '../errors.js';
import type { CopyTarget } from '../ports/warehouse.js';
import { CsvColumns } from './csv-columns.js';
import { readCsvRecords, type CsvRecord } from './csv-rows.js';
import { errorChain, type BatchInput, type DueFile } from './load-dialect.js';

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
 * Streams the files of the batch one after the other through one bulk load into `target`, each
 * chunk shown to `tap` on its way; returns the rows copied. For a batch of small files (a
 * collector batch's rows, a summary's one row): a bulk load per file cost a statement and its
 * round trip each, more than the rows.
 * Only the batch's total is known, so a count that does not match is the batch's; a row the
 * warehouse refuses names its file from the line number the error gives and the files' row counts.
 */
export async function copyBatchFromClient(batch: BatchInput, target: CopyTarget, tap?: (chunk: Buffer | string) => void): Promise<number> {
  if (batch.files.length === 1 && !tap) return (await copyFilesFromClient(batch, target))[0]!;
  const csv = Readable.from(concatenated(batch, tap), { objectMode: false });
  try {
    return await batch.tx.copyCsv(target, csv);
  } catch (err) {
    const culprit = err instanceof LoadError ? undefined : fileAtLine(batch.files, err);
    throw culprit ? inFile(culprit.key, err) : err;
  } finally {
    csv.destroy();
  }
}

/** Reads the batch's files through, each chunk shown to `tap`, copying nothing. */
export async function readBatch(batch: BatchInput, tap: (chunk: Buffer | string) => void): Promise<void> {
  for await (const _ of concatenated(batch, tap));
}

/**
 * Like `copyBatchFromClient`, of only the records whose column `column` `keep` accepts (its
 * text, `null` for an unquoted empty field); returns the rows copied.
 */
export async function copyRecordsFromClient(batch: BatchInput, target: CopyTarget, column: number, keep: (value: string | null) => boolean): Promise<number> {
  const csv = Readable.from(kept(concatenated(batch), column, keep), { objectMode: false });
  try {
    return await batch.tx.copyCsv(target, csv);
  } finally {
    csv.destroy();
  }
}

/**
 * The records of `chunks` that `keep` accepts, as views of the chunks (adjacent records one
 * view); neither a chunk nor the buffer a record cut across two is written to afterwards.
 */
async function* kept(chunks: AsyncIterable<Buffer>, column: number, keep: (value: string | null) => boolean): AsyncGenerator<Buffer> {
  let views: Buffer[] = [];
  let last: { source: Buffer; start: number; end: number } | undefined;
  const records = new CsvColumns([column], (picked, source, start, end) => {
    if (!keep(picked[0]!)) return;
    if (last?.source === source && last.end === start) last.end = end;
    else {
      if (last) views.push(last.source.subarray(last.start, last.end));
      last = { source, start, end };
    }
  });
  for await (const chunk of chunks) {
    records.push(chunk);
    if (last) views.push(last.source.subarray(last.start, last.end));
    last = undefined;
    yield* views;
    views = [];
  }
  if (!records.complete) throw new LoadError('the batch ends inside a CSV record', { fault: 'file' });
}

/**
 * The batch's files as one CSV stream, each chunk shown to `tap` first; a file's read error names
 * the file, as one load per file would.
 */
async function* concatenated(batch: BatchInput, tap?: (chunk: Buffer | string) => void): AsyncGenerator<Buffer> {
  for (const file of batch.files) {
    const csv = await batch.open(file.key);
    try {
      for await (const chunk of csv as AsyncIterable<Buffer>) {
        tap?.(chunk);
        yield chunk;
      }
    } catch (err) {
      throw inFile(file.key, err);
    } finally {
      csv.destroy();
    }
  }
}

/** The file holding the line a COPY error names (PostgreSQL's `where`: "COPY t, line 7, column …"). */
function fileAtLine(files: readonly DueFile[], err: unknown): DueFile | undefined {
  for (const e of errorChain(err)) {
    const where = (e as { where?: unknown }).where;
    const match = typeof where === 'string' ? /\bline (\d+)/.exec(where) : null;
    if (!match) continue;
    let line = Number(match[1]);
    for (const file of files) {
      if (line <= file.expectedRows) return file;
      line -= file.expectedRows;
    }
  }
  return undefined;
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
