import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { LoadError } from '../../core/errors.js';
import { copyBatchFromClient, copyRecordsFromClient } from '../../core/loader/client-copy.js';
import type { BatchInput, DueFile } from '../../core/loader/load-dialect.js';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import type { TableDefinition } from '../../core/model/table-definition.js';
import type { CopyTarget, WarehouseTransaction } from '../../core/ports/warehouse.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

const table: TableDefinition = { name: 'copied', columns: [{ name: 'n', type: 'bigint', required: true }, { name: 'label', type: 'text' }], key: ['n'] };

describe('one bulk load for a batch of files (PostgreSQL)', () => {
  const schema = uniqueSchema('copy_batch');
  let warehouse: PgWarehouse;
  const target: CopyTarget = { table: `"${schema}"."copied"`, columns: [{ name: 'n', quoted: '"n"', type: 'bigint', required: true }, { name: 'label', quoted: '"label"', type: 'text', required: false }] };
  beforeAll(async () => {
    warehouse = new PgWarehouse(testDatabaseUrl());
    await warehouse.query(`CREATE SCHEMA "${schema}"`);
    await warehouse.query(`CREATE TABLE ${target.table} (n bigint NOT NULL, label text)`);
  });
  afterAll(async () => {
    await warehouse.close();
    await dropSchema(schema);
  });

  /** Files of CSV text by key, copied (only the records `keep` accepts by their label) in one transaction that is rolled back. */
  const copy = (files: Record<string, string>, opened: string[] = [], keep?: (label: string | null) => boolean) =>
    warehouse.transaction(async (tx: WarehouseTransaction) => {
      const due: DueFile[] = Object.entries(files).map(([key, csv]) => ({ key, etag: 'e', expectedRows: csv.split('\n').length - 1 }));
      const batch: BatchInput = {
        tx,
        table,
        files: due,
        open: async (key) => {
          opened.push(key);
          // In small pieces, so a file's rows cross chunk boundaries.
          return Readable.from(files[key]!.match(/[^]{1,7}/g) ?? [], { objectMode: false });
        },
        storedCsv: true,
        store: new MemoryBlobStore(),
        runId: 'r',
        batchId: 'b',
      };
      const total = keep ? await copyRecordsFromClient(batch, target, 1, keep) : await copyBatchFromClient(batch, target);
      const [row] = await tx.query<{ n: string; sum: string }>(`SELECT count(*) AS n, sum(n) AS sum FROM ${target.table}`);
      const labels = await tx.query<{ label: string | null }>(`SELECT label FROM ${target.table} ORDER BY n`);
      await tx.query(`DELETE FROM ${target.table}`);
      return { total, rows: Number(row!.n), sum: Number(row!.sum), labels: labels.map((l) => l.label) };
    });

  it('loads every file of the batch, in order, and answers the rows copied', async () => {
    const opened: string[] = [];
    const result = await copy({ a: '1,one\n2,"two, with a comma"\n', b: '3,\n', c: '4,"multi\nline"\n5,five\n' }, opened);
    expect(result).toMatchObject({ total: 5, rows: 5, sum: 15 });
    expect(opened).toEqual(['a', 'b', 'c']);
  });

  it('names the file holding the row the warehouse refused, from the line its error gives', async () => {
    const err = await copy({ a: '1,one\n2,two\n', b: '3,three\nnot-a-number,four\n', c: '5,five\n' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).context.key).toBe('b');
    expect((err as LoadError).message).toMatch(/^b: .*bigint/);
  });

  it('copies only the records whose column the filter keeps, quoted fields and records cut across chunks included', async () => {
    const files = { a: '1,keep\n2,"drop, this"\n3,"keep"\n', b: '4,\n5,drop\n', c: '6,"ke""ep\nit"\n7,keep\n8,"drop\nme"\n9,keep\n' };
    const result = await copy(files, [], (label) => label === null || label.startsWith('ke'));
    expect(result).toEqual({ total: 6, rows: 6, sum: 1 + 3 + 4 + 6 + 7 + 9, labels: ['keep', 'keep', null, 'ke"ep\nit', 'keep', 'keep'] });
  });
});
