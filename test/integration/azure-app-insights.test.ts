import { HttpRequest, InvocationContext, type HttpRequestInit, type Timer } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { resetAzureHost } from '../../functions/azure/azure-host.js';
import { httpHandler } from '../../functions/azure/http.js';
import { loadHandler } from '../../functions/azure/load.js';
import { parseHandler } from '../../functions/azure/parse.js';
import { fixtureBytes, fixtureJson } from '../support/fixtures.js';
import { blobCreatedEvent } from '../support/platform-events.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { startAzurite } from '../support/storage-emulators.js';
import { collect } from '../support/streams.js';

/** One metric of an Application Insights `MetricData` envelope, with the envelope's custom dimensions. */
interface SentMetric {
  name: string;
  value: number;
  count: number;
  properties: Record<string, string>;
}

/**
 * A recording fake of Application Insights' ingestion endpoint (`<IngestionEndpoint>/v2.1/track`):
 * it keeps each POST's path and JSON body and answers as the service does when it accepts every
 * item. It checks nothing of the schema beyond what the assertions read. HTTPS with a
 * certificate made here: the exporter turns an http:// endpoint into https://.
 */
async function fakeIngestion(dir: string): Promise<{ server: Server; url: string; posts: { path: string; envelopes: unknown[] }[] }> {
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const posts: { path: string; envelopes: unknown[] }[] = [];
  const server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const envelopes = JSON.parse(body.toString('utf8')) as unknown[];
      posts.push({ path: req.url ?? '', envelopes });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: envelopes.length, itemsAccepted: envelopes.length, errors: [] }));
    });
  });
  return new Promise((ready) => server.listen(0, '127.0.0.1', () => ready({ server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`, posts })));
}

function sentMetrics(posts: { envelopes: unknown[] }[]): SentMetric[] {
  return posts.flatMap((p) =>
    (p.envelopes as { data: { baseType: string; baseData: { metrics: { name: string; value: number; count: number }[]; properties?: Record<string, string> } } }[])
      .filter((e) => e.data.baseType === 'MetricData')
      .flatMap((e) => e.data.baseData.metrics.map((m) => ({ name: m.name, value: m.value, count: m.count, properties: e.data.baseData.properties ?? {} }))),
  );
}

/** The sum of a metric's values over every envelope sent with exactly these dimensions. */
function total(metrics: SentMetric[], name: string, properties: Record<string, string> = {}): number {
  return metrics.filter((m) => m.name === name && JSON.stringify(Object.entries(m.properties).sort()) === JSON.stringify(Object.entries(properties).sort())).reduce((sum, m) => sum + m.value, 0);
}

describe('Azure Functions metrics to Application Insights (a fake ingestion endpoint)', () => {
  let azurite: Awaited<ReturnType<typeof startAzurite>>;
  let container: ContainerClient;
  let ingestion: Awaited<ReturnType<typeof fakeIngestion>>;
  let dir: string;
  const schema = uniqueSchema('azai');
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-app-insights-'));
    [azurite, ingestion] = await Promise.all([startAzurite(), fakeIngestion(dir)]);
    container = await azurite.fresh();
    Object.assign(process.env, {
      FERRY_AZURE_STORAGE_CONNECTION_STRING: azurite.connection, FERRY_AZURE_CONTAINER: container.containerName,
      DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_LOG_LEVEL: 'error',
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=${ingestion.url}`,
      // The exporter's own usage telemetry goes to Microsoft's endpoint, not the connection string's: off here.
      APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
      // The fake's certificate is self-made and Node 20 cannot add a CA at run time; this test file runs in a process of its own.
      NODE_TLS_REJECT_UNAUTHORIZED: '0',
    });
    await resetAzureHost();
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    await resetAzureHost();
    await azurite?.stop();
    await new Promise((done) => ingestion?.server.close(done));
    await dropSchema(schema);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends the HTTP function\'s counts at the end of its first invocation, and every count by the time the worker stops', async () => {
    const init = fixtureJson<HttpRequestInit>('azure/http-track-request.json');
    const track = await httpHandler(new HttpRequest({ ...init, body: { bytes: fixtureBytes('collections/ios-two-events.json') } }));
    expect(track).toMatchObject({ status: 200, body: '{"stored":2}' });
    // Flushed before the handler answered.
    expect(ingestion.posts.length).toBe(1);
    expect(ingestion.posts[0]!.path).toMatch(/\/track$/);
    expect(ingestion.posts[0]!.envelopes[0]).toMatchObject({ name: 'Microsoft.ApplicationInsights.Metric', iKey: '00000000-0000-0000-0000-000000000000', tags: { 'ai.cloud.role': 'ferry' } });
    const first = sentMetrics(ingestion.posts);
    expect(total(first, 'ferry_collector_requests_total', { status: '200', reason: 'ok' })).toBe(1);
    expect(total(first, 'ferry_collector_events_accepted_total')).toBe(2);

    // Within the minute: gathered, sent by the next export.
    const bad = await httpHandler(new HttpRequest({ ...init, body: { string: '{"device_id": "d"}' } }));
    expect(bad.status).toBe(400);
    const store = new AzureBlobStore({ container });
    const [raw] = await collect(store.list('raw/'));
    const context = () => new InvocationContext({ invocationId: `inv-${Math.random()}` });
    expect(await parseHandler(blobCreatedEvent(container, raw!.key, raw!.etag), context())).toMatchObject({ parsed: [raw!.key] });
    const load = await loadHandler(fixtureJson<Timer>('azure/timer.json'), context());
    expect(load.tables.find((t) => t.table === 'events')?.rowsInserted).toBe(2);
    expect(ingestion.posts.length).toBe(1);

    // The worker stops (the app's appTerminate hook): the rest goes out.
    await resetAzureHost();
    const all = sentMetrics(ingestion.posts);
    expect(total(all, 'ferry_collector_requests_total', { status: '200', reason: 'ok' })).toBe(1);
    expect(total(all, 'ferry_collector_requests_total', { status: '400', reason: 'field:client_id' })).toBe(1);
    expect(total(all, 'ferry_collector_events_accepted_total')).toBe(2);
    expect(total(all, 'ferry_loader_rows_total', { table: 'events', step: 'inserted' })).toBe(2);
    expect(total(all, 'ferry_loader_files_total', { table: 'events' })).toBe(1);
    const tick = all.filter((m) => m.name === 'ferry_loader_tick_seconds');
    expect(tick.reduce((n, m) => n + m.count, 0)).toBe(1);
  });

  it('sends nothing without APPLICATIONINSIGHTS_CONNECTION_STRING (metrics off)', async () => {
    const sent = ingestion.posts.length;
    const connection = process.env.APPLICATIONINSIGHTS_CONNECTION_STRING;
    try {
      delete process.env.APPLICATIONINSIGHTS_CONNECTION_STRING;
      await resetAzureHost();
      const init = fixtureJson<HttpRequestInit>('azure/http-track-request.json');
      expect((await httpHandler(new HttpRequest({ ...init, body: { bytes: fixtureBytes('collections/ios-two-events.json') } }))).status).toBe(200);
      await resetAzureHost();
      expect(ingestion.posts.length).toBe(sent);
    } finally {
      process.env.APPLICATIONINSIGHTS_CONNECTION_STRING = connection;
    }
  });
});
