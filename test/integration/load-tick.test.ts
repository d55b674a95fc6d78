import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { sessionId } from '../../core/collector/session.js';
import { PostgresDialect } from '../../core/loader/dialects/postgres.js';
import { eventTable } from '../../core/model/event-table.js';
import { rawObjectKey, type RawRecord } from '../../core/model/raw-record.js';
import { parseObject } from '../../core/parser/parse-object.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { LoadTick } from '../../core/tick.js';
import { CountingBlobStore } from '../../bench/support/counting-blob-store.js';
import { fixtureJson } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

const hourMs = 3_600_000;
const overlapMs = 6 * hourMs;

/** A raw object received at `at`, parsed: its outputs are named by its arrival. */
async function parsedRaw(store: MemoryBlobStore, at: Date, device: string): Promise<void> {
  const collection = { ...fixtureJson<RawRecord['collection']>('collections/ios-two-events.json'), device_id: device };
  collection.session = sessionId({ ...collection, env: 0 });
  const record: RawRecord = { received_at: at.toISOString(), sent_at: null, ip: '203.0.113.5', collection };
  const key = rawObjectKey(at, timeSortableIds.next(at));
  await store.put(key, gzipSync(`${JSON.stringify(record)}\n`));
  await parseObject({ store, logger: silentLogger }, { key });
}

describe('LoadTick: a timed load costs what arrived since the last one, not the history', () => {
  const schemas: string[] = [];
  const warehouse = new PgWarehouse(testDatabaseUrl());
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  beforeAll(async () => client.connect());
  afterAll(async () => {
    await client.end();
    await warehouse.close();
    for (const s of schemas) await dropSchema(s);
  });

  function tickOver(store: CountingBlobStore, schema: string): LoadTick {
    return new LoadTick({
      store,
      warehouse: () => warehouse,
      logger: silentLogger,
      tables: [eventTable],
      schema,
      dialect: new PostgresDialect(schema),
      lookbackDays: 7,
      overlapMs,
      sweep: async () => ({ found: 0 }),
    });
  }

  /** A store with `days` days of parsed history before `now`, all loaded by a first tick. */
  async function withHistory(days: number, now: Date): Promise<{ store: CountingBlobStore; memory: MemoryBlobStore; tick: LoadTick; schema: string }> {
    const schema = uniqueSchema(`tick${days}`);
    schemas.push(schema);
    const memory = new MemoryBlobStore();
    for (let d = 0; d < days; d++) for (let i = 0; i < 3; i++) await parsedRaw(memory, new Date(now.getTime() - d * 24 * hourMs - (i + 7) * hourMs), `history-${d}-${i}`);
    const store = new CountingBlobStore(memory);
    const tick = tickOver(store, schema);
    await tick.run('first', now);
    return { store, memory, tick, schema };
  }

  it('makes the same LIST requests with 1 and with 30 days of history, and loads what arrived since', async () => {
    const now = new Date();
    const lists: number[] = [];
    for (const days of [1, 30]) {
      const { store, memory, tick, schema } = await withHistory(days, now);
      await parsedRaw(memory, new Date(now.getTime() - 60_000), `new-${days}`);
      store.take();
      const result = await tick.run('second', new Date(now.getTime() + 5 * 60_000));
      lists.push(store.counts.lists);
      // Only the new file was listed: every older one is outside the overlap by its name.
      expect(store.counts.listedKeys).toBe(2); // its parsed file and its summary
      expect(result.tables.find((t) => t.table === 'events')).toMatchObject({ files: 1, rowsInserted: 2 });
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE device_id = $1`, [`new-${days}`]);
      expect(rows[0].n).toBe(2);
    }
    expect(lists[1]).toBe(lists[0]);
  });

  it('loads a file parsed after the overlap had passed its arrival at the next whole listing: hourly, or when the host starts', async () => {
    const now = new Date();
    const { store, memory, tick, schema } = await withHistory(1, now);
    // A parse retried for hours: its output is named by an arrival 7 h before the tick.
    await parsedRaw(memory, new Date(now.getTime() - 7 * hourMs), 'late');
    const events = async () => (await client.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE device_id = 'late'`)).rows[0].n;
    await tick.run('within-the-hour', new Date(now.getTime() + 10 * 60_000));
    expect(await events()).toBe(0);
    await tick.run('an-hour-on', new Date(now.getTime() + 61 * 60_000));
    expect(await events()).toBe(2);
    // A host that starts lists whole at its first tick.
    await parsedRaw(memory, new Date(now.getTime() - 8 * hourMs), 'late-too');
    await tickOver(store, schema).run('restarted', new Date(now.getTime() + 62 * 60_000));
    expect((await client.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE device_id = 'late-too'`)).rows[0].n).toBe(2);
  });
});
