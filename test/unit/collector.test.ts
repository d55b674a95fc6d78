import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { Collector, type CollectorOptions } from '../../core/collector/collector.js';
import { hamustroSignature } from '../../core/collector/signature.js';
import { readConfig } from '../../core/config.js';
import type { HttpRequestMessage, HttpResponseMessage } from '../../core/http/http-message.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureBytes, fixtureJson } from '../support/fixtures.js';
import { encodeCollection } from '../support/protobuf-encoder.js';
import { listKeys, readObject } from '../support/streams.js';

const now = new Date('2026-11-23T12:34:56.789Z');
const nowSeconds = String(Math.floor(now.getTime() / 1000));
const secret = 's3cr3t';
let counter = 0;
const ids = { next: () => `ID${String(++counter).padStart(4, '0')}` };

async function readRawLines(store: BlobStore): Promise<Record<string, unknown>[]> {
  const out = [];
  for (const key of await listKeys(store, 'raw/')) {
    for (const line of gunzipSync(await readObject(store, key)).toString('utf8').split('\n').filter(Boolean)) out.push(JSON.parse(line));
  }
  return out;
}

/** A store that delegates to `inner` but puts through `put`: for fault and backpressure cases. */
function withPut(inner: BlobStore, put: BlobStore['put']): BlobStore {
  return { put, get: (k) => inner.get(k), head: (k) => inner.head(k), list: (p, o) => inner.list(p, o), delete: (k) => inner.delete(k) };
}

type Encoding = 'json' | 'protobuf';
const contentType: Record<Encoding, string> = { json: 'application/json; charset=utf-8', protobuf: 'application/protobuf' };
const encode = (encoding: Encoding, c: Record<string, unknown>) => (encoding === 'json' ? Buffer.from(JSON.stringify(c)) : encodeCollection(c));

/** The iOS fixture with one parameter value of `n` control characters (U+0001). */
function withControlCharacters(n: number): Record<string, unknown> {
  const c = fixtureJson('collections/ios-two-events.json') as { payloads: { parameters: { name: string; value: string }[] }[] };
  c.payloads[0]!.parameters[0]!.value = '\u0001'.repeat(n);
  return c as unknown as Record<string, unknown>;
}

function signed(body: Uint8Array, time = nowSeconds): Record<string, string> {
  return { 'x-hamustro-time': time, 'x-hamustro-signature': hamustroSignature(time, body, secret) };
}

