import { HttpRequest, InvocationContext, type HttpRequestInit, type Timer } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { azureHost, resetAzureHost } from '../../functions/azure/azure-host.js';
import { parseBatchHandler } from '../../functions/azure/parse-batch.js';
import type { Metrics } from '../../core/ports/metrics.js';
import { httpHandler } from '../../functions/azure/http.js';
import { loadHandler } from '../../functions/azure/load.js';
import { parseHandler } from '../../functions/azure/parse.js';
import { fixtureBytes, fixtureJson, repoPath } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { startAzurite } from '../support/storage-emulators.js';
import { blobCreatedEvent, eventHubBatch } from '../support/platform-events.js';
import { collect } from '../support/streams.js';
import pg from 'pg';


describe('Azure Functions handlers against Azurite and PostgreSQL', () => {
  let azurite: Awaited<ReturnType<typeof startAzurite>>;
  let container: ContainerClient;
  let store: AzureBlobStore;
  const schema = uniqueSchema('azure');
  const models = uniqueSchema('azm');
  const saved = { ...process.env };
  beforeAll(async () => {
    azurite = await startAzurite();
    container = await azurite.fresh();
    store = new AzureBlobStore({ container });
    Object.assign(process.env, {
      FERRY_AZURE_STORAGE_CONNECTION_STRING: azurite.connection, FERRY_AZURE_CONTAINER: container.containerName,
      DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_RULES: repoPath('docs/rules/api-nginx.yml'), FERRY_LOG_LEVEL: 'error',
      FERRY_MODELS: repoPath('examples/models'), FERRY_MODELS_SCHEMA: models,
    });
    await resetAzureHost();
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await resetAzureHost();
    await azurite?.stop();
    await dropSchema(schema);
    await dropSchema(models);
  });

  it('collects (storing the refused request), parses on Event Grid events (duplicates skipped), and loads on the timer', async () => {
    const init = fixtureJson<HttpRequestInit>('azure/http-track-request.json');
    const track = await httpHandler(new HttpRequest({ ...init, body: { bytes: fixtureBytes('collections/ios-two-events.json') } }));
    expect(track).toMatchObject({ status: 200, body: '{"stored":2}' });
    const health = await httpHandler(new HttpRequest({ method: 'GET', url: 'https://ferry-app.azurewebsites.net/api/health' }));
    expect(health).toMatchObject({ status: 200, body: '{"up":true}' });
    expect(await collect(store.list('raw/rejections/'))).toEqual([]);
    const bad = await httpHandler(new HttpRequest({ ...init, headers: { ...init.headers, 'x-request-id': 'az-req-bad' }, body: { string: '{"device_id": "d"}' } }));
    expect(bad.status).toBe(400);
    expect((bad.headers as Record<string, string>)['x-request-id']).toBe('az-req-bad');
    // Stored before the invocation returned: one raw/rejections/ object for the one refusal.
    expect(await collect(store.list('raw/rejections/'))).toHaveLength(1);

    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    await store.put(`logs/nginx/${today}/api 1+café.log.gz`, gzipSync(fixtureBytes('logs/api-nginx.log')));
    const blobs = [...(await collect(store.list('raw/'))), ...(await collect(store.list('logs/')))];
    expect(blobs).toHaveLength(3);
    const context = () => new InvocationContext({ invocationId: `inv-${Math.random()}` });
    for (const blob of blobs) {
      const result = await parseHandler(blobCreatedEvent(container, blob.key, blob.etag), context());
      expect(result).toMatchObject({ parsed: [blob.key], failed: [] });
      // Event Grid delivers at least once: the same event again changes nothing.
      expect(await parseHandler(blobCreatedEvent(container, blob.key, blob.etag), context())).toMatchObject({ parsed: [], skipped: [blob.key] });
    }

    const load = await loadHandler(fixtureJson<Timer>('azure/timer.json'), context());
    expect(load.tables.map((t) => [t.table, t.rowsInserted])).toEqual([['events', 2], ['api_requests', 12], ['rejections', 1], ['source_counts', 3]]);
    const events = await store.list('parsed/events/');
    expect((await collect(events)).length).toBe(1);
    // Then the example models on what the timer loaded, in the same invocation.
    expect(load.transforms!.models.map((m) => [m.model, m.outcome]).sort()).toEqual(
      ['api_latency', 'daily_active_users', 'events_per_day', 'platform_share', 'task_events', 'task_funnel'].map((m) => [m, 'built']),
    );
    const db = new pg.Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    try {
      expect((await db.query(`SELECT endpoint, requests::int FROM "${models}".api_latency WHERE endpoint = 'Task.Read'`)).rows).toEqual([{ endpoint: 'Task.Read', requests: 1 }]);
      expect((await db.query(`SELECT count(*)::int AS n FROM "${schema}".runs WHERE run_id = $1 AND stage = 'transform' AND status = 'success'`, [load.runId])).rows).toEqual([{ n: 6 }]);
      const refused = (await db.query(`SELECT kind, status::int AS status, reason, request_id FROM "${schema}".rejections`)).rows;
      expect(refused).toEqual([{ kind: 'request', status: 400, reason: 'field:client_id', request_id: 'az-req-bad' }]);
    } finally {
      await db.end();
    }
  });

  it('counts each input the Event Hubs batch parser publishes in the host\'s metrics (Application Insights when configured)', async () => {
    const init = fixtureJson<HttpRequestInit>('azure/http-track-request.json');
    const before = new Set((await collect(store.list('raw/events/'))).map((b) => b.key));
    for (let i = 0; i < 2; i++) expect((await httpHandler(new HttpRequest({ ...init, body: { bytes: fixtureBytes('collections/ios-two-events.json') } }))).status).toBe(200);
    const fresh = (await collect(store.list('raw/events/'))).filter((b) => !before.has(b.key));
    expect(fresh).toHaveLength(2);
    const host = await azureHost();
    const counted: { name: string; labels: Record<string, string>; value: number }[] = [];
    const observed: string[] = [];
    const recording: Metrics = { count: (name, labels = {}, value = 1) => counted.push({ name, labels, value }), observe: (name) => observed.push(name), set: () => undefined };
    const exported = host.metrics;
    host.metrics = recording;
    try {
      expect(await parseBatchHandler(eventHubBatch(container, fresh), new InvocationContext({ invocationId: 'inv-metrics' }))).toMatchObject({ parsed: fresh.map((b) => b.key), failed: [] });
    } finally {
      host.metrics = exported;
    }
    const sum = (name: string) => counted.filter((c) => c.name === name && c.labels.source === 'events').reduce((n, c) => n + c.value, 0);
    expect([sum('ferry_parser_inputs_total'), sum('ferry_parser_lines_total')]).toEqual([2, 2]);
    expect(observed).toEqual(['ferry_parser_parse_seconds', 'ferry_parser_parse_seconds']);
  });

  it('answers the run view under /api/ops/ only with FERRY_OPS_TOKEN set, to its bearer: off by default (404), a wrong token 401', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => httpHandler(new HttpRequest({ method: 'GET', url: `https://ferry-app.azurewebsites.net${path}`, headers }));
    expect((await get('/api/ops/')).status).toBe(404);
    expect((await get('/api/ops/api/runs', { authorization: 'Bearer anything' })).status).toBe(404);
    try {
      process.env.FERRY_OPS_TOKEN = 'ops-token-azure';
      await resetAzureHost();
      expect((await get('/api/ops/', { authorization: 'Bearer ops-token-azurE' })).status).toBe(401);
      expect((await get('/api/ops/')).status).toBe(401);
      const page = await get('/api/ops/runs/2026-11-23', { authorization: 'Bearer ops-token-azure' });
      expect(page.status).toBe(200);
      expect(String(page.body)).toContain('Ferry runs of 2026-11-23');
      const json = await get('/api/ops/api/runs/2026-11-23', { authorization: 'Bearer ops-token-azure' });
      expect(json.status).toBe(200);
      expect(JSON.parse(String(json.body))).toMatchObject({ date: '2026-11-23', failures: [], backlog: { parse: { count: 0 } } });
    } finally {
      delete process.env.FERRY_OPS_TOKEN;
      await resetAzureHost();
    }
  });
});
