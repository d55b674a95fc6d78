import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { PostgresDialect } from '../../core/loader/dialects/postgres.js';
import { runLoad, type LoadOptions } from '../../core/loader/load-run.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import type { CopyTarget, Row, Warehouse, WarehouseTransaction } from '../../core/ports/warehouse.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureJson } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

/** A PostgreSQL warehouse that notes each bulk load: its table, and its rows or that it failed. */
class CopyCountingWarehouse implements Warehouse {
  readonly description = 'PostgreSQL, counting bulk loads';
  readonly copies: { table: string; rows?: number; failed?: true }[] = [];
  constructor(private readonly inner: PgWarehouse) {}

  transaction<T>(fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) =>
      fn({
        query: (sql, params) => tx.query(sql, params),
        execute: (sql, params) => tx.execute(sql, params),
        copyCsv: async (target: CopyTarget, csv: Readable) => {
          try {
            const rows = await tx.copyCsv(target, csv);
            this.copies.push({ table: target.table, rows });
            return rows;
          } catch (err) {
            this.copies.push({ table: target.table, failed: true });
            throw err;
          }
        },
      }),
    );
  }

  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return this.inner.query<R>(sql, params);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Parsed events CSV of `fixture`'s events as sent in `session`, received at `receivedAt` in raw object `source`; `nr` renumbers them. */
function eventsCsv(source: string, fixture: string, session: string, receivedAt: string, nr?: (n: number) => number): { csv: string; rows: number } {
  const decoded = decodeCollectionJson(fixtureJson(`collections/${fixture}.json`));
  const payloads = nr ? decoded.payloads.map((p) => ({ ...p, nr: nr(p.nr) })) : decoded.payloads;
  const rows = flattenRawRecord({ received_at: receivedAt, sent_at: null, ip: '198.51.100.7', collection: { ...decoded, session, payloads } }, source);
  return { csv: rows.map(encodeCsvRow).join(''), rows: rows.length };
}

async function putCsv(store: FsBlobStore, key: string, csv: string, rows: number): Promise<void> {
  await store.put(key, gzipSync(csv), { ferry_rows: String(rows) });
}

