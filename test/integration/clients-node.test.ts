import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryClient, memoryStorage, type DropReason, type FerryClientOptions, type Payload, type RetryInfo } from '../../clients/js/src/index.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { ferryQuery, waitFor } from '../support/ferry-query.js';

const secret = 'client-test-secret';

/** What one client did: requests it made (through the real fetch) and what it reported. */
function recorder() {
  const requests: { headers: Record<string, string>; bytes: number }[] = [];
  const sent: { nrs: number[]; status: number }[] = [];
  const dropped: { nrs: number[]; reason: DropReason }[] = [];
  const retries: RetryInfo[] = [];
  const options: Partial<FerryClientOptions> = {
    fetch: async (input, init) => {
      requests.push({ headers: { ...(init?.headers as Record<string, string>) }, bytes: (init?.body as Uint8Array).byteLength });
      return fetch(input, init);
    },
    onSent: (payloads: Payload[], status: number) => sent.push({ nrs: payloads.map((p) => p.nr), status }),
    onDrop: (payloads: Payload[], reason: DropReason) => dropped.push({ nrs: payloads.map((p) => p.nr), reason }),
    onRetry: (_payloads: Payload[], retry: RetryInfo) => retries.push(retry),
  };
  return { requests, sent, dropped, retries, options };
}

let clients = 0;
/** A client of its own session (a fresh product version), so tests do not share sequences. */
function client(url: string, options: Partial<FerryClientOptions> = {}): FerryClient {
  return new FerryClient({ url, clientId: 'node-test', systemVersion: process.version, productVersion: `1.0.${++clients}`, env: 'DEVELOPMENT', storage: memoryStorage(), ...options });
}

/**
 * A collector in front of the real one that fails the first requests as scripted — 503 with a
 * Retry-After, or a dropped connection — then forwards, as a load balancer in trouble would.
 */