describe('Collector', () => {
  let dir: string;
  let store: FsBlobStore;
  const make = (env: Record<string, string>, overrides: Partial<CollectorOptions> = {}) =>
    new Collector({ store, clock: { now: () => now }, ids, logger: silentLogger, ...readConfig({ FERRY_BATCH_WINDOW_MS: '1', ...env }).collector, ...overrides });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-collector-'));
    store = new FsBlobStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const ios = () => fixtureJson('collections/ios-two-events.json');
  const request = (encoding: Encoding, body: Uint8Array, headers: Record<string, string> = {}): HttpRequestMessage => ({
    method: 'POST', path: '/api/v1/track', headers: { 'content-type': contentType[encoding], ...headers }, body, remoteAddress: '203.0.113.9',
  });

  describe.each(['json', 'protobuf'] as const)('%s bodies', (encoding) => {
    const body = () => encode(encoding, ios());
    const cases: [string, Record<string, string>, () => HttpRequestMessage, number, RegExp | null][] = [
      ['unsigned, signatures off', {}, () => request(encoding, body()), 200, null],
      ['signed, required', { FERRY_SHARED_SECRET: secret }, () => request(encoding, body(), signed(body())), 200, null],
      ['unsigned, required', { FERRY_SHARED_SECRET: secret }, () => request(encoding, body()), 401, /X-Hamustro-Time header is missing/],
      ['time but no signature, required', { FERRY_SHARED_SECRET: secret }, () => request(encoding, body(), { 'x-hamustro-time': nowSeconds }), 401, /Signature header is missing/],
      ['wrong signature, required', { FERRY_SHARED_SECRET: secret }, () => request(encoding, body(), { ...signed(Buffer.from('other')) }), 401, /does not match/],
      ['non-numeric time', { FERRY_SHARED_SECRET: secret }, () => request(encoding, body(), { 'x-hamustro-time': 'yesterday', 'x-hamustro-signature': 'x' }), 401, /epoch seconds/],
      ['replayed 16 min later', { FERRY_SHARED_SECRET: secret }, () => request(encoding, body(), signed(body(), String(Number(nowSeconds) - 960))), 401, /replay window of 900 s/],
      ['from 16 min in the future', { FERRY_SHARED_SECRET: secret }, () => request(encoding, body(), signed(body(), String(Number(nowSeconds) + 960))), 401, /replay window/],
      ['old time, window off', { FERRY_SHARED_SECRET: secret, FERRY_REPLAY_WINDOW_S: '0' }, () => request(encoding, body(), signed(body(), '1454514088')), 200, null],
      ['unsigned, optional', { FERRY_SHARED_SECRET: secret, FERRY_SIGNATURE: 'optional' }, () => request(encoding, body()), 200, null],
      ['signed, optional', { FERRY_SHARED_SECRET: secret, FERRY_SIGNATURE: 'optional' }, () => request(encoding, body(), signed(body())), 200, null],
      ['bad signature, optional', { FERRY_SHARED_SECRET: secret, FERRY_SIGNATURE: 'optional' }, () => request(encoding, body(), { 'x-hamustro-time': nowSeconds, 'x-hamustro-signature': 'AAAA' }), 401, /does not match/],
      ['only a signature header, optional', { FERRY_SHARED_SECRET: secret, FERRY_SIGNATURE: 'optional' }, () => request(encoding, body(), { 'x-hamustro-signature': 'AAAA' }), 401, /Time header is missing/],
      ['wrong method', {}, () => ({ ...request(encoding, body()), method: 'PUT' }), 405, /use POST/],
      ['unsupported content type', {}, () => request(encoding, body(), { 'content-type': 'text/plain' }), 415, /text\/plain/],
      ['unsupported content encoding', {}, () => request(encoding, body(), { 'content-encoding': 'br' }), 415, /Content-Encoding "br"/],
      ['gzip body', {}, () => request(encoding, gzipSync(body()), { 'content-encoding': 'gzip' }), 200, null],
      ['signed gzip body', { FERRY_SHARED_SECRET: secret }, () => { const z = gzipSync(body()); return request(encoding, z, { 'content-encoding': 'gzip', ...signed(z) }); }, 200, null],
      ['gzip bomb', { FERRY_MAX_DECOMPRESSED_BYTES: '65536' }, () => request(encoding, gzipSync(Buffer.alloc(50 * 1024 * 1024, 32)), { 'content-encoding': 'gzip' }), 413, /FERRY_MAX_DECOMPRESSED_BYTES=65536/],
      ['broken gzip', {}, () => request(encoding, Buffer.from([0x1f, 0x8b, 1, 2, 3]), { 'content-encoding': 'gzip' }), 400, /malformed gzip/],
      ['too large', { FERRY_MAX_BODY_BYTES: '1024' }, () => request(encoding, Buffer.alloc(2048, 32)), 413, /FERRY_MAX_BODY_BYTES=1024/],
      ['too many payloads', { FERRY_MAX_PAYLOADS: '1' }, () => request(encoding, body()), 413, /2 payloads exceeds FERRY_MAX_PAYLOADS=1/],
      ['too many parameters', { FERRY_MAX_PARAMETERS: '2' }, () => request(encoding, body()), 413, /payloads\[1\] has 3 parameters, which exceeds FERRY_MAX_PARAMETERS=2/],
      ['too long a field', { FERRY_MAX_FIELD_BYTES: '32' }, () => request(encoding, body()), 413, /field device_id exceeds FERRY_MAX_FIELD_BYTES=32/],
      ['session mismatch', {}, () => request(encoding, encode(encoding, { ...ios(), session: '0'.repeat(32) })), 400, /^session: does not match/],
      ['missing required field', {}, () => request(encoding, encode(encoding, { ...ios(), client_id: undefined })), 400, /^client_id: is required$/],
      ['no payloads', {}, () => request(encoding, encode(encoding, fixtureJson('collections/empty-payloads.json'))), 204, null],
    ];
    it.each(cases.map(([label, ...rest]) => [`${label} → ${rest[2]}`, ...rest] as const))('%s', async (_label, env, makeRequest, status, reason) => {
      const collector = make(env);
      const response = await collector.handle(makeRequest());
      expect(response.status).toBe(status);
      if (reason) expect(JSON.parse(response.body).error).toMatch(reason);
      else if (status >= 400) expect(JSON.parse(response.body).error).toBeTypeOf('string');
      expect(await listKeys(store, 'raw/')).toHaveLength(status === 200 ? 1 : 0);
    });
  });

  it('refuses a malformed body of each kind with 400 and a reason', async () => {
    const collector = make({});
    const cases: [Encoding, Uint8Array, RegExp][] = [
      ['json', Buffer.from('{"device_id": '), /malformed JSON/],
      ['json', Buffer.from([0x7b, 0xff, 0x7d]), /malformed JSON/],
      ['json', Buffer.from('[]'), /collection: must be a JSON object/],
      ['protobuf', Buffer.from([0x0a, 0x05, 0x61]), /malformed protobuf/],
      ['protobuf', Buffer.from([0x0b]), /malformed protobuf/],
      ['protobuf', Buffer.from([0x0a, 0x01, 0x61]), /client_id: is required/],
    ];
    for (const [encoding, body, reason] of cases) {
      const response = await collector.handle(request(encoding, body));
      expect(response.status, `${encoding} ${Buffer.from(body).toString('hex')}`).toBe(400);
      expect(JSON.parse(response.body).error).toMatch(reason);
    }
  });

  it('stores every field of a protobuf collection (encoded independently) with received_at, sent_at and the client IP', async () => {
    const source = fixtureJson('collections/ios-two-events.json');
    const body = encodeCollection(source);
    const response = await make({ FERRY_SHARED_SECRET: secret }).handle(
      request('protobuf', body, { ...signed(body, String(Number(nowSeconds) - 30)), 'x-forwarded-for': '10.0.0.1, 198.51.100.23, 203.0.113.1' }),
    );
    expect(response.status).toBe(200);
    const [line, ...rest] = await readRawLines(store);
    expect(rest).toEqual([]);
    const payloads = (source.payloads as Record<string, unknown>[]).map((p) => ({ ...p, at: String(p.at) }));
    expect(line).toEqual({
      received_at: '2026-11-23T12:34:56.789Z',
      sent_at: new Date((Number(nowSeconds) - 30) * 1000).toISOString(),
      ip: '198.51.100.23',
      request_id: response.headers['x-request-id'],
      collection: { ...source, env: 0, payloads },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(await listKeys(store, 'raw/')).toEqual([expect.stringMatching(/^raw\/events\/2026\/11\/23\/12\/ID\d{4}\.ndjson\.gz$/)]);
  });

  describe('request ids', () => {
    const recording = () => {
      const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
      const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => lines.push({ level, msg, fields });
      return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
    };
    const requestIds = { next: (at: Date) => `REQ-${at.toISOString()}` };

    it('keeps the client\'s X-Request-Id in the raw record and the answer', async () => {
      const response = await make({}, { requestIds }).handle(request('json', fixtureBytes('collections/ios-two-events.json'), { 'x-request-id': 'client-req-7' }));
      expect([response.status, response.headers['x-request-id']]).toEqual([200, 'client-req-7']);
      expect((await readRawLines(store)).map((l) => l.request_id)).toEqual(['client-req-7']);
    });

    it('gives a request without one its own id, one per request of a shared raw object', async () => {
      let n = 0;
      const collector = make({ FERRY_BATCH_WINDOW_MS: '50' }, { requestIds: { next: () => `own-${++n}` } });
      const body = fixtureBytes('collections/ios-two-events.json');
      const responses = await Promise.all([1, 2, 3].map(() => collector.handle(request('json', body))));
      expect(responses.map((r) => [r.status, r.headers['x-request-id']])).toEqual([[200, 'own-1'], [200, 'own-2'], [200, 'own-3']]);
      expect(await listKeys(store, 'raw/')).toHaveLength(1);
      expect((await readRawLines(store)).map((l) => l.request_id).sort()).toEqual(['own-1', 'own-2', 'own-3']);
    });

    it('keeps a sent id printable and bounded: control and non-ASCII characters dropped, 128 characters at most', async () => {
      const collector = make({}, { requestIds });
      const body = fixtureBytes('collections/ios-two-events.json');
      const odd = await collector.handle(request('json', body, { 'x-request-id': 'a\nb c\u00e9d' }));
      const long = await collector.handle(request('json', body, { 'x-request-id': 'x'.repeat(300) }));
      const blank = await collector.handle(request('json', body, { 'x-request-id': ' \t' }));
      expect([odd, long, blank].map((r) => r.headers['x-request-id'])).toEqual(['abcd', 'x'.repeat(128), `REQ-${now.toISOString()}`]);
    });

    it('puts the id on every line a request causes, refused or stored', async () => {
      const { lines, logger } = recording();
      const failing = withPut(store, () => Promise.reject(new Error('disk on fire')));
      const collector = make({}, { logger, requestIds, store: failing });
      const unavailable = await collector.handle(request('json', fixtureBytes('collections/ios-two-events.json'), { 'x-request-id': 'req-503' }));
      expect([unavailable.status, unavailable.headers['x-request-id']]).toEqual([503, 'req-503']);
      const replaced = Buffer.from(JSON.stringify(fixtureJson('collections/ios-two-events.json')).replace('"lst-77"', '"lst\\u000077"'));
      const stored = await make({}, { logger, requestIds }).handle(request('json', replaced, { 'x-request-id': 'req-fffd' }));
      expect(stored.status).toBe(200);
      expect(lines.map((l) => [l.msg, l.fields.request_id])).toEqual([
        ['collector unavailable', 'req-503'],
        ['stored with characters no warehouse can store replaced by U+FFFD', 'req-fffd'],
      ]);
    });

    it('hands the id to the observer, which logs a refusal with it', async () => {
      const seen: [number, string][] = [];
      const observer = { answered: (_r: HttpRequestMessage, response: HttpResponseMessage, outcome: { requestId: string }) => seen.push([response.status, outcome.requestId]) };
      const collector = make({}, { observer, requestIds });
      await collector.handle(request('json', Buffer.from('{"broken'), { 'x-request-id': 'req-400' }));
      await collector.handle(request('json', fixtureBytes('collections/ios-two-events.json')));
      expect(seen).toEqual([[400, 'req-400'], [200, `REQ-${now.toISOString()}`]]);
    });
  });

  it('masks client IPs when asked', async () => {
    expect((await make({ FERRY_MASK_IP: 'true' }).handle(request('json', fixtureBytes('collections/ios-two-events.json'), { 'x-real-ip': '198.51.100.23' }))).status).toBe(200);
    const [line] = await readRawLines(store);
    expect(line!.ip).toBe('198.51.100.0');
    expect(((line!.collection as Record<string, unknown>).payloads as Record<string, unknown>[])[1]!.ip).toBe('93.184.216.0');
  });

  it('writes concurrent requests as one raw object (group commit), answering each after the put', async () => {
    const collector = make({ FERRY_BATCH_WINDOW_MS: '50' });
    const bodies = ['ios-two-events', 'web-quoted-values', 'android-env-number'].map((n) => fixtureBytes(`collections/${n}.json`));
    const responses = await Promise.all(bodies.map((b) => collector.handle(request('json', b))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await listKeys(store, 'raw/')).toHaveLength(1);
    expect(await readRawLines(store)).toHaveLength(3);
  });

  it.each([[1, 1], [2, 2], [undefined, 4]])('keeps at most the store\'s parallelPuts (%s) batches under way (max %s), the rest gathering behind', async (parallelPuts, expected) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let active = 0;
    let most = 0;
    const gated: BlobStore = {
      ...withPut(store, async (k, b, m) => {
        most = Math.max(most, ++active);
        await gate;
        active--;
        return store.put(k, b, m);
      }),
      parallelPuts,
    };
    // A window long enough that no batch is written for waiting too long.
    const collector = make({ FERRY_BATCH_WINDOW_MS: '60000' }, { store: gated });
    const body = fixtureBytes('collections/ios-two-events.json');
    const answers: Promise<HttpResponseMessage>[] = [];
    for (let i = 0; i < 8; i++) {
      answers.push(collector.handle(request('json', body)));
      await new Promise((r) => setImmediate(r)); // each request in its own turn: its own batch if a write slot is free
    }
    await new Promise((r) => setTimeout(r, 200)); // every started batch is through gzip and into put
    expect(most).toBe(expected);
    release();
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(await readRawLines(store)).toHaveLength(8);
  });

  it('answers 503 with Retry-After to every request of a failed write, storing nothing', async () => {
    let fail = true;
    const flaky = withPut(store, (key, body, meta) => (fail ? Promise.reject(new Error('disk on fire')) : store.put(key, body, meta)));
    const collector = make({ FERRY_BATCH_WINDOW_MS: '20' }, { store: flaky });
    const body = fixtureBytes('collections/ios-two-events.json');
    const failed = await Promise.all([collector.handle(request('json', body)), collector.handle(request('json', body))]);
    expect(failed.map((r) => [r.status, r.headers['retry-after']])).toEqual([[503, '5'], [503, '5']]);
    expect(JSON.parse(failed[0]!.body).error).toMatch(/retry later/);
    expect((await collector.handle({ ...request('json', body), method: 'GET', path: '/api/ready' })).status).toBe(503);
    expect(await listKeys(store, 'raw/')).toEqual([]);
    expect(collector.pendingBytes).toBe(0);
    fail = false;
    expect((await collector.handle(request('json', body))).status).toBe(200);
    expect((await collector.handle({ ...request('json', body), method: 'GET', path: '/api/ready' })).status).toBe(200);
  });

  it('under steady load through a store outage: 503s while it fails, memory within its bound, and exactly the acknowledged requests stored', async () => {
    let failing = false;
    const flaky = withPut(store, async (key, body, meta) => {
      await new Promise((r) => setTimeout(r, 2)); // a put takes a moment, so batches overlap the outage's edges
      if (failing) throw new Error('503 Slow Down');
      return store.put(key, body, meta);
    });
    const maxPending = 64 * 1024;
    const collector = make({ FERRY_BATCH_WINDOW_MS: '1', FERRY_MAX_PENDING_BYTES: String(maxPending) }, { store: flaky });
    // Each request carries its own payload numbers, so what was stored can be matched to what was acknowledged.
    const send = async (n: number) => {
      const c = ios() as { payloads: { nr: number }[] };
      c.payloads.forEach((p, i) => (p.nr = n * 10 + i));
      return { n, response: await collector.handle(request('json', Buffer.from(JSON.stringify(c)))) };
    };
    const acknowledged = new Set<number>();
    const statuses: number[] = [];
    let peakPending = 0;
    let next = 0;
    const client = async (until: () => boolean) => {
      while (!until()) {
        const { n, response } = await send(next++);
        statuses.push(response.status);
        if (response.status === 200) acknowledged.add(n);
        else expect([response.status, response.headers['retry-after']]).toEqual([503, '5']);
        peakPending = Math.max(peakPending, collector.pendingBytes);
      }
    };
    const phase = (ms: number) => {
      const end = Date.now() + ms;
      return Promise.all(Array.from({ length: 20 }, () => client(() => Date.now() >= end)));
    };
    await phase(150);
    const before = acknowledged.size;
    failing = true;
    await phase(200);
    const during = statuses.filter((s) => s === 503).length;
    failing = false;
    await phase(150);
    expect(before).toBeGreaterThan(0);
    expect(during).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThan(before); // service resumed
    expect(peakPending).toBeLessThanOrEqual(maxPending);
    expect(collector.pendingBytes).toBe(0);
    const stored = (await readRawLines(store)).map((line) => {
      const nrs = (line.collection as { payloads: { nr: string | number }[] }).payloads.map((p) => Number(p.nr));
      expect(nrs[1]).toBe(nrs[0]! + 1); // whole collections only
      return Math.floor(nrs[0]! / 10);
    });
    expect(stored.length).toBe(new Set(stored).size);
    expect(new Set(stored)).toEqual(acknowledged);
  });

  it('refuses with 503 past its memory bound instead of queueing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = withPut(store, async (k, b, m) => {
      await gate;
      return store.put(k, b, m);
    });
    const collector = make({ FERRY_MAX_PENDING_BYTES: '65536', FERRY_BATCH_WINDOW_MS: '0' }, { store: slow });
    const body = fixtureBytes('collections/ios-two-events.json');
    const accepted = [];
    let refused;
    for (let i = 0; i < 200 && !refused; i++) {
      const pending = collector.handle(request('json', body));
      const early = await Promise.race([pending, new Promise((r) => setTimeout(() => r(undefined), 2))]);
      if (early && (early as { status: number }).status === 503) refused = early as { status: number; body: string };
      else accepted.push(pending);
    }
    expect(refused?.status).toBe(503);
    expect(JSON.parse(refused!.body).error).toMatch(/too many events waiting/);
    expect(collector.pendingBytes).toBeLessThanOrEqual(65536);
    release();
    expect((await Promise.all(accepted)).every((r) => r.status === 200)).toBe(true);
    expect(await readRawLines(store)).toHaveLength(accepted.length);
  });

  it('on close: answers 503 to new requests and stores what it accepted', async () => {
    const collector = make({ FERRY_BATCH_WINDOW_MS: '1000' });
    const inFlight = collector.handle(request('json', fixtureBytes('collections/ios-two-events.json')));
    await new Promise((r) => setImmediate(r));
    const closed = collector.close();
    expect((await collector.handle(request('json', fixtureBytes('collections/ios-two-events.json')))).status).toBe(503);
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(await readRawLines(store)).toHaveLength(1);
  });

  describe('text no warehouse can store', () => {
    /** A logger that keeps its info lines. */
    const recording = () => {
      const lines: [string, Record<string, unknown> | undefined][] = [];
      return { lines, logger: { ...silentLogger, info: (msg: string, fields?: Record<string, unknown>) => lines.push([msg, fields]) } };
    };
    /** `bytes` with the first occurrence of the ASCII `marker` overwritten by `raw` (same length, so protobuf lengths stay right). */
    const patched = (bytes: Uint8Array, marker: string, raw: number[]) => {
      const out = Buffer.from(bytes);
      const at = out.indexOf(marker);
      expect(at).toBeGreaterThanOrEqual(0);
      Buffer.from(raw).copy(out, at);
      return out;
    };
    const withParameter = (index: number, name: string, value: string) => {
      const c = ios() as { payloads: { parameters: { name: string; value: string }[] }[] };
      c.payloads[0]!.parameters[index] = { name, value };
      return c as unknown as Record<string, unknown>;
    };
    // The JSON bodies as a client writes them: the escapes are in the body's text.
    const jsonBody = (c: Record<string, unknown>) => Buffer.from(JSON.stringify(c).replaceAll('<NUL>', '\\u0000').replaceAll('<D800>', '\\ud800'));

    it.each([
      ['JSON, a NUL in a parameter value', () => request('json', jsonBody(withParameter(1, 'title', 'quick<NUL>add'))), 'payloads[0].parameters[1].value', { name: 'title', value: 'quick\uFFFDadd' }],
      ['JSON, a lone surrogate in a parameter value', () => request('json', jsonBody(withParameter(1, 'title', '<D800>x'))), 'payloads[0].parameters[1].value', { name: 'title', value: '\uFFFDx' }],
      ['JSON, a NUL in a parameter name', () => request('json', jsonBody(withParameter(0, 'n<NUL>m', 'v'))), 'payloads[0].parameters[0].name', { name: 'n\uFFFDm', value: 'v' }],
      ['protobuf, a NUL in a parameter name', () => request('protobuf', patched(encode('protobuf', withParameter(0, 'n#m', 'v')), 'n#m', [0x6e, 0x00, 0x6d])), 'payloads[0].parameters[0].name', { name: 'n\uFFFDm', value: 'v' }],
      ['protobuf, invalid UTF-8 in a parameter value', () => request('protobuf', patched(encode('protobuf', withParameter(1, 'title', 'a#b')), 'a#b', [0x61, 0xff, 0x62])), 'payloads[0].parameters[1].value', { name: 'title', value: 'a\uFFFDb' }],
      ['protobuf, an encoded lone surrogate in a parameter value', () => request('protobuf', patched(encode('protobuf', withParameter(1, 'title', '###x')), '###x', [0xed, 0xa0, 0x80])), 'payloads[0].parameters[1].value', { name: 'title', value: '\uFFFD\uFFFD\uFFFDx' }],
    ])('%s: stored with U+FFFD, counted in the answer, the raw line and one log line', async (_label, makeRequest, field, parameter) => {
      const { lines, logger } = recording();
      const response = await make({}, { logger }).handle(makeRequest());
      expect([response.status, JSON.parse(response.body)]).toEqual([200, { stored: 2, replaced: 1 }]);
      const [line] = await readRawLines(store);
      expect(line!.replaced).toBe(1);
      const payloads = (line!.collection as { payloads: { parameters: { name: string; value: string }[] }[] }).payloads;
      expect(payloads[0]!.parameters).toContainEqual(parameter);
      expect(lines).toEqual([['stored with characters no warehouse can store replaced by U+FFFD', { request_id: line!.request_id, session: ios().session, replaced: 1, fields: [field] }]]);
    });

    it.each(['json', 'protobuf'] as const)('%s: a device_id with a NUL keeps the session the client computed over it', async (encoding) => {
      const c = Object.assign(fixtureJson<Record<string, string>>('collections/ios-two-events.json'), { device_id: 'dev#ce' });
      const sent = Buffer.from('dev\u0000ce');
      c.session = createHash('md5').update(Buffer.concat([sent, Buffer.from(`:${c.client_id}:${c.system_version}:${c.product_version}:0`)])).digest('hex');
      const body = encoding === 'json' ? Buffer.from(JSON.stringify(c).replace('dev#ce', 'dev\\u0000ce')) : patched(encode('protobuf', c), 'dev#ce', [...sent]);
      const response = await make({}).handle(request(encoding, body));
      expect([response.status, JSON.parse(response.body)]).toEqual([200, { stored: 2, replaced: 1 }]);
      expect(((await readRawLines(store))[0]!.collection as Record<string, unknown>).device_id).toBe('dev\uFFFDce');
    });

    it('protobuf: a device_id that is not UTF-8 keeps the session the client computed over its bytes', async () => {
      const c = Object.assign(fixtureJson<Record<string, string>>('collections/ios-two-events.json'), { device_id: 'd#' });
      c.session = createHash('md5').update(Buffer.concat([Buffer.from([0x64, 0xfe]), Buffer.from(`:${c.client_id}:${c.system_version}:${c.product_version}:0`)])).digest('hex');
      const response = await make({}).handle(request('protobuf', patched(encode('protobuf', c), 'd#', [0x64, 0xfe])));
      expect([response.status, JSON.parse(response.body)]).toEqual([200, { stored: 2, replaced: 1 }]);
    });

    it('answers {"stored":n} alone, and writes no count, when nothing was replaced (emoji included)', async () => {
      const { lines, logger } = recording();
      const response = await make({}, { logger }).handle(request('json', Buffer.from(JSON.stringify(withParameter(0, 'emoji', '😀 ok')))));
      expect(response.body).toBe('{"stored":2}');
      expect((await readRawLines(store))[0]).not.toHaveProperty('replaced');
      expect(lines).toEqual([]);
    });
  });

  describe('accepts only what the parser can turn into rows', () => {
    /** A protobuf body: the collection's own fields, then one payload written field by field (a Collection is the concatenation of its fields). */
    const protobufWith = (payload: (w: BinaryWriter) => void) => {
      const w = new BinaryWriter();
      w.tag(15, WireType.LengthDelimited).fork();
      payload(w);
      w.join();
      return Buffer.concat([encode('protobuf', { ...ios(), payloads: [] }), w.finish()]);
    };
    const valid = (w: BinaryWriter) => w.tag(1, WireType.Varint).uint64(1700000000n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint32(1);

    it.each([
      ['JSON, at beyond year 9999 in the second payload → 400', () => request('json', Buffer.from(JSON.stringify({ ...ios(), payloads: [{ at: 1700000000, event: 'e', nr: 1 }, { at: 253402300800, event: 'e', nr: 2 }] }))), 400, 'payloads[1].at: 253402300800 is beyond year 9999'],
      ['JSON, at of 2^64 - 1 → 400', () => request('json', Buffer.from(JSON.stringify({ ...ios(), payloads: [{ at: '18446744073709551615', event: 'e', nr: 1 }] }))), 400, 'payloads[0].at: 18446744073709551615 is beyond year 9999'],
      ['protobuf, at of 2^64 - 1 → 400', () => request('protobuf', encode('protobuf', { ...ios(), payloads: [{ at: '1700000000', event: 'e', nr: 1 }, { at: '18446744073709551615', event: 'e', nr: 2 }] })), 400, 'payloads[1].at: 18446744073709551615 is beyond year 9999'],
      ['protobuf, at of -1 (the same varint) → 400', () => request('protobuf', protobufWith((w) => w.tag(1, WireType.Varint).int64(-1n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint32(1))), 400, 'payloads[0].at: 18446744073709551615 is beyond year 9999'],
      ['protobuf, nr of 2^32 (would wrap to 0) → 400', () => request('protobuf', protobufWith((w) => w.tag(1, WireType.Varint).uint64(1700000000n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint64(2n ** 32n))), 400, 'payloads[0].nr: must be between 0 and 4294967295'],
      ['protobuf, nr of -1 (would become 4294967295) → 400', () => request('protobuf', protobufWith((w) => w.tag(1, WireType.Varint).uint64(1700000000n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).int32(-1))), 400, 'payloads[0].nr: must be between 0 and 4294967295'],
      ['JSON, nr of -1 → 400', () => request('json', Buffer.from(JSON.stringify({ ...ios(), payloads: [{ at: 1700000000, event: 'e', nr: -1 }] }))), 400, 'payloads[0].nr: must be between 0 and 4294967295'],
      ['protobuf, a valid payload after the collection fields → 200', () => request('protobuf', protobufWith(valid)), 200, null],
    ])('%s', async (_label, makeRequest, status, reason) => {
      const response = await make({}).handle(makeRequest());
      expect(response.status).toBe(status);
      if (reason !== null) expect(JSON.parse(response.body)).toEqual({ error: reason });
      expect(await listKeys(store, 'raw/')).toHaveLength(status === 200 ? 1 : 0);
    });

    it('refuses with 413 a collection whose raw line the parser would reject as too long', async () => {
      // 1,000 control characters are 1,000 protobuf bytes but 6,000 bytes of JSON escapes.
      const body = encode('protobuf', withControlCharacters(1000));
      expect(body.byteLength).toBeLessThan(4096);
      const response = await make({ FERRY_MAX_LINE_BYTES: '4096' }).handle(request('protobuf', body));
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body).error).toMatch(/^collection stored as a JSON line of \d+ bytes exceeds FERRY_MAX_LINE_BYTES=4096$/);
      expect(await listKeys(store, 'raw/')).toEqual([]);
      expect((await make({ FERRY_MAX_LINE_BYTES: '65536' }).handle(request('protobuf', body))).status).toBe(200);
    });

    it('takes an X-Hamustro-Time past year 9999 for no time: unsigned it is stored without sent_at, signed it is refused', async () => {
      const body = encode('json', ios());
      expect((await make({}).handle(request('json', body, { 'x-hamustro-time': '999999999999' }))).status).toBe(200);
      expect((await readRawLines(store))[0]!.sent_at).toBeNull();
      const signedLate = await make({ FERRY_SHARED_SECRET: secret, FERRY_REPLAY_WINDOW_S: '0' }).handle(request('json', body, signed(body, '999999999999')));
      expect([signedLate.status, JSON.parse(signedLate.body).error]).toEqual([401, 'X-Hamustro-Time must be epoch seconds (up to year 9999)']);
    });
  });

  it('answers health and route errors', async () => {
    const collector = make({});
    expect(await collector.handle({ method: 'GET', path: '/api/health', headers: {}, body: new Uint8Array() })).toMatchObject({ status: 200, body: '{"up":true}' });
    expect((await collector.handle({ method: 'GET', path: '/nope', headers: {}, body: new Uint8Array() })).status).toBe(404);
  });
});
