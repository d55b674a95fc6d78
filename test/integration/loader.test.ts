import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { runLoad, type LoadOptions } from '../../core/loader/load-run.js';
import { loadStatus } from '../../core/loader/load-status.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureJson } from '../support/fixtures.js';
import { embeddedTestWarehouse } from '../support/embedded-warehouse.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

const parametersColumn = eventTable.columns.findIndex((c) => c.name === 'parameters');
const atColumn = eventTable.columns.findIndex((c) => c.name === 'at');

/** Writes a parsed events file whose one row `spoil` changes into something no warehouse here can store. */
async function putCrafted(store: FsBlobStore, key: string, session: string, spoil: (row: (string | null)[]) => void) {
  const collection = { ...decodeCollectionJson(fixtureJson('collections/web-quoted-values.json')), session };
  const rows = flattenRawRecord({ received_at: '2026-11-26T00:00:00Z', sent_at: null, ip: null, collection }, `raw/${session}`);
  spoil(rows[0]!);
  await store.put(key, gzipSync(rows.map(encodeCsvRow).join('')), { ferry_rows: String(rows.length) });
}

/** Writes a parsed events file made from a fixture, with `rows` metadata (default: the true count). */
async function putParsed(store: FsBlobStore, key: string, fixture: string, receivedAt: string, rows?: number, session?: string) {
  const decoded = decodeCollectionJson(fixtureJson(`collections/${fixture}.json`));
  const collection = session === undefined ? decoded : { ...decoded, session };
  const lines = flattenRawRecord({ received_at: receivedAt, sent_at: null, ip: '198.51.100.1', collection }, `raw/${fixture}`).map(encodeCsvRow);
  await store.put(key, gzipSync(lines.join('')), { ferry_rows: String(rows ?? lines.length) });
  return lines.length;
}

const warehouses: [string, () => Promise<{ warehouse: Warehouse; schema: string; cleanup: () => Promise<void> }>][] = [
  ['PostgreSQL', async () => {
    const schema = uniqueSchema('load');
    const warehouse = new PgWarehouse(testDatabaseUrl());
    return { warehouse, schema, cleanup: async () => { await warehouse.close(); await dropSchema(schema); } };
  }],
  ['the embedded warehouse', async () => {
    const { warehouse, cleanup } = await embeddedTestWarehouse();
    return { warehouse, schema: 'ferry', cleanup };
  }],
];

