import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { Collector } from '../../core/collector/collector.js';
import type { HttpRequestMessage } from '../../core/http/http-message.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureBytes } from '../support/fixtures.js';

const fixedClock = { now: () => new Date('2026-11-23T12:34:56.789Z') };
let counter = 0;
const ids = { next: () => `ID${String(++counter).padStart(4, '0')}` };

function request(overrides: Partial<HttpRequestMessage> = {}): HttpRequestMessage {
  return {
    method: 'POST', path: '/api/v1/track', headers: { 'content-type': 'application/json; charset=utf-8' },
    body: fixtureBytes('collections/ios-two-events.json'), remoteAddress: '203.0.113.9', ...overrides,
  };
}

describe('Collector', () => {
  let dir: string;
  let store: FsBlobStore;
  let collector: Collector;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-collector-'));
    store = new FsBlobStore(dir);
    collector = new Collector({ store, clock: fixedClock, ids, logger: silentLogger, maxBodyBytes: 64 * 1024 });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores an accepted collection as one raw gzip NDJSON line before answering 200', async () => {
    const response = await collector.handle(request());
    expect(response.status).toBe(200);
    const keys: string[] = [];
    for await (const info of store.list('raw/')) keys.push(info.key);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^raw\/events\/2026\/11\/23\/12\/ID\d{4}\.ndjson\.gz$/);
    const chunks: Buffer[] = [];
    for await (const c of await store.get(keys[0]!)) chunks.push(c as Buffer);
    const lines = gunzipSync(Buffer.concat(chunks)).toString('utf8').split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ received_at: '2026-11-23T12:34:56.789Z', sent_at: null, ip: '203.0.113.9' });
    expect(record.collection.payloads).toHaveLength(2);
  });

  const statusCases: [string, Partial<HttpRequestMessage>, number, RegExp | null][] = [
    ['health', { method: 'GET', path: '/api/health', body: new Uint8Array() }, 200, null],
    ['unknown route', { path: '/nope' }, 404, /no route/],
    ['wrong method', { method: 'GET' }, 405, /method not allowed/],
    ['no content type', { headers: {} }, 415, /unsupported content type/],
    ['xml', { headers: { 'content-type': 'text/xml' } }, 415, /text\/xml/],
    ['malformed JSON', { body: Buffer.from('{"device_id": ') }, 400, /malformed JSON/],
    ['invalid UTF-8', { body: Buffer.from([0x7b, 0xff, 0x7d]) }, 400, /malformed JSON/],
    ['missing field', { body: Buffer.from('{"device_id":"d"}') }, 400, /^client_id: is required$/],
    ['JSON array', { body: Buffer.from('[]') }, 400, /collection: must be a JSON object/],
    ['no payloads', { body: fixtureBytes('collections/empty-payloads.json') }, 204, null],
    ['too large', { body: Buffer.alloc(64 * 1024 + 1, 32) }, 413, /FERRY_MAX_BODY_BYTES/],
  ];
  it.each(statusCases)('%s → %i with a JSON reason', async (_label, overrides, status, reason) => {
    const response = await collector.handle(request(overrides));
    expect(response.status).toBe(status);
    if (reason) expect(JSON.parse(response.body).error).toMatch(reason);
    if (status !== 200) {
      const keys: string[] = [];
      for await (const info of store.list('raw/')) keys.push(info.key);
      expect(keys).toEqual([]);
    }
  });

  it('answers 503 with Retry-After when storage fails, and stores nothing', async () => {
    const broken: BlobStore = { ...store, put: async () => { throw new Error('disk on fire'); }, get: store.get.bind(store), head: store.head.bind(store), list: store.list.bind(store), delete: store.delete.bind(store) };
    const failing = new Collector({ store: broken, clock: fixedClock, ids, logger: silentLogger, maxBodyBytes: 64 * 1024 });
    const response = await failing.handle(request());
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(JSON.parse(response.body).error).toMatch(/retry later/);
  });

  it('answers 503 once closing, after finishing what it accepted', async () => {
    const inFlight = collector.handle(request());
    const closed = collector.close();
    expect((await collector.handle(request())).status).toBe(503);
    expect((await inFlight).status).toBe(200);
    await closed;
  });
});
