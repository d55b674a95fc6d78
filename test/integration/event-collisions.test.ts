import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { sessionId } from '../../core/collector/session.js';
import { runLoad } from '../../core/loader/load-run.js';
import type { Collection, Payload } from '../../core/model/collection.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { rawObjectKey, type RawRecord } from '../../core/model/raw-record.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import { parseBatch } from '../../core/parser/parse-batch.js';
import { parseObject } from '../../core/parser/parse-object.js';
import type { BlobInfo } from '../../core/ports/blob-store.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureJson } from '../support/fixtures.js';
import { embeddedTestWarehouse } from '../support/embedded-warehouse.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { collect, readObject } from '../support/streams.js';

const base = decodeCollectionJson(fixtureJson('collections/ios-two-events.json'));
const [create, complete] = base.payloads as [Payload, Payload];

/** A collection of `base`'s device and session holding `payloads`. */
function collectionOf(payloads: Payload[], device = base.device_id): Collection {
  const c = { ...base, device_id: device, payloads };
  return { ...c, session: sessionId({ ...c, env: 0 }) };
}

/** Stores a raw object as the collector writes it. */
async function putRaw(store: MemoryBlobStore, receivedAt: string, collection: Collection, id: string): Promise<BlobInfo> {
  const record: RawRecord = { received_at: receivedAt, sent_at: null, ip: '203.0.113.9', collection };
  return store.put(rawObjectKey(new Date(receivedAt), id), gzipSync(`${JSON.stringify(record)}\n`));
}

const warehouses: [string, () => Promise<{ warehouse: Warehouse; schema: string; cleanup: () => Promise<void> }>][] = [
  ['PostgreSQL', async () => {
    const schema = uniqueSchema('collide');
    const warehouse = new PgWarehouse(testDatabaseUrl());
    return { warehouse, schema, cleanup: async () => { await warehouse.close(); await dropSchema(schema); } };
  }],
  ['the embedded warehouse', async () => {
    const { warehouse, cleanup } = await embeddedTestWarehouse();
    return { warehouse, schema: 'ferry', cleanup };
  }],
];