describe.each(warehouses)('load run on %s', (_name, open) => {
  let dir: string;
  let store: FsBlobStore;
  let warehouse: Warehouse;
  let schema: string;
  let cleanup: () => Promise<void>;
  let runs = 0;
  const options = (): LoadOptions => ({ store, warehouse, schema, logger: silentLogger, tables: [eventTable], runId: `run-${++runs}` });
  const count = async (sql: string) => Number((await warehouse.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${sql}`))[0]!.n);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-load-'));
    store = new FsBlobStore(dir);
    ({ warehouse, schema, cleanup } = await open());
  });
  afterAll(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a file once however often runs repeat or overlap, with one manifest row per file', async () => {
    const rows = await putParsed(store, 'parsed/events/2026-11-23/a.csv.gz', 'ios-two-events', '2026-11-23T10:00:00Z');
    const results = await Promise.all([runLoad(options()), runLoad(options()), runLoad(options())]);
    const loadedFiles = results.map((r) => r.tables[0]!.files).reduce((a, b) => a + b, 0);
    expect(loadedFiles).toBe(1);
    expect(await runLoad(options())).toMatchObject({ tables: [{ table: 'events', files: 0 }, { table: 'source_counts', files: 0 }] });
    expect(await count(`"${schema}".events`)).toBe(rows);
    expect(await count(`"${schema}".load_manifest`)).toBe(1);
    const [manifest] = await warehouse.query(`SELECT file_key, table_name, rows_expected::text, rows_loaded::text FROM "${schema}".load_manifest`);
    expect(manifest).toEqual({ file_key: 'parsed/events/2026-11-23/a.csv.gz', table_name: 'events', rows_expected: String(rows), rows_loaded: String(rows) });
  });

  it('stores a client re-send once, keeping the earliest receipt', async () => {
    await putParsed(store, 'parsed/events/2026-11-23/b1.csv.gz', 'web-quoted-values', '2026-11-23T09:00:00Z');
    await putParsed(store, 'parsed/events/2026-11-23/b2.csv.gz', 'web-quoted-values', '2026-11-23T08:00:00Z');
    const result = await runLoad(options());
    expect(result.tables[0]).toMatchObject({ files: 2, rowsCopied: 2, rowsInserted: 1 });
    const rows = await warehouse.query(`SELECT received_at, parameters FROM "${schema}".events WHERE event = 'List.Share'`);
    expect(rows).toEqual([{ received_at: '2026-11-23 08:00:00', parameters: { note: 'He said "hi", then\nleft; ünïcødé ✓', empty: '' } }]);
  });

  it('loads a later batch holding an already-stored event beside new ones: the new rows only', async () => {
    const before = await count(`"${schema}".events`);
    await putParsed(store, 'parsed/events/2026-11-23/b3.csv.gz', 'web-quoted-values', '2026-11-23T07:00:00Z');
    const fresh = await putParsed(store, 'parsed/events/2026-11-23/b4.csv.gz', 'ios-two-events', '2026-11-23T10:00:00Z', undefined, 'a-session-not-yet-stored');
    const result = await runLoad(options());
    // The fast path (COPY into the target) hits the stored key, so the batch goes through staging.
    expect(result.tables[0]).toMatchObject({ files: 2, rowsCopied: 1 + fresh, rowsInserted: fresh });
    expect(await count(`"${schema}".events`)).toBe(before + fresh);
    const rows = await warehouse.query(`SELECT received_at FROM "${schema}".events WHERE event = 'List.Share'`);
    expect(rows).toEqual([{ received_at: '2026-11-23 08:00:00' }]);
  });

  it('quarantines a file whose row count disagrees with the parser and loads the rest of its batch', async () => {
    const before = await count(`"${schema}".events`);
    const good = await putParsed(store, 'parsed/events/2026-11-24/c-good.csv.gz', 'android-env-number', '2026-11-24T00:00:00Z');
    await putParsed(store, 'parsed/events/2026-11-24/c-bad.csv.gz', 'android-env-number', '2026-11-24T00:00:00Z', 5, 'another-session');
    const result = await runLoad(options());
    expect(result.tables[0]).toMatchObject({ files: 1, rowsInserted: good, quarantined: [{ key: 'parsed/events/2026-11-24/c-bad.csv.gz', sqlstate: null, code: 'load_failed' }] });
    expect(result.tables[0]!.error).toBeUndefined();
    expect(result.tables[0]!.quarantined![0]!.message).toMatch(/row count mismatch in parsed\/events\/2026-11-24\/c-bad\.csv\.gz: parser wrote 5, warehouse loaded 2/);
    expect(await count(`"${schema}".events`)).toBe(before + good);
    expect(await count(`"${schema}".load_manifest WHERE file_key = 'parsed/events/2026-11-24/c-bad.csv.gz'`)).toBe(0);
    // Its metadata fixed (the bytes, so the ETag, unchanged), a run retrying the quarantine loads it.
    await putParsed(store, 'parsed/events/2026-11-24/c-bad.csv.gz', 'android-env-number', '2026-11-24T00:00:00Z', undefined, 'another-session');
    expect((await runLoad(options())).tables[0]).toMatchObject({ files: 0 });
    expect((await runLoad({ ...options(), retryQuarantined: true })).tables[0]).toMatchObject({ files: 1, rowsInserted: 2 });
    expect(await count(`"${schema}".load_quarantine`)).toBe(0);
  });

  it('quarantines a parsed file whose gzip is damaged, naming it, and loads the rest of its batch', async () => {
    const before = await count(`"${schema}".events`);
    const good = await putParsed(store, 'parsed/events/2026-11-25/d-good.csv.gz', 'android-env-number', '2026-11-25T00:00:00Z', undefined, 'gzip-good-session');
    const rows = await putParsed(store, 'parsed/events/2026-11-25/d-torn.csv.gz', 'ios-two-events', '2026-11-25T00:00:00Z', undefined, 'gzip-torn-session');
    const whole = await readFile(join(dir, 'parsed/events/2026-11-25/d-torn.csv.gz'));
    await store.put('parsed/events/2026-11-25/d-torn.csv.gz', whole.subarray(0, whole.length - 12), { ferry_rows: String(rows) });
    const result = await runLoad(options());
    expect(result.tables[0]).toMatchObject({ files: 1, rowsInserted: good, quarantined: [{ key: 'parsed/events/2026-11-25/d-torn.csv.gz', sqlstate: null }] });
    expect(result.tables[0]!.quarantined![0]!.message).toMatch(/^parsed\/events\/2026-11-25\/d-torn\.csv\.gz: /);
    expect(await count(`"${schema}".events`)).toBe(before + good);
    // Gone from the store, it leaves the quarantine.
    await store.delete('parsed/events/2026-11-25/d-torn.csv.gz');
    await runLoad({ ...options(), retryQuarantined: true });
    expect(await count(`"${schema}".load_quarantine`)).toBe(0);
  });

  it('isolates files the warehouse refuses (NUL in JSON, a malformed time): the others load in the same run, the refused ones are quarantined with their SQLSTATE and skipped by later runs until retried', async () => {
    const day = 'parsed/events/2026-11-26';
    const good = [
      await putParsed(store, `${day}/r1-good.csv.gz`, 'ios-two-events', '2026-11-26T00:00:00Z', undefined, 'r-1'),
      await putParsed(store, `${day}/r3-good.csv.gz`, 'ios-two-events', '2026-11-26T00:00:00Z', undefined, 'r-3'),
      await putParsed(store, `${day}/r5-good.csv.gz`, 'ios-two-events', '2026-11-26T00:00:00Z', undefined, 'r-5'),
    ].reduce((a, b) => a + b, 0);
    await putCrafted(store, `${day}/r2-nul.csv.gz`, 'r-2', (row) => (row[parametersColumn] = '{"note":"a\\u0000b"}'));
    await putCrafted(store, `${day}/r4-time.csv.gz`, 'r-4', (row) => (row[atColumn] = '2026-13-45 99:00:00'));
    const before = await count(`"${schema}".events`);
    const tick = () => runLoad({ ...options(), dates: ['2026-11-26'] });

    const first = await tick();
    expect(first.tables[0]).toMatchObject({ table: 'events', files: 3, rowsInserted: good });
    expect(first.tables[0]!.error).toBeUndefined();
    expect(first.tables[0]!.quarantined!.map((q) => [q.key, q.sqlstate])).toEqual([
      [`${day}/r2-nul.csv.gz`, '22P05'],
      [`${day}/r4-time.csv.gz`, expect.stringMatching(/^22(007|008)$/)],
    ]);
    expect(await count(`"${schema}".events`)).toBe(before + good);
    const report = await loadStatus({ store, warehouse, schema, tables: [eventTable], now: new Date(Date.now() + 3_600_000), olderThanS: 60 });
    expect(report.quarantined.map((q) => ({ table: q.table, key: q.key, sqlstate: q.sqlstate }))).toEqual([
      { table: 'events', key: `${day}/r2-nul.csv.gz`, sqlstate: '22P05' },
      { table: 'events', key: `${day}/r4-time.csv.gz`, sqlstate: expect.stringMatching(/^22/) },
    ]);
    expect(report.quarantined[0]!.message).toMatch(/r2-nul\.csv\.gz: .*unicode/i);
    expect(report.unloaded.filter((u) => u.key.startsWith(day))).toEqual([]);

    // Later runs do not try them again: nothing loads, nothing is re-quarantined.
    const quarantinedRuns = async () => (await warehouse.query<{ run_id: string }>(`SELECT run_id FROM "${schema}".load_quarantine ORDER BY file_key`)).map((r) => r.run_id);
    const runsBefore = await quarantinedRuns();
    const second = await tick();
    expect(second.tables[0]).toMatchObject({ files: 0 });
    expect(second.tables[0]!.quarantined).toBeUndefined();
    expect(await quarantinedRuns()).toEqual(runsBefore);

    // Retried unchanged: still refused, with this run's id.
    const retried = await runLoad({ ...options(), runId: 'retry-unfixed', retryQuarantined: true });
    expect(retried.tables[0]!.quarantined!.map((q) => q.key)).toEqual([`${day}/r2-nul.csv.gz`, `${day}/r4-time.csv.gz`]);
    expect(await quarantinedRuns()).toEqual(['retry-unfixed', 'retry-unfixed']);

    // Re-written correctly: --retry-quarantined loads it and takes it out of quarantine.
    const fixed = await putParsed(store, `${day}/r2-nul.csv.gz`, 'ios-two-events', '2026-11-26T00:00:00Z', undefined, 'r-2');
    const third = await runLoad({ ...options(), retryQuarantined: true });
    expect(third.tables[0]).toMatchObject({ files: 1, rowsInserted: fixed, quarantined: [{ key: `${day}/r4-time.csv.gz` }] });
    expect(await count(`"${schema}".events`)).toBe(before + good + fixed);
    expect((await loadStatus({ store, warehouse, schema, tables: [eventTable], now: new Date(), olderThanS: 60 })).quarantined.map((q) => q.key)).toEqual([`${day}/r4-time.csv.gz`]);
  });
});

describe('load run on PostgreSQL when the connection dies mid-COPY', () => {
  const schema = uniqueSchema('kill');
  let dir: string;
  afterAll(async () => {
    await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves nothing of the batch visible, and the next run loads it completely', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-kill-'));
    const store = new FsBlobStore(dir);
    // A big file so the COPY is still running when the backend is terminated.
    const collection = decodeCollectionJson(fixtureJson('collections/ios-two-events.json'));
    const many = { ...collection, payloads: Array.from({ length: 120_000 }, (_, i) => ({ ...collection.payloads[0]!, nr: i })) };
    const lines = flattenRawRecord({ received_at: '2026-11-25T00:00:00Z', sent_at: null, ip: null, collection: many }, 'raw/big').map(encodeCsvRow);
    await store.put('parsed/events/2026-11-25/big.csv.gz', gzipSync(lines.join('')), { ferry_rows: String(lines.length) });

    // Events load through a staging table; the application name finds this test's COPY among other tests' backends.
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('application_name', `ferry-${schema}`);
    const warehouse = new PgWarehouse(url.toString());
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    const killer = (async () => {
      for (let i = 0; i < 400; i++) {
        const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'ferry-${schema}' AND query LIKE 'COPY %' AND pid <> pg_backend_pid()`);
        if (rows.length > 0) {
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
          return true;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      return false;
    })();
    const first = await runLoad({ store, warehouse, schema, logger: silentLogger, tables: [eventTable], runId: 'killed' });
    expect(await killer).toBe(true);
    expect(first.tables[0]!.error?.keys).toEqual(['parsed/events/2026-11-25/big.csv.gz']);
    const visible = await admin.query(`SELECT (SELECT count(*) FROM "${schema}".events)::int AS rows, (SELECT count(*) FROM "${schema}".load_manifest)::int AS files`);
    expect(visible.rows[0]).toEqual({ rows: 0, files: 0 });

    const second = await runLoad({ store, warehouse, schema, logger: silentLogger, tables: [eventTable], runId: 'retry' });
    expect(second.tables[0]).toMatchObject({ files: 1, rowsCopied: lines.length, rowsInserted: lines.length });
    await admin.end();
    await warehouse.close();
  });
});
