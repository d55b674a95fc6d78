import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { handler as httpHandler } from '../../functions/aws/http.js';
import { handler as loadHandler } from '../../functions/aws/load.js';
import { handler as parseHandler } from '../../functions/aws/parse-queue.js';
import { resetAwsHost } from '../../functions/aws/aws-host.js';
import { lostNotificationAfterMs } from '../../core/parser/parse-lost-inputs.js';
import { rawObjectKey } from '../../core/model/raw-record.js';
import { storageLayout } from '../../core/storage-layout.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { fixtureBytes, fixtureJson, repoPath } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { startS3 } from '../support/storage-emulators.js';
import { sqsDelivery } from '../support/platform-events.js';
import { collect, listKeys, readObject } from '../support/streams.js';
import pg from 'pg';


const context = { getRemainingTimeInMillis: () => 300_000 };

describe('AWS handlers against s3rver and PostgreSQL', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let store: S3BlobStore;
  const schema = uniqueSchema('aws');
  const models = uniqueSchema('awsm');
  const saved = { ...process.env };
  beforeAll(async () => {
    s3 = await startS3();
    const { bucket, config } = await s3.fresh();
    store = new S3BlobStore({ bucket, client: config });
    Object.assign(process.env, {
      FERRY_S3_BUCKET: bucket, FERRY_S3_ENDPOINT: config!.endpoint as string, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_RULES: repoPath('docs/rules/api-nginx.yml'), FERRY_LOG_LEVEL: 'error',
      FERRY_MODELS: repoPath('examples/models'), FERRY_MODELS_SCHEMA: models,
    });
    await resetAwsHost();
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await resetAwsHost();
    store?.client.destroy();
    await s3?.stop();
    await dropSchema(schema);
    await dropSchema(models);
  });

  it('collects (storing the refused request), parses queue deliveries (raw objects in one batch, a log alone; redelivery rewrites the same objects) counting them in EMF, and loads on schedule', async () => {
    const health = await httpHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-health.json'));
    expect(health).toMatchObject({ statusCode: 200, body: '{"up":true}' });
    expect(await httpHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-json.json'))).toMatchObject({ statusCode: 200, body: '{"stored":2}' });
    expect(await httpHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-gzip.json'))).toMatchObject({ statusCode: 200, body: '{"stored":2}' });
    // Accepted requests and the health check stored no refusal: no raw/rejections/ object, no PUT for one.
    expect(await listKeys(store, 'raw/rejections/')).toEqual([]);
    const invalid = await httpHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-invalid.json'));
    expect(invalid.statusCode).toBe(400);
    expect(JSON.parse(invalid.body!)).toEqual({ error: expect.stringContaining('client_id') });
    // The refused request is stored before the invocation returns: one object, one PUT.
    expect(await listKeys(store, 'raw/rejections/')).toHaveLength(1);

    // A log shipper's upload, named with a space, a plus and UTF-8, as S3 then encodes it.
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    await store.put(`logs/nginx/${today}/api 1+café.log.gz`, gzipSync(fixtureBytes('logs/api-nginx.log')));
    const inputs = [...(await collect(store.list('raw/'))), ...(await collect(store.list('logs/')))];
    expect(inputs).toHaveLength(4);
    // raw/ (events and rejections) comes in one SQS batch to the raw parser, each log in its own to the logs parser.
    const deliveries = [sqsDelivery(inputs.filter((i) => i.key.startsWith('raw/'))), sqsDelivery(inputs.filter((i) => i.key.startsWith('logs/')))];
    const emf: Record<string, unknown>[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((line) => {
      if (String(line).startsWith('{"_aws"')) emf.push(JSON.parse(String(line)) as Record<string, unknown>);
      return true;
    });
    try {
      for (const delivery of deliveries) expect(await parseHandler(delivery, context)).toEqual({ batchItemFailures: [] });
    } finally {
      stdout.mockRestore();
    }
    // Each parse invocation wrote the parser's counts as EMF: inputs and lines per source.
    const counted = (name: string, source: string) => emf.filter((d) => d.source === source && name in d).reduce((n, d) => n + Number(d[name]), 0);
    expect([counted('ferry_parser_inputs_total', 'events'), counted('ferry_parser_inputs_total', 'ferry_rejections'), counted('ferry_parser_inputs_total', 'api_nginx')]).toEqual([2, 1, 1]);
    expect(counted('ferry_parser_lines_total', 'api_nginx')).toBeGreaterThan(0);
    expect(emf.some((d) => d.source === 'events' && Array.isArray(d.ferry_parser_parse_seconds) ? (d.ferry_parser_parse_seconds as unknown[]).length === 2 : false)).toBe(true);
    const outputs = await listKeys(store, 'parsed/');
    expect(outputs.filter((k) => k.startsWith('parsed/events/'))).toHaveLength(1);
    // The same deliveries again (S3 and SQS deliver at least once): the same objects, nothing added.
    for (const delivery of deliveries) expect(await parseHandler(delivery, context)).toEqual({ batchItemFailures: [] });
    expect(await listKeys(store, 'parsed/')).toEqual(outputs);

    const load = await loadHandler({ ...fixtureJson<ScheduledEvent>('aws/eventbridge-scheduled.json'), time: new Date().toISOString() }, context);
    expect(load.tables.map((t) => [t.table, t.rowsInserted])).toEqual([['events', 2], ['api_requests', 12], ['rejections', 1], ['source_counts', 4]]);
    // The client re-sent the same batch gzip'd: stored once (one batch file of four rows, two inserted).
    expect(load.tables[0]).toMatchObject({ files: 1, rowsCopied: 4 });
    // Then the example models, on what this tick loaded; each stage run is recorded.
    expect(load.transforms!.models.map((m) => [m.model, m.outcome]).sort()).toEqual(
      ['api_latency', 'daily_active_users', 'events_per_day', 'platform_share', 'task_events', 'task_funnel'].map((m) => [m, 'built']),
    );
    const db = new pg.Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    try {
      expect((await db.query(`SELECT platform, users::int FROM "${models}".daily_active_users`)).rows).toEqual([{ platform: 'iOS', users: 1 }]);
      const runs = (await db.query(`SELECT stage, target, status FROM "${schema}".runs WHERE run_id = $1 ORDER BY stage, target`, [load.runId])).rows;
      expect(runs.filter((r) => r.stage === 'load')).toEqual(['api_requests', 'events', 'rejections', 'source_counts'].map((target) => ({ stage: 'load', target, status: 'success' })));
      // The refused request is a row of the rejections table, with the id the collector answered it with.
      const refused = (await db.query(`SELECT kind, status::int AS status, reason, requests::int AS requests, request_id, ip FROM "${schema}".rejections`)).rows;
      expect(refused).toEqual([{ kind: 'request', status: 400, reason: 'field:client_id', requests: 1, request_id: invalid.headers!['x-request-id'], ip: '93.184.216.34' }]);
      expect(runs.filter((r) => r.stage === 'transform')).toHaveLength(6);
    } finally {
      await db.end();
    }
  });

  it('leaves the models for the next tick when the invocation has too little time left', async () => {
    await httpHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-json.json'));
    const raw = (await collect(store.list('raw/'))).map((i) => ({ key: i.key, etag: i.etag, size: i.size }));
    expect(await parseHandler(sqsDelivery(raw), context)).toEqual({ batchItemFailures: [] });
    const tick = (remainingMs: number) => loadHandler({ ...fixtureJson<ScheduledEvent>('aws/eventbridge-scheduled.json'), time: new Date().toISOString() }, { getRemainingTimeInMillis: () => remainingMs });
    const short = await tick(30_000);
    expect(short.transforms!.models.filter((m) => m.model === 'daily_active_users')).toMatchObject([{ outcome: 'deferred' }]);
    const next = await tick(300_000);
    expect(next.transforms!.models.filter((m) => m.model === 'daily_active_users')).toMatchObject([{ outcome: 'built' }]);
  });

  it('summarises a damaged gzip input once (its tail rejected) instead of failing every retry', async () => {
    await store.put('logs/nginx/broken.log.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]));
    const info = await store.head('logs/nginx/broken.log.gz');
    expect(await parseHandler(sqsDelivery([info]), context)).toEqual({ batchItemFailures: [] });
    expect((await listKeys(store, 'summaries/')).filter((k) => k.includes('broken'))).toHaveLength(1);
    const rejected = (await listKeys(store, 'rejected/')).filter((k) => k.includes('broken'));
    expect(rejected).toHaveLength(1);
    expect(gunzipSync(await readObject(store, rejected[0]!)).toString()).toMatch(/^logs\/nginx\/broken\.log\.gz,1,gzip data unreadable after 0 decompressed bytes/);
  });

  it('returns the message to the queue when the time left is too short to publish; the retry parses it whole', async () => {
    await store.put('logs/nginx/late.log', fixtureBytes('logs/api-nginx.log'));
    const info = await store.head('logs/nginx/late.log');
    const event = sqsDelivery([info]);
    expect(await parseHandler(event, { getRemainingTimeInMillis: () => 5_000 })).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect((await listKeys(store, 'parsed/')).filter((k) => k.includes('late'))).toEqual([]);
    expect((await listKeys(store, 'summaries/')).filter((k) => k.includes('late'))).toEqual([]);
    expect(await parseHandler(event, context)).toEqual({ batchItemFailures: [] });
    expect((await listKeys(store, 'parsed/')).filter((k) => k.includes('late'))).toHaveLength(1);
  });

  it('parses on schedule a raw object, a refusals object and a log file whose notifications were lost, once they are old enough, and loads their rows', async () => {
    const now = new Date();
    const id = timeSortableIds.next(now);
    const key = rawObjectKey(now, id);
    const line = JSON.stringify({ received_at: now.toISOString(), sent_at: null, ip: '198.51.100.7', collection: fixtureJson('collections/android-env-number.json') });
    await store.put(key, gzipSync(`${line}\n`));
    await store.put('logs/nginx/lost-notification.log', fixtureBytes('logs/api-nginx.log'));
    // A collector's refusals, as RejectionLog writes them: hour-partitioned like the raw events, swept the same way.
    const refusalsId = timeSortableIds.next(now);
    const refusal = { at: now.toISOString(), kind: 'request', status: 415, reason: 'content_type', requests: 1, message: 'unsupported content type', request_id: 'lost-req', bytes: 1, ip: null, body_prefix: 'x' };
    await store.put(`${storageLayout.rejectionsHour(now)}${refusalsId}.ndjson.gz`, gzipSync(`${JSON.stringify(refusal)}\n`));
    const tick = (at: Date) => loadHandler({ ...fixtureJson<ScheduledEvent>('aws/eventbridge-scheduled.json'), time: at.toISOString() });
    const lost = async () => (await listKeys(store, 'summaries/')).filter((k) => k.includes(id) || k.includes(refusalsId) || k.includes('lost-notification'));
    // Just written: their notifications may still come, so the timer leaves them.
    const first = await tick(now);
    // (This tick also loads what earlier tests parsed; the next one loads only the two lost inputs.)
    expect(first.tables.find((t) => t.table === 'events')).toMatchObject({ rowsInserted: 0 });
    expect(await lost()).toEqual([]);
    const later = await tick(new Date(now.getTime() + lostNotificationAfterMs + 60_000));
    expect(later.tables.find((t) => t.table === 'events')).toMatchObject({ rowsInserted: 2 });
    // The same log's rows as when its notification came (the first test): 12 api_requests rows.
    expect(later.tables.find((t) => t.table === 'api_requests')).toMatchObject({ rowsInserted: 12 });
    expect(later.tables.find((t) => t.table === 'rejections')).toMatchObject({ rowsInserted: 1 });
    // The raw object and the refusals object were swept in one batch each (their own sources), the log alone.
    expect(await lost()).toHaveLength(3);
  });

  it('answers the run view under /api/ops/ only with FERRY_OPS_TOKEN set, to its bearer: off by default (404), a wrong token 401', async () => {
    const health = fixtureJson<APIGatewayProxyEventV2>('aws/http-api-health.json');
    const get = (path: string, headers: Record<string, string> = {}) =>
      httpHandler({ ...health, rawPath: path, routeKey: 'GET /api/ops/{proxy+}', headers: { ...health.headers, ...headers }, requestContext: { ...health.requestContext, http: { ...health.requestContext.http, path } } });
    expect((await get('/api/ops/')).statusCode).toBe(404);
    expect((await get('/api/ops/api/runs', { authorization: 'Bearer anything' })).statusCode).toBe(404);
    try {
      process.env.FERRY_OPS_TOKEN = 'ops-token-aws';
      await resetAwsHost();
      expect((await get('/api/ops/', { authorization: 'Bearer ops-token-awS' })).statusCode).toBe(401);
      expect((await get('/api/ops/')).statusCode).toBe(401);
      const page = await get('/api/ops/runs/2026-11-23', { authorization: 'Bearer ops-token-aws' });
      expect(page).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
      expect(page.body).toContain('Ferry runs of 2026-11-23');
      const json = await get('/api/ops/api/runs/2026-11-23', { authorization: 'Bearer ops-token-aws' });
      expect(json.statusCode).toBe(200);
      expect(JSON.parse(json.body!)).toMatchObject({ date: '2026-11-23', failures: [], backlog: { parse: { count: 0 } } });
    } finally {
      delete process.env.FERRY_OPS_TOKEN;
      await resetAwsHost();
    }
  });

  it('writes the collector\'s counts as CloudWatch EMF lines at the end of each invocation', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true));
    try {
      expect((await httpHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-invalid.json'))).statusCode).toBe(400);
    } finally {
      spy.mockRestore();
    }
    const documents = lines.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(documents).toEqual([
      {
        _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [['reason', 'status']], Metrics: [{ Name: 'ferry_collector_requests_total', Unit: 'Count' }] }] },
        status: '400', reason: 'field:client_id', ferry_collector_requests_total: 1,
      },
      {
        _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [['outcome']], Metrics: [{ Name: 'ferry_collector_bytes_total', Unit: 'Bytes' }] }] },
        outcome: 'refused', ferry_collector_bytes_total: expect.any(Number),
      },
      {
        _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [[]], Metrics: [{ Name: 'ferry_collector_rejections_logged_total', Unit: 'Count' }] }] },
        ferry_collector_rejections_logged_total: 1,
      },
    ]);
  });
});