describe.each(warehouses)('event keys on %s', (_name, open) => {
  let warehouse: Warehouse;
  let schema: string;
  let cleanup: () => Promise<void>;
  let runs = 0;
  beforeAll(async () => {
    ({ warehouse, schema, cleanup } = await open());
  });
  afterAll(() => cleanup());
  const load = (store: MemoryBlobStore) => runLoad({ store, warehouse, schema, logger: silentLogger, tables: [eventTable], runId: `run-${++runs}` });
  const one = async <R>(sql: string) => (await warehouse.query<R & Record<string, unknown>>(sql))[0]!;

  it('stores an identical re-send once, keeps different payloads sharing (session, nr), and counts those per input in source_counts, once however often it loads', async () => {
    const store = new MemoryBlobStore();
    const session = collectionOf([]).session;
    // A: two events. B (a batch with C): A's first event re-sent unchanged, another event reusing nr 42, a new one.
    // C: two different events with the same nr in one collection.
    const a = await putRaw(store, '2026-11-27T10:00:00.000Z', collectionOf([create, complete]), '01A');
    const b = await putRaw(store, '2026-11-27T10:05:00.000Z', collectionOf([create, { ...complete, event: 'List.Share', parameters: [] }, { ...create, nr: 43 }]), '01B');
    const c = await putRaw(store, '2026-11-27T10:06:00.000Z', collectionOf([{ ...create, nr: 7 }, { ...create, nr: 7, event: 'Task.Delete' }]), '01C');
    await parseObject({ store, logger: silentLogger }, { key: a.key, etag: a.etag });
    await parseBatch({ store, logger: silentLogger }, [b, c].map((i) => ({ key: i.key, etag: i.etag, size: i.size })));

    const first = await load(store);
    expect(first.tables[0]).toMatchObject({ table: 'events', files: 2, rowsCopied: 7, rowsInserted: 6, collisions: 2 });
    expect(first.tables[1]).toMatchObject({ table: 'source_counts', files: 2, rowsInserted: 3 });
    const rows = await warehouse.query<{ nr: string; event: string; received_at: string }>(`SELECT nr::text AS nr, event, received_at::text FROM "${schema}".events e WHERE session = '${session}' ORDER BY e.nr, event`);
    expect(rows.map((r) => [r.nr, r.event])).toEqual([['7', 'Task.Create'], ['7', 'Task.Delete'], ['41', 'Task.Create'], ['42', 'List.Share'], ['42', 'Task.Complete'], ['43', 'Task.Create']]);
    // The re-send kept the earliest receipt.
    expect(rows.find((r) => r.nr === '41')!.received_at).toBe('2026-11-27 10:00:00');
    const counts = async () =>
      (await warehouse.query<{ source_key: string; collisions: string; replaced: string }>(`SELECT source_key, collisions::text, replaced::text FROM "${schema}".source_counts ORDER BY source_key`)).map((r) => [r.source_key, r.collisions, r.replaced]);
    expect(await counts()).toEqual([[a.key, '0', '0'], [b.key, '1', '0'], [c.key, '1', '0']]);
    expect(await one<{ merged: string }>(`SELECT (count(*) - count(DISTINCT (session, nr)))::text AS merged FROM "${schema}".events`)).toEqual({ merged: '2' });

    // Loaded again (nothing new), then the whole of A re-sent as a new raw object: no rows, no collisions.
    expect((await load(store)).tables.map((t) => t.files)).toEqual([0, 0]);
    const again = await putRaw(store, '2026-11-27T10:09:00.000Z', collectionOf([create, complete]), '01D');
    await parseObject({ store, logger: silentLogger }, { key: again.key, etag: again.etag });
    expect((await load(store)).tables[0]).toMatchObject({ files: 1, rowsCopied: 2, rowsInserted: 0 });
    expect(await counts()).toEqual([[a.key, '0', '0'], [b.key, '1', '0'], [c.key, '1', '0'], [again.key, '0', '0']]);
    expect(await one<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}".events`)).toEqual({ n: '6' });
  });

  it('counts the collisions of an event file loaded after its summary (released from quarantine) into that summary\'s row', async () => {
    const store = new MemoryBlobStore();
    const device = 'device-quarantined';
    const x = await putRaw(store, '2026-11-28T10:00:00.000Z', collectionOf([{ ...create, nr: 50 }], device), '01X');
    const y = await putRaw(store, '2026-11-28T10:01:00.000Z', collectionOf([{ ...create, nr: 50, event: 'Task.Other' }], device), '01Y');
    for (const i of [x, y]) await parseObject({ store, logger: silentLogger }, { key: i.key, etag: i.etag });
    // Y's events file claims a wrong row count: it is quarantined, and its summary loads without waiting for it.
    const [yFile] = (await collect(store.list('parsed/events/2026-11-28/'))).filter((f) => f.key.includes('01Y'));
    const bytes = await readObject(store, yFile!.key);
    await store.put(yFile!.key, bytes, { ...yFile!.metadata, ferry_rows: '9' });
    const first = await load(store);
    expect(first.tables[0]).toMatchObject({ files: 1, quarantined: [{ key: yFile!.key }] });
    const collisionsOf = async (key: string) => (await one<{ c: string }>(`SELECT collisions::text AS c FROM "${schema}".source_counts WHERE source_key = '${key}'`)).c;
    expect([await collisionsOf(x.key), await collisionsOf(y.key)]).toEqual(['0', '0']);

    await store.put(yFile!.key, bytes, { ...yFile!.metadata });
    const retried = await runLoad({ store, warehouse, schema, logger: silentLogger, tables: [eventTable], runId: 'retry', retryQuarantined: true });
    expect(retried.tables[0]).toMatchObject({ files: 1, rowsInserted: 1, collisions: 1 });
    expect([await collisionsOf(x.key), await collisionsOf(y.key)]).toEqual(['0', '1']);
  });

  it('migrates an events table loaded before fingerprints in place: existing rows get their fingerprint, the key becomes (session, nr, fingerprint), a later re-send is stored once and a colliding event is kept', async () => {
    // The schema as the loader created it before: events keyed (session, nr), source_counts by summary_key.
    const old = `${schema}_old`;
    await warehouse.query(`CREATE SCHEMA "${old}"`);
    for (const ddl of [
      `CREATE TABLE "${old}"."load_manifest" (file_key text PRIMARY KEY, etag text NOT NULL, table_name text NOT NULL, rows_expected bigint NOT NULL, rows_loaded bigint NOT NULL, run_id text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE "${old}"."load_failures" (run_id text NOT NULL, table_name text NOT NULL, code text NOT NULL, message text NOT NULL, file_keys text[] NOT NULL, failed_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE "${old}"."events" (
  "device_id" text NOT NULL, "client_id" text NOT NULL, "session" text NOT NULL, "nr" bigint NOT NULL, "env" text NOT NULL, "system_version" text NOT NULL,
  "product_version" text NOT NULL, "at" timestamp NOT NULL, "timezone" text, "event" text NOT NULL, "device_make" text, "device_model" text, "system" text,
  "system_language" text, "browser" text, "browser_version" text, "product_git_hash" text, "product_language" text, "user_id" text, "tenant_id" text,
  "ip" text, "country" text, "parameters" jsonb NOT NULL, "received_at" timestamp NOT NULL, "sent_at" timestamp, "clock_skew_s" bigint,
  "at_corrected" timestamp NOT NULL, "source_key" text NOT NULL,
  PRIMARY KEY ("session", "nr")
)`,
      `CREATE TABLE "${old}"."source_counts" (
  "summary_key" text NOT NULL, "source" text NOT NULL, "source_key" text NOT NULL, "source_etag" text NOT NULL, "date" text NOT NULL, "lines" bigint NOT NULL,
  "accepted" bigint NOT NULL, "ignored" bigint NOT NULL, "rejected" bigint NOT NULL, "ignored_by" jsonb NOT NULL, "rows" jsonb NOT NULL,
  PRIMARY KEY ("summary_key")
)`,
    ]) await warehouse.query(ddl);
    // Rows as that loader stored them: the parser's 28 columns, one row per (session, nr).
    const loaded = collectionOf([create, complete, { ...create, nr: 44, parameters: [{ name: 'quote', value: 'say "hi"\n' }, { name: 'ünï', value: '✓ 𝄞' }] }], 'device-migrated');
    const oldRows = flattenRawRecord({ received_at: '2026-11-20T08:00:00.000Z', sent_at: null, ip: '198.51.100.7', collection: loaded }, 'raw/events/2026/11/20/08/01OLD.ndjson.gz').map((r) => r.slice(0, 28));
    const columns = eventTable.columns.slice(0, 28).map((c) => `"${c.name}"`).join(', ');
    for (const row of oldRows) await warehouse.query(`INSERT INTO "${old}".events (${columns}) VALUES (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row);
    await warehouse.query(`INSERT INTO "${old}".source_counts VALUES ('summaries/2026-11-20/01OLD.json', 'events', 'raw/events/2026/11/20/08/01OLD.ndjson.gz', 'e-old', '2026-11-20', 1, 1, 0, 0, '{}', '{"events": 3}')`);

    // The same three events re-sent later, and one more that reuses nr 41 with other content.
    const store = new MemoryBlobStore();
    const resent = await putRaw(store, '2026-11-27T11:00:00.000Z', loaded, '01RESENT');
    const other = await putRaw(store, '2026-11-27T11:01:00.000Z', collectionOf([{ ...create, event: 'Task.Move' }], 'device-migrated'), '01OTHER');
    for (const i of [resent, other]) await parseObject({ store, logger: silentLogger }, { key: i.key, etag: i.etag });
    // And a file the parser wrote before the upgrade (28 columns), not loaded yet.
    const pending = collectionOf([{ ...create, nr: 45 }], 'device-migrated');
    const pendingRows = flattenRawRecord({ received_at: '2026-11-20T09:00:00.000Z', sent_at: null, ip: null, collection: pending }, 'raw/events/2026/11/20/09/01PENDING.ndjson.gz');
    await store.put('parsed/events/2026-11-20/01PENDING-0123456789abcdef.csv.gz', gzipSync(pendingRows.map((r) => encodeCsvRow(r.slice(0, 28))).join('')), { ferry_rows: '1' });
    const result = await runLoad({ store, warehouse, schema: old, logger: silentLogger, tables: [eventTable], runId: 'after-upgrade' });
    expect(result.tables[0]).toMatchObject({ files: 3, rowsCopied: 5, rowsInserted: 2, collisions: 1 });
    expect(result.tables[0]!.quarantined).toBeUndefined();

    const key = await warehouse.query<{ column_name: string }>(
      `SELECT a.attname AS column_name FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
WHERE c.conrelid = '"${old}".events'::regclass AND c.contype = 'p' ORDER BY k.o`,
    );
    expect(key.map((k) => k.column_name)).toEqual(['session', 'nr', 'fingerprint']);
    // Each migrated row's fingerprint is the one its payload gets at parse time.
    const fresh = flattenRawRecord({ received_at: '2026-11-27T11:00:00.000Z', sent_at: null, ip: null, collection: loaded }, 'x');
    const stored = await warehouse.query<{ nr: string; fingerprint: string; received_at: string }>(`SELECT nr::text, fingerprint, received_at::text FROM "${old}".events WHERE session = '${loaded.session}' ORDER BY nr, event`);
    expect(stored.filter((s) => s.received_at === '2026-11-20 08:00:00').map((s) => [s.nr, s.fingerprint])).toEqual(fresh.map((r) => [r[3], r[28]]));
    expect(stored.map((s) => s.nr)).toEqual(['41', '41', '42', '44', '45']);
    expect(stored.find((s) => s.nr === '45')!.fingerprint).toBe(pendingRows[0]![28]);
    expect(await warehouse.query(`SELECT source_key, collisions::text, replaced::text FROM "${old}".source_counts ORDER BY source_key`)).toEqual([
      { source_key: 'raw/events/2026/11/20/08/01OLD.ndjson.gz', collisions: null, replaced: null },
      { source_key: other.key, collisions: '1', replaced: '0' },
      { source_key: resent.key, collisions: '0', replaced: '0' },
    ]);
    await warehouse.query(`DROP SCHEMA "${old}" CASCADE`);
  });
});
