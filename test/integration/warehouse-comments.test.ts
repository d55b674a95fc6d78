import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { runLoad } from '../../core/loader/load-run.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { rawObjectKey, type RawRecord } from '../../core/model/raw-record.js';
import { parseObject } from '../../core/parser/parse-object.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureJson } from '../support/fixtures.js';
import { embeddedTestWarehouse } from '../support/embedded-warehouse.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

/** The warehouse with every statement sent through it, in or out of a transaction, recorded. */
function recording(inner: Warehouse, log: string[]): Warehouse {
  return {
    description: inner.description,
    query: (sql, params) => {
      log.push(sql);
      return inner.query(sql, params);
    },
    transaction: (fn) =>
      inner.transaction((tx) =>
        fn({
          query: (sql, params) => (log.push(sql), tx.query(sql, params)),
          execute: (sql, params) => (log.push(sql), tx.execute(sql, params)),
          copyCsv: (target, csv) => tx.copyCsv(target, csv),
        }),
      ),
    close: () => inner.close(),
  };
}

const warehouses: [string, () => Promise<{ warehouse: Warehouse; schema: string; cleanup: () => Promise<void> }>][] = [
  ['PostgreSQL', async () => {
    const schema = uniqueSchema('comments');
    const warehouse = new PgWarehouse(testDatabaseUrl());
    return { warehouse, schema, cleanup: async () => { await warehouse.close(); await dropSchema(schema); } };
  }],
  ['the embedded warehouse', async () => {
    const { warehouse, cleanup } = await embeddedTestWarehouse();
    return { warehouse, schema: 'ferry', cleanup };
  }],
];

describe.each(warehouses)("Ferry's tables described for analysts on %s", (_name, open) => {
  let warehouse: Warehouse;
  let schema: string;
  let cleanup: () => Promise<void>;
  const statements: string[] = [];
  let runs = 0;
  const store = new MemoryBlobStore();
  const load = () => runLoad({ store, warehouse: recording(warehouse, statements), schema, logger: silentLogger, tables: [eventTable], runId: `run-${++runs}` });
  const description = async (sql: string) => (await warehouse.query<{ d: string | null }>(`SELECT ${sql} AS d`))[0]!.d;

  beforeAll(async () => {
    ({ warehouse, schema, cleanup } = await open());
    const record: RawRecord = { received_at: '2026-11-27T10:00:00.000Z', sent_at: null, ip: '203.0.113.9', collection: decodeCollectionJson(fixtureJson('collections/ios-two-events.json')) };
    const raw = await store.put(rawObjectKey(new Date(record.received_at), '01COMMENTS'), gzipSync(`${JSON.stringify(record)}\n`));
    await parseObject({ store, logger: silentLogger }, { key: raw.key, etag: raw.etag });
  });
  afterAll(() => cleanup());

  it('after a load, the events table, its time columns and the bookkeeping tables carry comments, and events has a time index on at_corrected and received_at', async () => {
    const result = await load();
    expect(result.tables[0]).toMatchObject({ table: 'events', rowsInserted: 2 });
    const table = (name: string) => `'"${schema}"."${name}"'::regclass`;
    const column = async (name: string, col: string) =>
      description(`col_description(${table(name)}, (SELECT attnum FROM pg_attribute WHERE attrelid = ${table(name)} AND attname = '${col}'))`);

    expect(await description(`obj_description(${table('events')}, 'pg_class')`)).toMatch(/^One row per collected event/);
    expect(await column('events', 'at')).toMatch(/by the device's clock/);
    expect(await column('events', 'at_corrected')).toMatch(/clock_skew_s/);
    expect(await column('events', 'received_at')).toMatch(/ferry load --from\/--to/);
    expect(await column('events', 'fingerprint')).toMatch(/re-send/);
    expect(await column('source_counts', 'replaced')).toMatch(/U\+FFFD/);
    expect(await column('source_counts', 'date')).toMatch(/date partition/);
    expect(await description(`obj_description(${table('load_manifest')}, 'pg_class')`)).toMatch(/never loaded again/);
    expect(await column('load_quarantine', 'sqlstate')).toMatch(/SQLSTATE/);
    // Every events column is described.
    const undescribed = await warehouse.query<{ attname: string }>(
      `SELECT attname FROM pg_attribute WHERE attrelid = ${table('events')} AND attnum > 0 AND NOT attisdropped AND col_description(attrelid, attnum) IS NULL`,
    );
    expect(undescribed).toEqual([]);

    const indexes = await warehouse.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events' ORDER BY indexname`, [schema]);
    expect(indexes.map((i) => i.indexname)).toEqual(['events_at_corrected_idx', 'events_pkey', 'events_received_at_idx']);
    expect(indexes[0]!.indexdef).toMatch(/USING btree \(at_corrected\)/);
    expect(indexes[2]!.indexdef).toMatch(/USING brin \(received_at\)/);
  });

  it('the next process writes no comment that is already current, and restores one that was changed', async () => {
    statements.length = 0;
    await load();
    expect(statements.filter((s) => s.startsWith('COMMENT ON'))).toEqual([]);

    await warehouse.query(`COMMENT ON COLUMN "${schema}".events.at IS 'edited by hand'`);
    statements.length = 0;
    await load();
    expect(statements.filter((s) => s.startsWith('COMMENT ON'))).toEqual([expect.stringMatching(/^COMMENT ON COLUMN "[a-z0-9_]+"\."events"\."at" IS 'When the event happened/)]);
    expect(await description(`col_description('"${schema}"."events"'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = '"${schema}"."events"'::regclass AND attname = 'at'))`)).toMatch(/^When the event happened/);
  });
});
