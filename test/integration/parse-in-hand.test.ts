import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { readConfig } from '../../core/config.js';
import { sessionId } from '../../core/collector/session.js';
import { VersionChangedError } from '../../core/errors.js';
import { rawObjectKey, type RawRecord } from '../../core/model/raw-record.js';
import { parseBatch } from '../../core/parser/parse-batch.js';
import { parseObject, ruleSetsOf, storedBytes } from '../../core/parser/parse-object.js';
import type { BlobCreated, GetOptions } from '../../core/ports/blob-store.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { BodiesInHand } from '../../functions/local/bodies-in-hand.js';
import { LocalParser } from '../../functions/local/local-parser.js';
import { fixtureJson } from '../support/fixtures.js';
import { collect, readAll, readObject } from '../support/streams.js';

/** A raw object's key and gzip'd body as the collector writes them: one collection of two events. */
function rawObject(device: string, receivedAt = new Date('2026-11-23T10:00:00Z')): { key: string; body: Buffer } {
  const collection = { ...fixtureJson<RawRecord['collection']>('collections/ios-two-events.json'), device_id: device };
  collection.session = sessionId({ ...collection, env: 0 });
  const record: RawRecord = { received_at: receivedAt.toISOString(), sent_at: null, ip: '203.0.113.9', collection };
  return { key: rawObjectKey(receivedAt, timeSortableIds.next(receivedAt)), body: gzipSync(`${JSON.stringify(record)}\n`) };
}

/** A filesystem store that counts the objects read back through it. */
class CountingFsStore extends FsBlobStore {
  readonly reads: string[] = [];
  override get(key: string, options?: GetOptions): Promise<Readable> {
    this.reads.push(key);
    return super.get(key, options);
  }
}

/** Every stored object's bytes by key, parsed outputs and summaries alike. */
async function contents(store: MemoryBlobStore): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const info of await collect(store.list(''))) all.set(info.key, (await readObject(store, info.key)).toString('base64'));
  return all;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-in-hand-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('a parse of bytes in hand', () => {
  it('writes the same objects as a parse that reads the input from the store, without reading it', async () => {
    const objects = [rawObject('in-hand-1'), rawObject('in-hand-2'), rawObject('in-hand-3')];
    const fromStore = new MemoryBlobStore();
    const inHand = new MemoryBlobStore();
    const reads: string[] = [];
    const get = inHand.get.bind(inHand);
    inHand.get = (key, options) => (reads.push(key), get(key, options));
    const inputs = [];
    for (const { key, body } of objects) {
      await fromStore.put(key, body);
      const info = await inHand.put(key, body);
      inputs.push({ key, etag: info.etag, size: info.size, body });
    }
    await parseBatch({ store: fromStore, logger: silentLogger }, inputs.map(({ body: _body, ...input }) => input));
    await parseBatch({ store: inHand, logger: silentLogger }, inputs);
    expect(reads.filter((k) => k.startsWith('raw/'))).toEqual([]);
    expect(await contents(inHand)).toEqual(await contents(fromStore));

    const single = rawObject('in-hand-alone');
    const alone = [new MemoryBlobStore(), new MemoryBlobStore()] as const;
    const infos = [await alone[0].put(single.key, single.body), await alone[1].put(single.key, single.body)];
    await parseObject({ store: alone[0], logger: silentLogger }, { key: single.key });
    await parseObject({ store: alone[1], logger: silentLogger }, { key: single.key, etag: infos[1]!.etag, body: single.body });
    expect(await contents(alone[1])).toEqual(await contents(alone[0]));
  });

  it('is taken only as the version it names: read from the store for another, refused by parseObject once the key holds another', async () => {
    const store = new MemoryBlobStore();
    const first = rawObject('version-1');
    const older = await store.put(first.key, first.body);
    const newer = await store.put(first.key, rawObject('version-2').body);
    const read = await readAll(await storedBytes(store, { key: first.key, etag: older.etag, body: first.body }, newer.etag));
    expect(read.toString('base64')).toBe((await readObject(store, first.key)).toString('base64'));
    await expect(parseObject({ store, logger: silentLogger }, { key: first.key, etag: older.etag, body: first.body })).rejects.toBeInstanceOf(VersionChangedError);
    expect(await collect(store.list('parsed/'))).toEqual([]);
  });

  it('of a raw object, parseBatch takes as the version it names without asking the store (a raw key is never written twice)', async () => {
    const store = new MemoryBlobStore();
    const first = rawObject('batch-version-1');
    const older = await store.put(first.key, first.body);
    await store.put(first.key, rawObject('batch-version-2').body);
    const result = await parseBatch({ store, logger: silentLogger }, [{ key: first.key, etag: older.etag, size: older.size, body: first.body }]);
    expect(result.parsed).toEqual([first.key]);
    const [summary] = await collect(store.list('summaries/'));
    expect(JSON.parse((await readObject(store, summary!.key)).toString())).toMatchObject({ source_key: first.key, source_etag: older.etag });
  });
});