describe('a load run holding a few client re-sends and collisions among new events', () => {
  let dir: string;
  let store: FsBlobStore;
  let referenceStore: FsBlobStore;
  let pg: PgWarehouse;
  let warehouse: CopyCountingWarehouse;
  const split = uniqueSchema('resend_split');
  const merged = uniqueSchema('resend_merge');
  const options = (schema: string, run: string, dialect?: PostgresDialect): LoadOptions => ({
    store,
    warehouse,
    schema,
    dialect,
    logger: silentLogger,
    tables: [eventTable],
    runId: run,
    dates: ['2026-11-26'],
  });
  let newRows = 0;
  let involvedRows = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-resends-'));
    store = new FsBlobStore(join(dir, 'split'));
    referenceStore = new FsBlobStore(join(dir, 'merged'));
    pg = new PgWarehouse(testDatabaseUrl());
    warehouse = new CopyCountingWarehouse(pg);
    // Loaded before: the sessions a later request re-sends or collides with.
    for (const s of [store, referenceStore]) {
      const a = eventsCsv('raw/a', 'ios-two-events', 'session-a', '2026-11-25T09:00:00Z');
      const c = eventsCsv('raw/c', 'android-env-number', 'session-c', '2026-11-25T09:00:00Z');
      await putCsv(s, 'parsed/events/2026-11-25/stored.csv.gz', a.csv + c.csv, a.rows + c.rows);
    }
    for (const [schema, s] of [[split, store], [merged, referenceStore]] as const) await runLoad({ ...options(schema, 'first'), store: s, dates: ['2026-11-25'] });

    // One tick's files: new sessions, with a re-send of a stored request, an event colliding with a
    // stored one, a request re-sent within the tick and two payloads sharing (session, nr) in it.
    const at = '2026-11-26T10:00:00Z';
    const files: { name: string; involved: boolean; csv: string; rows: number }[] = [
      ...['android-env-number', 'ios-two-events', 'web-quoted-values', 'ios-two-events', 'android-env-number'].map((fixture, i) => ({
        name: `0${i}-new`,
        involved: false,
        ...eventsCsv(`raw/0${i}`, fixture, `session-new-${i}`, at),
      })),
      { name: '10-resend-a', involved: true, ...eventsCsv('raw/10', 'ios-two-events', 'session-a', '2026-11-26T10:00:05Z') },
      { name: '11-collide-c', involved: true, ...eventsCsv('raw/11', 'web-quoted-values', 'session-c', at, () => 2) },
      { name: '12-d', involved: true, ...eventsCsv('raw/12', 'android-env-number', 'session-d', '2026-11-26T10:00:09Z') },
      { name: '13-d-again', involved: true, ...eventsCsv('raw/13', 'android-env-number', 'session-d', '2026-11-26T10:00:03Z') },
      { name: '14-e', involved: true, ...eventsCsv('raw/14', 'ios-two-events', 'session-e', at, (n) => n - 40) },
      { name: '15-e-other', involved: true, ...eventsCsv('raw/15', 'android-env-number', 'session-e', at) },
      ...['web-quoted-values', 'ios-two-events'].map((fixture, i) => ({ name: `2${i}-new`, involved: false, ...eventsCsv(`raw/2${i}`, fixture, `session-new-late-${i}`, at) })),
    ];
    for (const f of files) {
      await putCsv(store, `parsed/events/2026-11-26/${f.name}.csv.gz`, f.csv, f.rows);
      if (f.involved) involvedRows += f.rows;
      else newRows += f.rows;
    }
    // The reference: the same rows as one file, which a dialect copying nothing straight in merges whole.
    await putCsv(referenceStore, 'parsed/events/2026-11-26/all.csv.gz', files.map((f) => f.csv).join(''), newRows + involvedRows);
  });
  afterAll(async () => {
    await pg.close();
    for (const schema of [split, merged]) await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  });

  it('merges only the sessions involved and copies the others straight in, storing and counting what a merge of the whole run does', async () => {
    warehouse.copies.length = 0;
    const result = await runLoad(options(split, 'tick'));
    const copies = warehouse.copies.filter((c) => !c.table.includes('source_counts'));
    // The run's direct copy is refused at the re-sent key; then the new sessions go straight in and only the involved ones are staged.
    expect(copies).toEqual([
      { table: `"${split}"."events"`, failed: true },
      { table: `"${split}"."events"`, rows: newRows },
      { table: '"ferry_staging_events"', rows: involvedRows },
    ]);

    const reference = await runLoad({ ...options(merged, 'tick', new PostgresDialect(merged, { directCopyMaxRows: 0 })), store: referenceStore });
    const events = result.tables.find((t) => t.table === 'events')!;
    expect(events).toEqual({ ...reference.tables.find((t) => t.table === 'events'), files: 13 });
    expect(events).toMatchObject({ rowsCopied: newRows + involvedRows, collisions: 3 });
    const stored = (schema: string) =>
      pg.query(`SELECT session, nr, fingerprint, received_at, source_key, event FROM "${schema}".events ORDER BY session, nr, fingerprint`);
    expect(await stored(split)).toEqual(await stored(merged));
    const collisionsOf = (schema: string) => pg.query(`SELECT source_key, collisions::int FROM "${schema}".load_collisions ORDER BY source_key`);
    expect(await collisionsOf(split)).toEqual(await collisionsOf(merged));
    // session-c's new event collided with the stored one; session-e's two requests share both nr.
    expect((await collisionsOf(split)).map((r) => r.source_key)).toEqual(expect.arrayContaining(['raw/11']));
    // The re-sends are stored once, with the earliest receipt.
    expect(await pg.query(`SELECT session, count(*)::int AS n, min(received_at) AS first FROM "${split}".events WHERE session IN ('session-a', 'session-d') GROUP BY session ORDER BY session`)).toEqual([
      { session: 'session-a', n: 2, first: '2026-11-25 09:00:00' },
      { session: 'session-d', n: 2, first: '2026-11-26 10:00:03' },
    ]);
  });

  /** Loads one tick of `files` (name → [fixture, session]) on `date` into the split schema; returns the bulk loads of events it made. */
  async function tick(date: string, files: Record<string, [string, string, ((n: number) => number)?]>) {
    for (const [name, [fixture, session, nr]] of Object.entries(files)) {
      const { csv, rows } = eventsCsv(`raw/${date}/${name}`, fixture, session, `${date}T10:00:00Z`, nr);
      await putCsv(store, `parsed/events/${date}/${name}.csv.gz`, csv, rows);
    }
    warehouse.copies.length = 0;
    const result = await runLoad({ ...options(split, `tick-${date}`), dates: [date] });
    return { events: result.tables.find((t) => t.table === 'events')!, copies: warehouse.copies.filter((c) => !c.table.includes('source_counts')) };
  }

  it('splits a run whose copy went through but collided, with the keys it read on the way: no second read of its keys', async () => {
    const { events, copies } = await tick('2026-11-27', {
      '0-new': ['android-env-number', 'session-new-27'],
      '1-collide': ['ios-two-events', 'session-c', (n) => n - 40],
      '2-new': ['web-quoted-values', 'session-new-27-b'],
    });
    expect(events).toMatchObject({ files: 3, rowsCopied: 5, rowsInserted: 5, collisions: 2 });
    expect(copies).toEqual([
      { table: `"${split}"."events"`, rows: 5 }, // undone: the check found session-c's stored nr 1 and 2
      { table: `"${split}"."events"`, rows: 3 },
      { table: '"ferry_staging_events"', rows: 2 },
    ]);
  });

  it('merges a run whose every session is involved through staging alone, as before', async () => {
    const { events, copies } = await tick('2026-11-28', { '0-again': ['android-env-number', 'session-new-27'], '1-again': ['web-quoted-values', 'session-new-27-b'] });
    expect(events).toMatchObject({ files: 2, rowsCopied: 3, rowsInserted: 0 });
    expect(events.collisions).toBeUndefined();
    expect(copies).toEqual([
      { table: `"${split}"."events"`, failed: true },
      { table: '"ferry_staging_events"', rows: 3 },
    ]);
  });
});
