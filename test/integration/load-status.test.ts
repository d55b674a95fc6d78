import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { runLoad } from '../../core/loader/load-run.js';
import { loadStatus } from '../../core/loader/load-status.js';
import { datesBetween, lookbackDates } from '../../core/loader/load-window.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureJson } from '../support/fixtures.js';
import { embeddedTestWarehouse } from '../support/embedded-warehouse.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

const now = new Date('2026-11-23T12:00:00Z');

async function putParsed(store: FsBlobStore, key: string, session: string, claimedRows?: number): Promise<number> {
  const collection = { ...decodeCollectionJson(fixtureJson('collections/ios-two-events.json')), session };
  const lines = flattenRawRecord({ received_at: '2026-11-23T10:00:00Z', sent_at: null, ip: null, collection }, `raw/${session}`).map(encodeCsvRow);
  await store.put(key, gzipSync(lines.join('')), { ferry_rows: String(claimedRows ?? lines.length) });
  return lines.length;
}

describe('load window dates', () => {
  it('lists the look-back days up to tomorrow, and backfill ranges inclusively', () => {
    expect(lookbackDates(now, 2)).toEqual(['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24']);
    expect(datesBetween('2026-02-27', '2026-03-01')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    expect(() => datesBetween('2026-03-01', '2026-02-27')).toThrow('--to 2026-02-27 is before --from 2026-03-01');
    expect(() => datesBetween('yesterday', '2026-02-27')).toThrow(RangeError);
  });
});

const warehouses: [string, () => Promise<{ warehouse: Warehouse; schema: string; cleanup: () => Promise<void> }>][] = [
  ['PostgreSQL', async () => {
    const schema = uniqueSchema('status');
    const warehouse = new PgWarehouse(testDatabaseUrl());
    return { warehouse, schema, cleanup: async () => { await warehouse.close(); await dropSchema(schema); } };
  }],
  ['the embedded warehouse', async () => {
    const { warehouse, cleanup } = await embeddedTestWarehouse();
    return { warehouse, schema: 'ferry', cleanup };
  }],
];

describe.each(warehouses)('look-back window, status report and backfill on %s', (_name, open) => {
  let dir: string;
  let store: FsBlobStore;
  let warehouse: Warehouse;
  let schema: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-status-'));
    store = new FsBlobStore(dir);
    ({ warehouse, schema, cleanup } = await open());
  });
  afterAll(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads only the window, reports what is left and why, and a backfill loads the rest once', async () => {
    const status = () => loadStatus({ store, warehouse, schema, tables: [eventTable], now: new Date(Date.now() + 3_600_000), olderThanS: 60 });
    const run = (runId: string, dates?: string[]) => runLoad({ store, warehouse, schema, logger: silentLogger, tables: [eventTable], runId, ...(dates ? { dates } : {}) });

    // Before any load the schema does not exist: the report says so instead of failing.
    expect((await status()).tables[0]).toMatchObject({ table: 'events', files: 0, last_loaded_at: null, latest_failure: null });

    const good = await putParsed(store, 'parsed/events/2026-11-23/good.csv.gz', 's-good');
    await putParsed(store, 'parsed/events/2026-11-22/bad.csv.gz', 's-bad', 7);
    const late = await putParsed(store, 'parsed/events/2026-11-01/late.csv.gz', 's-late');
    const window = lookbackDates(now, 7);

    const first = await run('window-1', window);
    // The file whose count disagrees is quarantined; the good one loads in the same run.
    expect(first.tables[0]).toMatchObject({ files: 1, rowsInserted: good, quarantined: [{ key: 'parsed/events/2026-11-22/bad.csv.gz', sqlstate: null }] });
    let report = await status();
    expect(report.unloaded.map((u) => u.key)).toEqual(['parsed/events/2026-11-01/late.csv.gz']);
    expect(report.quarantined).toEqual([
      {
        table: 'events', key: 'parsed/events/2026-11-22/bad.csv.gz', etag: expect.any(String), code: 'load_failed', sqlstate: null, run_id: 'window-1',
        message: expect.stringContaining('row count mismatch in parsed/events/2026-11-22/bad.csv.gz'), quarantined_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      },
    ]);
    expect(report.tables[0]!.latest_failure).toBeNull();

    // The bad file is re-parsed correctly (new bytes: a new version); the next timed run loads it, not the late file.
    const fixed = await putParsed(store, 'parsed/events/2026-11-22/bad.csv.gz', 's-bad-fixed');
    expect((await run('window-2', window)).tables[0]).toMatchObject({ files: 1, rowsInserted: fixed });
    report = await status();
    expect(report.unloaded.map((u) => u.key)).toEqual(['parsed/events/2026-11-01/late.csv.gz']);
    expect(report.quarantined).toEqual([]);

    // Backfill of the late partition, twice: loaded once.
    expect((await run('backfill-1', datesBetween('2026-11-01', '2026-11-01'))).tables[0]).toMatchObject({ files: 1, rowsInserted: late });
    expect((await run('backfill-2', datesBetween('2026-10-31', '2026-11-02'))).tables[0]).toMatchObject({ files: 0 });
    report = await status();
    expect(report.unloaded).toEqual([]);
    expect(report.tables[0]).toMatchObject({
      table: 'events', files: 3, rows: good + fixed + late,
      days: [
        { date: '2026-11-23', files: 1, rows: good },
        { date: '2026-11-22', files: 1, rows: fixed },
        { date: '2026-11-01', files: 1, rows: late },
      ],
    });
    expect(report.tables[0]!.last_loaded_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });
});