describe('BodiesInHand', () => {
  const created = (key: string, body?: Uint8Array): BlobCreated => ({ key, etag: `etag-of-${key}-${body?.byteLength ?? 'stream'}`, size: body?.byteLength ?? 0, ...(body ? { body } : {}) });

  it('hands each key its last put\'s bytes once, then leaves the parse to the store', () => {
    const hand = new BodiesInHand(1024);
    const first = new Uint8Array(10);
    const second = new Uint8Array(20);
    hand.offer(created('raw/events/a', first));
    hand.offer(created('raw/events/a', second));
    expect(hand.take('raw/events/a')).toEqual({ key: 'raw/events/a', etag: 'etag-of-raw/events/a-20', size: 20, body: second });
    expect(hand.take('raw/events/a')).toEqual({ key: 'raw/events/a' });
    expect(hand.heldBytes).toBe(0);
  });

  it('forgets a key\'s bytes when a later version came without them (a streamed put)', () => {
    const hand = new BodiesInHand(1024);
    hand.offer(created('raw/events/a', new Uint8Array(10)));
    hand.offer(created('raw/events/a'));
    expect(hand.take('raw/events/a')).toEqual({ key: 'raw/events/a' });
    expect(hand.heldBytes).toBe(0);
  });

  it('holds no more than its budget', () => {
    const hand = new BodiesInHand(100);
    hand.offer(created('raw/events/a', new Uint8Array(60)));
    hand.offer(created('raw/events/b', new Uint8Array(50)));
    expect(hand.heldBytes).toBe(60);
    expect(hand.take('raw/events/b')).toEqual({ key: 'raw/events/b' });
    hand.offer(created('raw/events/c', new Uint8Array(40)));
    expect(hand.heldBytes).toBe(100);
    expect(hand.take('raw/events/a').body?.byteLength).toBe(60);
    expect(hand.take('raw/events/c').body?.byteLength).toBe(40);
    expect(hand.heldBytes).toBe(0);
  });
});

describe('the local runner\'s parse of its own puts', () => {
  it('parses the current version, without a failure, when the key was written again after the bytes in hand', async () => {
    const root = join(dir, 'store');
    /** A store whose notifications the test delivers itself. */
    class HeldNotifications extends FsBlobStore {
      listener: ((event: BlobCreated) => void) | undefined;
      override onCreated(listener: (event: BlobCreated) => void) {
        this.listener = listener;
        return () => (this.listener = undefined);
      }
    }
    const store = new HeldNotifications(root);
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => void errors.push(message) };
    const parser = new LocalParser({ store, ruleSets: ruleSetsOf({}), config: readConfig({ FERRY_DATA_DIR: dir }), logger });
    try {
      const first = rawObject('written-once');
      const older = await store.put(first.key, first.body);
      const newer = await store.put(first.key, rawObject('written-again').body);
      store.listener!({ key: first.key, etag: older.etag, size: older.size, body: first.body });
      await parser.idle();
      const summaries = await collect(store.list('summaries/'));
      expect(summaries).toHaveLength(1);
      expect(JSON.parse((await readAll(await store.get(summaries[0]!.key))).toString())).toMatchObject({ source_key: first.key, source_etag: newer.etag });
      expect(errors).toEqual([]);
    } finally {
      await parser.finish();
      await parser.close();
    }
  });

  it('parses a raw object put in this process from the put\'s bytes, and one put by another process from the store', async () => {
    const root = join(dir, 'store');
    const store = new CountingFsStore(root);
    const ruleSets = ruleSetsOf({});
    const parser = new LocalParser({ store, ruleSets, config: readConfig({ FERRY_DATA_DIR: dir }), logger: silentLogger });
    try {
      const own = rawObject('own-process');
      await store.put(own.key, own.body);
      await new Promise((r) => setImmediate(r));
      await parser.idle();
      const dropped = rawObject('other-process', new Date('2026-11-23T10:00:01Z'));
      await new FsBlobStore(root).put(dropped.key, dropped.body);
      expect(await parser.scanAll(new Date())).toBe(1);
      await parser.idle();
      expect(store.reads.filter((k) => k.startsWith('raw/'))).toEqual([dropped.key]);
      const summaries = await collect(store.list('summaries/'));
      expect(summaries).toHaveLength(2);
    } finally {
      await parser.finish();
      await parser.close();
    }
  });
});
