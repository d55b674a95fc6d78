import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { sessionId } from '../../core/collector/session.js';
import { PostgresDialect } from '../../core/loader/dialects/postgres.js';
import { eventTable } from '../../core/model/event-table.js';
import { rawObjectKey, type RawRecord } from '../../core/model/raw-record.js';
import { parseObject } from '../../core/parser/parse-object.js';
import type { BlobInfo, BlobStore, ListOptions } from '../../core/ports/blob-store.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { LoadTick } from '../../core/tick.js';
import { fixtureJson } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

const minuteMs = 60_000;

/** The filesystem store, recording which keys its listings handed out and which the caller skipped. */
class ListingSpy implements BlobStore {
  listed: string[] = [];
  skipped: string[] = [];
  constructor(readonly inner: FsBlobStore) {}
  put: BlobStore['put'] = (...a) => this.inner.put(...a);
  get: BlobStore['get'] = (...a) => this.inner.get(...a);
  head: BlobStore['head'] = (...a) => this.inner.head(...a);
  delete: BlobStore['delete'] = (...a) => this.inner.delete(...a);
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<BlobInfo> {
    const skip = options.skip;
    const spied: ListOptions = skip ? { ...options, skip: (key) => (skip(key) ? (this.skipped.push(key), true) : false) } : options;
    for await (const info of this.inner.list(prefix, spied)) {
      this.listed.push(info.key);
      yield info;
    }
  }
  take(): { listed: string[]; skipped: string[] } {
    const taken = { listed: this.listed.sort(), skipped: this.skipped.sort() };
    this.listed = [];
    this.skipped = [];
    return taken;
  }
}

describe('a timed load tick skips the files it knows are loaded', () => {
  const schema = uniqueSchema('known');
  const warehouse = new PgWarehouse(testDatabaseUrl());
  let dir: string;
  let store: ListingSpy;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-known-'));
    store = new ListingSpy(new FsBlobStore(dir));
  });
  afterAll(async () => {
    await warehouse.close();
    await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  });

  /** A raw object received at `at`, parsed: answers its outputs' keys (events file, summary). */
  async function parsedRaw(at: Date, device: string): Promise<string[]> {
    const collection = { ...fixtureJson<RawRecord['collection']>('collections/ios-two-events.json'), device_id: device };
    collection.session = sessionId({ ...collection, env: 0 });
    const record: RawRecord = { received_at: at.toISOString(), sent_at: null, ip: '203.0.113.5', collection };
    const key = rawObjectKey(at, timeSortableIds.next(at));
    const before = new Set(await outputs());
    await store.put(key, gzipSync(`${JSON.stringify(record)}\n`));
    await parseObject({ store, logger: silentLogger }, { key });
    return (await outputs()).filter((k) => !before.has(k));
  }

  async function outputs(): Promise<string[]> {
    const keys: string[] = [];
    for (const prefix of ['parsed/', 'summaries/']) for await (const info of store.inner.list(prefix)) keys.push(info.key);
    return keys.sort();
  }

  const events = async (device: string) => Number((await warehouse.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}".events WHERE device_id = $1`, [device]))[0]!.n);

  it('lists only what the manifest does not hold, loads a file parsed late beside them, and asks the manifest afresh at a whole listing', async () => {
    const now = new Date();
    const tick = new LoadTick({
      store,
      warehouse: () => warehouse,
      logger: silentLogger,
      tables: [eventTable],
      schema,
      dialect: new PostgresDialect(schema),
      lookbackDays: 7,
      overlapMs: 6 * 60 * minuteMs,
      sweep: async () => ({ found: 0 }),
    });
    const a = await parsedRaw(new Date(now.getTime() - 30 * minuteMs), 'a');
    const first = [...a, ...(await parsedRaw(new Date(now.getTime() - 20 * minuteMs), 'b'))].sort();
    await tick.run('whole', now);
    expect(store.take().listed).toEqual(first);
    expect(await events('a')).toBe(2);

    // Parsed late: named by an arrival before the loaded ones, written after their load.
    const late = await parsedRaw(new Date(now.getTime() - 40 * minuteMs), 'late');
    await tick.run('timed', new Date(now.getTime() + 2 * minuteMs));
    expect(store.take()).toEqual({ listed: late, skipped: first });
    expect(await events('late')).toBe(2);

    // A manifest row deleted by hand (to load a file again) is seen at the next whole listing.
    await warehouse.query(`DELETE FROM "${schema}".load_manifest WHERE file_key = ANY($1::text[])`, [a]);
    await warehouse.query(`DELETE FROM "${schema}".events WHERE device_id = 'a'`);
    await tick.run('hourly-whole', new Date(now.getTime() + 65 * minuteMs));
    expect(await events('a')).toBe(2);
  });
});