async function flakyProxy(target: string, script: ('503' | '503-retry-after-1' | 'reset')[]): Promise<{ url: string; server: Server; seen: number[] }> {
  const seen: number[] = [];
  const server = createServer((req, res) => {
    seen.push(Date.now());
    const step = script.shift();
    if (step === 'reset') return req.socket.destroy();
    if (step !== undefined) {
      res.writeHead(503, { 'content-type': 'application/json', ...(step === '503-retry-after-1' ? { 'retry-after': '1' } : {}) });
      return res.end('{"error":"object store unavailable"}');
    }
    const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

describe('the JS client (clients/js) in Node against ferry serve', () => {
  let dir: string;
  let ferry: FerryProcess;
  let env: Record<string, string>;
  const servers: Server[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-client-'));
    // Signatures optional: unsigned requests pass, a signed one is verified.
    env = { FERRY_DATA_DIR: dir, FERRY_LOAD_INTERVAL_S: '1', FERRY_LOG_LEVEL: 'error', FERRY_SHARED_SECRET: secret, FERRY_SIGNATURE: 'optional' };
    ferry = await startFerry(env);
  }, 90_000);
  afterAll(async () => {
    for (const server of servers) server.close();
    if (ferry) {
      ferry.child.kill('SIGTERM');
      await new Promise((done) => ferry.child.once('exit', done));
    }
    await rm(dir, { recursive: true, force: true });
  });

  const eventsOf = (session: string) => ferryQuery(env, `select nr::int as nr, event, parameters, user_id, timezone from ferry.events where session = '${session}' order by nr`);
  const loaded = (session: string, count: number) => waitFor(() => {
    const rows = eventsOf(session);
    return rows.length >= count ? rows : undefined;
  }, `${count} events of session ${session} in the warehouse`);

  it('sends tracked events as one collection of its session, signed and gzip\'d, and they arrive in the warehouse with nr 1, 2, 3', async () => {
    const r = recorder();
    const c = client(ferry.url, { ...r.options, sharedSecret: secret });
    const big = 'x'.repeat(600);
    c.track('Task.Create', { list_id: 'lst-1', note: big }, { userId: 'u-1', timezone: 'Europe/Berlin' });
    c.track('Task.Complete', [{ name: 'source', value: 'swipe' }, { name: 'source', value: 'swipe-right' }], { userId: 'u-1', timezone: 'Europe/Berlin' });
    c.track('App.Close', { seconds: 42, pinned: true, skipped: undefined }, { userId: 'u-1', timezone: 'Europe/Berlin' });
    await c.close();
    expect(r.sent).toEqual([{ nrs: [1, 2, 3], status: 200 }]);
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-hamustro-time': expect.stringMatching(/^\d{10}$/), 'x-hamustro-signature': expect.any(String) });
    expect(await loaded(c.session, 3)).toEqual([
      { nr: 1, event: 'Task.Create', parameters: { list_id: 'lst-1', note: big }, user_id: 'u-1', timezone: 'Europe/Berlin' },
      { nr: 2, event: 'Task.Complete', parameters: { source: expect.stringContaining('swipe') }, user_id: 'u-1', timezone: 'Europe/Berlin' },
      { nr: 3, event: 'App.Close', parameters: { seconds: '42', pinned: 'true' }, user_id: 'u-1', timezone: 'Europe/Berlin' },
    ]);
  });

  it('continues a session\'s nr sequence across client restarts (kept in storage) and starts a new one for a new session', async () => {
    const storage = memoryStorage();
    const options = { url: ferry.url, clientId: 'node-test', systemVersion: process.version, productVersion: '2.0.0', deviceId: 'device-restart', storage };
    const first = new FerryClient(options);
    expect([first.track('A').nr, first.track('B').nr]).toEqual([1, 2]);
    await first.close();
    const restarted = new FerryClient(options);
    expect(restarted.session).toBe(first.session);
    expect(restarted.track('C').nr).toBe(3);
    await restarted.close();
    const upgraded = new FerryClient({ ...options, productVersion: '2.0.1' });
    expect(upgraded.session).not.toBe(first.session);
    expect(upgraded.track('D').nr).toBe(1);
    await upgraded.close();
    expect((await loaded(first.session, 3)).map((row) => [row.nr, row.event])).toEqual([[1, 'A'], [2, 'B'], [3, 'C']]);
  });

  it('batches by count, by size and by time', async () => {
    const byCount = recorder();
    const counted = client(ferry.url, { ...byCount.options, maxBatchEvents: 2, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) counted.track(`Count.${i}`);
    await counted.flush();
    expect(byCount.sent.map((s) => s.nrs)).toEqual([[1, 2], [3, 4], [5]]);

    const bySize = recorder();
    const sized = client(ferry.url, { ...bySize.options, maxBatchBytes: 1500, flushIntervalMs: 60_000 });
    for (let i = 0; i < 4; i++) sized.track('Size', { blob: 'y'.repeat(600) });
    await sized.flush();
    expect(bySize.sent.map((s) => s.nrs)).toEqual([[1, 2], [3, 4]]);

    const byTime = recorder();
    const timed = client(ferry.url, { ...byTime.options, flushIntervalMs: 50 });
    timed.track('Timed.1');
    timed.track('Timed.2');
    expect(byTime.requests).toHaveLength(0);
    // No flush call: the interval sends them.
    await waitFor(() => (byTime.sent.length > 0 ? true : undefined), 'the timed batch', 10_000);
    expect(byTime.sent).toEqual([{ nrs: [1, 2], status: 200 }]);
    await loaded(timed.session, 2);
  });

  it('drops a batch the collector refuses (4xx) with the reason, goes on with the next, and drops an event over a limit before sending it', async () => {
    const r = recorder();
    // A client that does not check field lengths, to get the collector's 413.
    const loose = client(ferry.url, { ...r.options, maxFieldBytes: 1_000_000 });
    loose.track('Too.Long', { text: 'z'.repeat(9000) });
    await loose.flush();
    loose.track('Fine');
    await loose.flush();
    expect(r.dropped).toEqual([{ nrs: [1], reason: { status: 413, error: expect.stringContaining('FERRY_MAX_FIELD_BYTES') } }]);
    expect(r.sent).toEqual([{ nrs: [2], status: 200 }]);
    expect(r.retries).toEqual([]);

    const wrong = recorder();
    const badSecret = client(ferry.url, { ...wrong.options, sharedSecret: 'not-the-secret' });
    badSecret.track('Signed.Wrong');
    await badSecret.flush();
    expect(wrong.dropped).toEqual([{ nrs: [1], reason: { status: 401, error: 'X-Hamustro-Signature does not match' } }]);

    const strict = recorder();
    const checked = client(ferry.url, strict.options);
    checked.track('Too.Long', { text: 'z'.repeat(9000) });
    checked.track('Fine');
    await checked.flush();
    expect(strict.dropped).toEqual([{ nrs: [1], reason: { error: 'event Too.Long: parameters[0].value is longer than 8192 bytes' } }]);
    expect(strict.sent).toEqual([{ nrs: [2], status: 200 }]);
    expect((await loaded(checked.session, 1)).map((row) => row.event)).toEqual(['Fine']);
  });

  it('retries a 503 after its Retry-After and a dropped connection with backoff and jitter, then delivers once', async () => {
    const proxy = await flakyProxy(ferry.url, ['503-retry-after-1', 'reset']);
    servers.push(proxy.server);
    const r = recorder();
    const c = client(proxy.url, { ...r.options, retryBaseMs: 100 });
    c.track('Retried.1');
    c.track('Retried.2');
    await c.flush();
    expect(r.retries).toEqual([
      { attempt: 1, status: 503, error: 'object store unavailable', delayMs: expect.any(Number) },
      { attempt: 2, error: expect.stringMatching(/^network error/), delayMs: expect.any(Number) },
    ]);
    // Retry-After: 1 plus up to 20 % jitter; the second wait is the backoff for attempt 2 (200 ms), half of it random.
    expect(r.retries[0]!.delayMs).toBeGreaterThanOrEqual(1000);
    expect(r.retries[0]!.delayMs).toBeLessThanOrEqual(1200);
    expect(r.retries[1]!.delayMs).toBeGreaterThanOrEqual(100);
    expect(r.retries[1]!.delayMs).toBeLessThanOrEqual(200);
    expect(proxy.seen[1]! - proxy.seen[0]!).toBeGreaterThanOrEqual(1000);
    expect(r.sent).toEqual([{ nrs: [1, 2], status: 200 }]);
    expect(r.dropped).toEqual([]);
    expect((await loaded(c.session, 2)).map((row) => row.nr)).toEqual([1, 2]);
  });

  it('gives up after maxAttempts and reports the batch dropped with the last reason', async () => {
    const proxy = await flakyProxy(ferry.url, ['503', '503', '503']);
    servers.push(proxy.server);
    const r = recorder();
    const c = client(proxy.url, { ...r.options, maxAttempts: 3, retryBaseMs: 10 });
    c.track('Never');
    await c.flush();
    expect(r.retries.map((x) => x.attempt)).toEqual([1, 2]);
    expect(r.dropped).toEqual([{ nrs: [1], reason: { status: 503, error: 'gave up after 3 attempts: object store unavailable' } }]);
    expect(proxy.seen).toHaveLength(3);
  });
});
