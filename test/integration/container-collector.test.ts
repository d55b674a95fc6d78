import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { hamustroSignature } from '../../core/collector/signature.js';
import { sessionId } from '../../core/collector/session.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { handler as awsHttp } from '../../functions/aws/http.js';
import { handler as awsLoad } from '../../functions/aws/load.js';
import { handler as awsParse } from '../../functions/aws/parse-queue.js';
import { resetAwsHost } from '../../functions/aws/aws-host.js';
import { fixtureJson, repoPath } from '../support/fixtures.js';
import { ferryArgs } from '../support/ferry-process.js';
import { sqsDelivery } from '../support/platform-events.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { startAzurite, startS3 } from '../support/storage-emulators.js';
import { collect, readObject } from '../support/streams.js';
import { switchableProxy } from '../support/tcp-proxy.js';

const secret = 'container-secret';

/** `ferry serve --only collector` as a container runs it, writing to `storeUrl`. */
async function startCollector(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output(): string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ferryArgs('serve', '--only', 'collector'), {
    env: { PATH: process.env.PATH, PORT: '0', FERRY_LOG_LEVEL: 'warn', FERRY_SHARED_SECRET: secret, FERRY_BATCH_WINDOW_MS: '20', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${output}`)), 30_000);
    child.stdout!.on('data', () => {
      const match = /collecting on (http:\/\/[^/]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`collector exited with ${code}: ${output}`)));
  });
  return { child, url, output: () => output, exited };
}

/** A signed Hamustro collection of `count` events for one device. */
function signedRequest(device: string, firstNr: number, count: number, padBytes = 0): { body: Buffer; headers: Record<string, string> } {
  const c = { ...fixtureJson<Record<string, unknown>>('collections/ios-two-events.json'), device_id: device } as Parameters<typeof sessionId>[0] & Record<string, unknown>;
  c.session = sessionId({ ...c, env: 0 });
  const pad = padBytes > 0 ? [{ name: 'note', value: 'n'.repeat(padBytes) }] : [];
  c.payloads = Array.from({ length: count }, (_, i) => ({ at: 1795420000 + firstNr + i, event: 'Task.Create', nr: firstNr + i, parameters: [{ name: 'i', value: String(i) }, ...pad] }));
  const body = Buffer.from(JSON.stringify(c));
  const time = String(Math.floor(Date.now() / 1000));
  return { body, headers: { 'content-type': 'application/json', 'x-hamustro-time': time, 'x-hamustro-signature': hamustroSignature(time, body, secret) } };
}

async function post(url: string, request: { body: Buffer; headers: Record<string, string> }): Promise<number> {
  const response = await fetch(`${url}/api/v1/track`, { method: 'POST', headers: request.headers, body: new Uint8Array(request.body) });
  await response.arrayBuffer();
  return response.status;
}

/** Resident memory of a process now, in bytes (Linux `VmRSS`). */
async function rss(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}


/** Sends `total` requests (1–3 events each) over `concurrency` connections; answers the acknowledged `device/nr` events. */
async function drive(url: string, total: number, concurrency: number, prefix: string, stopWhen?: () => boolean): Promise<{ acknowledged: Set<string>; statuses: number[] }> {
  const acknowledged = new Set<string>();
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && !stopWhen?.()) {
        const i = next++;
        const count = 1 + (i % 3);
        try {
          const status = await post(url, signedRequest(`${prefix}-${i}`, 1, count));
          statuses.push(status);
          if (status === 200) for (let nr = 1; nr <= count; nr++) acknowledged.add(`${prefix}-${i}/${nr}`);
        } catch {
          statuses.push(0); // the connection went away: not acknowledged
        }
      }
    }),
  );
  return { acknowledged, statuses };
}

/**
 * Every event in the store's raw objects, as `device/nr`, with how many times each is there.
 * `truncated`: s3rver keeps what arrived of a PUT whose connection was cut (S3 stores nothing
 * unless the whole body arrived); with it, such objects are counted instead of read — their
 * batches were answered 503, so none of their events was acknowledged.
 */
async function storedEvents(store: BlobStore, truncated?: { count: number }): Promise<{ objects: number; events: Map<string, number> }> {
  const events = new Map<string, number>();
  const raw = await collect(store.list('raw/events/'));
  for (const info of raw) {
    let text: string;
    try {
      text = gunzipSync(await readObject(store, info.key)).toString('utf8');
    } catch (err) {
      if (!truncated) throw err;
      truncated.count++;
      continue;
    }
    for (const line of text.split('\n').filter(Boolean)) {
      const { collection } = JSON.parse(line) as { collection: { device_id: string; payloads: { nr: number }[] } };
      for (const p of collection.payloads) events.set(`${collection.device_id}/${p.nr}`, (events.get(`${collection.device_id}/${p.nr}`) ?? 0) + 1);
    }
  }
  return { objects: raw.length, events };
}

describe('ferry serve --only collector in front of a cloud store', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let azurite: Awaited<ReturnType<typeof startAzurite>>;
  const schema = uniqueSchema('container');
  const lambdaSchema = uniqueSchema('container_lambda');
  const saved = { ...process.env };
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    [s3, azurite] = await Promise.all([startS3(), startAzurite()]);
  }, 60_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    process.env = saved;
    await resetAwsHost();
    await Promise.all([s3?.stop(), azurite?.stop()]);
    await dropSchema(schema);
    await dropSchema(lambdaSchema);
  });

  it('on S3: 1,000 signed requests at concurrency 32 are all stored once in far fewer objects, and the cloud parser and loader load the rows the Lambda chain loads for them', { timeout: 240_000 }, async () => {
    const { bucket, config } = await s3.fresh();
    const s3Env = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', FERRY_S3_ENDPOINT: config!.endpoint as string };
    const collector = await startCollector({ FERRY_STORE_URL: `s3://${bucket}`, ...s3Env });
    children.push(collector.child);
    const { acknowledged, statuses } = await drive(collector.url, 1000, 32, 's3');
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);

    const store = new S3BlobStore({ bucket, client: config });
    const { objects, events } = await storedEvents(store);
    expect(objects).toBeLessThan(500); // group commit: many requests per object (at least two on average)
    expect([...events.keys()].sort()).toEqual([...acknowledged].sort());
    expect([...events.values()].every((n) => n === 1)).toBe(true);

    // Downstream, nothing changes: the queue parser and the timer load them as they would the Lambda collector's.
    Object.assign(process.env, s3Env, { FERRY_S3_BUCKET: bucket, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_RULES: repoPath('docs/rules/api-nginx.yml'), FERRY_LOG_LEVEL: 'error' });
    await resetAwsHost();
    const raw = await collect(store.list('raw/events/'));
    expect(await awsParse(sqsDelivery(raw), { getRemainingTimeInMillis: () => 300_000 })).toEqual({ batchItemFailures: [] });
    await awsLoad({ ...fixtureJson('aws/eventbridge-scheduled.json'), time: new Date().toISOString() } as Parameters<typeof awsLoad>[0]);
    store.client.destroy();

    // The Lambda chain, for the same requests: its collector in front of another bucket, the same parser and loader.
    const lambda = await s3.fresh();
    Object.assign(process.env, { FERRY_S3_BUCKET: lambda.bucket, FERRY_WAREHOUSE_SCHEMA: lambdaSchema });
    await resetAwsHost();
    const template = fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-json.json');
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < 1000) {
          const i = next++;
          const { body, headers } = signedRequest(`s3-${i}`, 1, 1 + (i % 3));
          const event = { ...template, headers: { ...template.headers, ...headers, 'content-length': String(body.length) }, body: body.toString('base64'), isBase64Encoded: true };
          expect((await awsHttp(event)).statusCode).toBe(200);
        }
      }),
    );
    const lambdaStore = new S3BlobStore({ bucket: lambda.bucket, client: lambda.config });
    expect(await awsParse(sqsDelivery(await collect(lambdaStore.list('raw/events/'))), { getRemainingTimeInMillis: () => 300_000 })).toEqual({ batchItemFailures: [] });
    await awsLoad({ ...fixtureJson('aws/eventbridge-scheduled.json'), time: new Date().toISOString() } as Parameters<typeof awsLoad>[0]);
    lambdaStore.client.destroy();

    // The same rows, but for what each host saw itself: when it received them, from which address, into which object.
    const db = new pg.Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    try {
      const sent = "to_jsonb(e) - 'received_at' - 'sent_at' - 'clock_skew_s' - 'at_corrected' - 'ip' - 'source_key'";
      const rows = async (s: string) => (await db.query<{ row: string }>(`SELECT (${sent})::text AS row FROM "${s}".events e ORDER BY 1`)).rows.map((r) => r.row);
      const container = await rows(schema);
      expect(container).toHaveLength([...acknowledged].length);
      expect(container).toEqual(await rows(lambdaSchema));
      const keys = await db.query<{ key: string }>(`SELECT device_id || '/' || nr AS key FROM "${schema}".events`);
      expect(keys.rows.map((r) => r.key).sort()).toEqual([...acknowledged].sort());
    } finally {
      await db.end();
    }
  });

  it('on Azure Blob: 1,000 signed requests at concurrency 32 are all stored once, batched', { timeout: 120_000 }, async () => {
    const container = await azurite.fresh();
    const collector = await startCollector({ FERRY_STORE_URL: container.url, FERRY_AZURE_STORAGE_CONNECTION_STRING: azurite.connection });
    children.push(collector.child);
    const { acknowledged, statuses } = await drive(collector.url, 1000, 32, 'az');
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
    const { objects, events } = await storedEvents(new AzureBlobStore({ container }));
    expect(objects).toBeLessThan(500);
    expect([...events.keys()].sort()).toEqual([...acknowledged].sort());
    expect([...events.values()].every((n) => n === 1)).toBe(true);
  });

  it('after kill -9 under load, every acknowledged request is in the bucket', { timeout: 120_000 }, async () => {
    const { bucket, config } = await s3.fresh();
    const collector = await startCollector({ FERRY_STORE_URL: `s3://${bucket}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', FERRY_S3_ENDPOINT: config!.endpoint as string });
    children.push(collector.child);
    let killed = false;
    const run = drive(collector.url, 100_000, 16, 'kill', () => killed);
    const start = Date.now();
    while (Date.now() - start < 1500) await new Promise((r) => setTimeout(r, 50));
    collector.child.kill('SIGKILL');
    killed = true;
    const { acknowledged } = await run;
    await collector.exited;
    expect(acknowledged.size).toBeGreaterThan(0);
    const store = new S3BlobStore({ bucket, client: config });
    const { events } = await storedEvents(store);
    expect([...acknowledged].filter((e) => !events.has(e))).toEqual([]);
    store.client.destroy();
  });

  it('answers 503 with Retry-After once stopping, writes what it accepted, and exits 0', { timeout: 60_000 }, async () => {
    const { bucket, config } = await s3.fresh();
    const collector = await startCollector({ FERRY_STORE_URL: `s3://${bucket}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', FERRY_S3_ENDPOINT: config!.endpoint as string });
    children.push(collector.child);
    expect(await post(collector.url, signedRequest('stop-before', 1, 1))).toBe(200);
    collector.child.kill('SIGTERM');
    // Until it exits, every request is either taken (and then stored) or told to come back.
    const taken: string[] = [];
    for (let i = 0; collector.child.exitCode === null && i < 200; i++) {
      const request = signedRequest(`stop-during-${i}`, 1, 1);
      const response = await fetch(`${collector.url}/api/v1/track`, { method: 'POST', headers: request.headers, body: new Uint8Array(request.body) }).catch(() => undefined);
      if (!response) break;
      await response.arrayBuffer();
      if (response.status === 200) taken.push(`stop-during-${i}/1`);
      else {
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      }
    }
    expect(await collector.exited).toBe(0);
    const store = new S3BlobStore({ bucket, client: config });
    const { events } = await storedEvents(store);
    for (const event of ['stop-before/1', ...taken]) expect(events.has(event)).toBe(true);
    store.client.destroy();
  });

  it('while the store is unreachable, answers 503 with Retry-After holding no more than FERRY_MAX_PENDING_BYTES, takes requests again once it is back, and stores every acknowledged event once', { timeout: 120_000 }, async () => {
    const { bucket, config } = await s3.fresh();
    const proxy = await switchableProxy('127.0.0.1', Number(new URL(config!.endpoint as string).port));
    const maxPending = 64 * 1024;
    const collector = await startCollector({
      FERRY_STORE_URL: `s3://${bucket}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      FERRY_S3_ENDPOINT: `http://127.0.0.1:${proxy.port}`, FERRY_MAX_PENDING_BYTES: String(maxPending),
    });
    children.push(collector.child);

    // Steady load: 48 clients sending ~2 KiB events, so more bytes are in flight than the collector may hold.
    type Phase = 'up' | 'down' | 'back';
    const load = { phase: 'up' as Phase, stop: false };
    const answers: { phase: Phase; status: number; retryAfter: string | null; error?: string }[] = [];
    const acknowledged = new Set<string>();
    let next = 0;
    const clients = Promise.all(
      Array.from({ length: 48 }, async () => {
        while (!load.stop) {
          const i = next++;
          const count = 1 + (i % 3);
          const phase = load.phase;
          const request = signedRequest(`fault-${i}`, 1, count, 2048);
          try {
            const response = await fetch(`${collector.url}/api/v1/track`, { method: 'POST', headers: request.headers, body: new Uint8Array(request.body) });
            const text = await response.text();
            answers.push({ phase, status: response.status, retryAfter: response.headers.get('retry-after'), ...(response.status === 200 ? {} : { error: (JSON.parse(text) as { error: string }).error }) });
            if (response.status === 200) for (let nr = 1; nr <= count; nr++) acknowledged.add(`fault-${i}/${nr}`);
          } catch (err) {
            answers.push({ phase, status: 0, retryAfter: null, error: String(err) });
          }
        }
      }),
    );
    const pid = collector.child.pid!;
    const peakRss = async (ms: number) => {
      let peak = 0;
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) peak = Math.max(peak, await rss(pid));
      return peak;
    };
    const rssUp = await peakRss(2000);
    proxy.up = false;
    load.phase = 'down';
    const rssDown = await peakRss(5000);
    proxy.up = true;
    load.phase = 'back';
    await peakRss(3000);
    load.stop = true;
    await clients;

    // Every refusal is a 503 the client retries, never a lost connection or a 500.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    expect(answers.filter((a) => a.status === 503 && !/^\d+$/.test(a.retryAfter ?? ''))).toEqual([]);
    expect(new Set(answers.filter((a) => a.status === 503).map((a) => a.error))).toEqual(new Set(['could not store the batch; retry later', 'too many events waiting to be stored; retry later']));
    const down = answers.filter((a) => a.phase === 'down');
    expect(down.filter((a) => a.status === 503).length).toBeGreaterThan(down.length / 2);
    // Bounded: past FERRY_MAX_PENDING_BYTES new requests are refused rather than held, so while
    // the clients send many times that bound its resident memory stays where it was.
    expect(down.filter((a) => a.error === 'too many events waiting to be stored; retry later').length).toBeGreaterThan(0);
    expect(down.reduce((sum, a, i) => sum + 2048 * (1 + (i % 3)), 0)).toBeGreaterThan(50 * maxPending);
    expect(rssDown - rssUp).toBeLessThan(32 * 1024 * 1024);
    // Service resumes.
    expect(answers.filter((a) => a.phase === 'back' && a.status === 200).length).toBeGreaterThan(0);
    expect(await post(collector.url, signedRequest('fault-after', 1, 1))).toBe(200);
    acknowledged.add('fault-after/1');

    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
    await proxy.close();
    const store = new S3BlobStore({ bucket, client: config });
    const { events } = await storedEvents(store, { count: 0 });
    expect([...acknowledged].filter((e) => events.get(e) !== 1)).toEqual([]);
    store.client.destroy();
  });

  it('refuses a cloud store without --only collector, naming FERRY_STORE_URL', async () => {
    const child = spawn(process.execPath, ferryArgs('serve'), { env: { PATH: process.env.PATH, FERRY_STORE_URL: 's3://some-bucket', PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('FERRY_STORE_URL');
  });
});
