import { HttpRequest, InvocationContext, type HttpRequestInit, type Timer } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { systemClock } from '../../core/ports/clock.js';
import { sessionId } from '../../core/collector/session.js';
import { inputSummaries } from '../../core/parser/parse-summary.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { handler as awsHttp } from '../../functions/aws/http.js';
import { handler as awsLoad } from '../../functions/aws/load.js';
import { handler as awsParse } from '../../functions/aws/parse-queue.js';
import { awsHost, resetAwsHost } from '../../functions/aws/aws-host.js';
import { azureHost, resetAzureHost } from '../../functions/azure/azure-host.js';
import { httpHandler as azureHttp } from '../../functions/azure/http.js';
import { loadHandler as azureLoad } from '../../functions/azure/load.js';
import { parseHandler as azureParse } from '../../functions/azure/parse.js';
import { parseBatchHandler as azureParseBatch } from '../../functions/azure/parse-batch.js';
import { fixtureBytes, fixtureJson, repoPath } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { encodeCollection } from '../support/protobuf-encoder.js';
import { startAzurite, startS3 } from '../support/storage-emulators.js';
import { blobCreatedEvent, eventHubBatch, sqsDelivery } from '../support/platform-events.js';
import { collect, readObject } from '../support/streams.js';

/**
 * The parity test of the brief: one fixture set through the AWS chain (HTTP API event → S3 on
 * s3rver → S3 notifications in SQS deliveries → batch parser → schedule → loader) and through the
 * Azure chain (HttpRequest → Azurite → BlobCreated through Event Hubs for raw/, Event Grid for
 * logs/ → parser → timer → loader), each into its own PostgreSQL schema. The server clock and the raw objects' ids are pinned so both collectors write
 * the same raw keys and bytes; everything after that is the real code of each chain.
 */

const receivedAt = new Date('2026-11-23T10:00:01.234Z');
const json = fixtureBytes('collections/ios-two-events.json');
const protobuf = Buffer.from(encodeCollection(fixtureJson('collections/android-env-number.json')));
const logs = {
  'logs/nginx/2026/11/23/api-1.log.gz': gzipSync(fixtureBytes('logs/api-nginx.log')),
  'logs/app/2026/11/23/app 1+é.log': fixtureBytes('logs/app-json.log'),
};
const tables = ['events', 'api_requests', 'app_events', 'rejections', 'source_counts'];
/** A request each collector refuses (400, no client_id): stored under raw/rejections/, loaded into rejections. */
const refused = Buffer.from('{"device_id": "d"}');

/** Deterministic raw-object ids: the same sequence for each chain. */
function pinCollector(): void {
  let n = 0;
  vi.spyOn(systemClock, 'now').mockImplementation(() => new Date(receivedAt));
  vi.spyOn(timeSortableIds, 'next').mockImplementation(() => `01JPARTY0${String(++n).padStart(17, '0')}`);
}

function awsTrack(body: Buffer, contentType: string): APIGatewayProxyEventV2 {
  const event = fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-json.json');
  return { ...event, headers: { ...event.headers, 'content-type': contentType, 'content-length': String(body.length) }, body: body.toString('base64'), isBase64Encoded: true };
}

function azureTrack(body: Buffer, contentType: string): HttpRequest {
  const init = fixtureJson<HttpRequestInit>('azure/http-track-request.json');
  return new HttpRequest({ ...init, headers: { ...init.headers, 'content-type': contentType }, body: { bytes: body } });
}



async function inputsOf(store: BlobStore) {
  return [...(await collect(store.list('raw/'))), ...(await collect(store.list('logs/')))];
}

/**
 * An output's key without what depends on the cloud: the version digest (ETags differ) and, for
 * a log, the arrival time in front of its name (each cloud stamps its own upload time).
 */
function portableKey(key: string): string {
  return key.replace(/-[0-9a-f]{16}(\.csv\.gz|\.json)?$/, '$1').replace(/\/[0-9A-HJKMNP-TV-Z]{10}-(?=[^/]*$)/, '/');
}

/** Parsed and rejected objects by their portable key. */
async function outputsOf(store: BlobStore): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const prefix of ['parsed/', 'rejected/']) {
    for (const info of await collect(store.list(prefix))) out.set(portableKey(info.key), await readObject(store, info.key));
  }
  return out;
}

/** Parse summaries by input key, without what depends on the cloud's ETag. */
async function summariesOf(store: BlobStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const info of await collect(store.list('summaries/'))) {
    for (const { source_etag: _etag, outputs, summary_key, ...summary } of inputSummaries((await readObject(store, info.key)).toString('utf8'))) {
      out[summary.source_key] = { ...summary, outputs: outputs.map(portableKey), summary_key: summary_key && portableKey(summary_key) };
    }
  }
  expect(Object.keys(out)).toHaveLength(5);
  return out;
}

async function tableRows(client: pg.Client, schema: string): Promise<Record<string, string[]>> {
  const rows: Record<string, string[]> = {};
  for (const table of tables) {
    // A summary's ETag and key are the cloud's own version tag; every count must agree.
    const row = table === 'source_counts' ? "to_jsonb(t) - 'source_etag' - 'summary_key'" : 'to_jsonb(t)';
    const result = await client.query<{ row: string }>(`SELECT (${row})::text AS row FROM "${schema}"."${table}" t ORDER BY 1`);
    rows[table] = result.rows.map((r) => r.row);
  }
  return rows;
}

describe('cloud parity: the AWS chain and the Azure chain produce the same objects and rows', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let azurite: Awaited<ReturnType<typeof startAzurite>>;
  let s3Store: S3BlobStore;
  let container: ContainerClient;
  let azureStore: AzureBlobStore;
  const awsSchema = uniqueSchema('parity_aws');
  const azureSchema = uniqueSchema('parity_azure');
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  const saved = { ...process.env };

  beforeAll(async () => {
    [s3, azurite] = await Promise.all([startS3(), startAzurite()]);
    const { bucket, config } = await s3.fresh();
    s3Store = new S3BlobStore({ bucket, client: config });
    container = await azurite.fresh();
    azureStore = new AzureBlobStore({ container });
    await client.connect();
    const common = { DATABASE_URL: testDatabaseUrl(), FERRY_RULES: `${repoPath('docs/rules/api-nginx.yml')},${repoPath('docs/rules/app-json.yml')}`, FERRY_LOG_LEVEL: 'error' };
    Object.assign(process.env, common, {
      FERRY_S3_BUCKET: bucket, FERRY_S3_ENDPOINT: config!.endpoint as string, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      FERRY_WAREHOUSE_SCHEMA: awsSchema,
    });
    await resetAwsHost();
    await awsHost(); // built now, so it keeps this schema
    Object.assign(process.env, { FERRY_AZURE_STORAGE_CONNECTION_STRING: azurite.connection, FERRY_AZURE_CONTAINER: container.containerName, FERRY_WAREHOUSE_SCHEMA: azureSchema });
    await resetAzureHost();
    await azureHost();
  }, 60_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    process.env = saved;
    await resetAwsHost();
    await resetAzureHost();
    s3Store?.client.destroy();
    await Promise.all([s3?.stop(), azurite?.stop()]);
    await Promise.all([dropSchema(awsSchema), dropSchema(azureSchema)]);
    await client.end();
  });

  it('byte-identical parsed objects and equal tables; duplicate notifications change nothing', async () => {
    const context = { getRemainingTimeInMillis: () => 300_000 };
    const schedule = { ...fixtureJson<ScheduledEvent>('aws/eventbridge-scheduled.json'), time: new Date().toISOString() };
    const timer = fixtureJson<Timer>('azure/timer.json');
    const invocation = () => new InvocationContext({ invocationId: `inv-${Math.random()}` });

    // AWS chain.
    pinCollector();
    expect(await awsHttp(awsTrack(json, 'application/json'))).toMatchObject({ statusCode: 200 });
    expect(await awsHttp(awsTrack(protobuf, 'application/protobuf'))).toMatchObject({ statusCode: 200 });
    expect(await awsHttp(awsTrack(refused, 'application/json'))).toMatchObject({ statusCode: 400 });
    vi.restoreAllMocks();
    for (const [key, body] of Object.entries(logs)) await s3Store.put(key, body);
    const awsInputs = await inputsOf(s3Store);
    expect(awsInputs).toHaveLength(5);
    const [awsRaw, awsLogs] = [awsInputs.filter((i) => i.key.startsWith('raw/')), awsInputs.filter((i) => i.key.startsWith('logs/'))];
    // raw/ reaches its parser in one queue batch, each log alone (the logs queue's batch size is 1).
    const deliveries = [sqsDelivery(awsRaw), ...awsLogs.map((l) => sqsDelivery([l]))];
    for (const delivery of deliveries) expect(await awsParse(delivery, context)).toEqual({ batchItemFailures: [] });
    const awsParsedOnce = await outputsOf(s3Store);
    // A queue delivers at least once: the same deliveries again rewrite the same objects.
    for (const delivery of deliveries) expect(await awsParse(delivery, context)).toEqual({ batchItemFailures: [] });
    expect(await outputsOf(s3Store)).toEqual(awsParsedOnce);
    const awsFirst = await awsLoad(schedule);
    const awsSecond = await awsLoad(schedule);

    // Azure chain: the same requests and uploads.
    pinCollector();
    expect(await azureHttp(azureTrack(json, 'application/json'))).toMatchObject({ status: 200 });
    expect(await azureHttp(azureTrack(protobuf, 'application/protobuf'))).toMatchObject({ status: 200 });
    expect(await azureHttp(azureTrack(refused, 'application/json'))).toMatchObject({ status: 400 });
    vi.restoreAllMocks();
    for (const [key, body] of Object.entries(logs)) await azureStore.put(key, body);
    const azureInputs = await inputsOf(azureStore);
    expect(azureInputs.map((i) => i.key)).toEqual(awsInputs.map((i) => i.key));
    const [azureRaw, azureLogs] = [azureInputs.filter((i) => i.key.startsWith('raw/')), azureInputs.filter((i) => i.key.startsWith('logs/'))];
    expect(await azureParseBatch(eventHubBatch(container, azureRaw), invocation())).toMatchObject({ parsed: azureRaw.map((i) => i.key), failed: [] });
    expect(await azureParseBatch(eventHubBatch(container, azureRaw), invocation())).toMatchObject({ parsed: azureRaw.map((i) => i.key), failed: [] });
    for (const input of azureLogs) {
      expect(await azureParse(blobCreatedEvent(container, input.key, input.etag), invocation())).toMatchObject({ parsed: [input.key], failed: [] });
      expect(await azureParse(blobCreatedEvent(container, input.key, input.etag), invocation())).toMatchObject({ parsed: [], skipped: [input.key] });
    }
    const azureFirst = await azureLoad(timer, invocation());
    const azureSecond = await azureLoad(timer, invocation());

    // The collectors stored the same raw bytes under the same keys.
    for (const input of awsInputs) expect((await readObject(azureStore, input.key)).equals(await readObject(s3Store, input.key))).toBe(true);

    // The parsers wrote byte-identical objects (keys differ only by the ETag digest).
    const awsOutputs = await outputsOf(s3Store);
    const azureOutputs = await outputsOf(azureStore);
    expect([...azureOutputs.keys()].sort()).toEqual([...awsOutputs.keys()].sort());
    // The two raw objects share one events file: they were parsed in one batch on both clouds.
    expect([...awsOutputs.keys()].filter((k) => k.startsWith('parsed/')).map((k) => k.split('/')[1]).sort()).toEqual(['api_requests', 'app_events', 'events', 'rejections']);
    expect([...awsOutputs.keys()].some((k) => k.startsWith('rejected/'))).toBe(true);
    for (const [key, bytes] of awsOutputs) expect({ key, same: azureOutputs.get(key)!.equals(bytes) }).toEqual({ key, same: true });
    // The summaries agree on every count; only the ETag (and the output names derived from it) differ.
    expect(await summariesOf(azureStore)).toEqual(await summariesOf(s3Store));
    // Each raw input's summary names the request it holds: the collector's id, carried in the raw record.
    const rawSummaries = Object.entries(await summariesOf(s3Store)).filter(([key]) => key.startsWith('raw/events/'));
    expect(rawSummaries.map(([, s]) => (s as { request_ids?: { count: number; first: string[] } }).request_ids)).toEqual([
      { count: 1, first: [expect.stringMatching(/^01JPARTY0/)] },
      { count: 1, first: [expect.stringMatching(/^01JPARTY0/)] },
    ]);

    // Each loader loaded the same rows once; the second timer tick loaded nothing.
    const loaded = (r: typeof awsFirst) => r.tables.map((t) => [t.table, t.rowsInserted]).sort();
    expect(loaded(azureFirst)).toEqual(loaded(awsFirst));
    expect(loaded(awsFirst)).toEqual([['api_requests', 12], ['app_events', 4], ['events', 4], ['rejections', 1], ['source_counts', 5]]);
    expect(awsSecond.tables.every((t) => t.files === 0)).toBe(true);
    expect(azureSecond.tables.every((t) => t.files === 0)).toBe(true);
    const awsRows = await tableRows(client, awsSchema);
    expect(awsRows.events).toHaveLength(4);
    // The refused request is the same row on both clouds: same time, request id, reason, size and address.
    expect(awsRows.rejections!.map((r) => JSON.parse(r) as Record<string, unknown>)).toMatchObject([{ kind: 'request', status: 400, reason: 'field:client_id', request_id: expect.stringMatching(/^01JPARTY0/), ip: '93.184.216.34' }]);
    expect(await tableRows(client, azureSchema)).toEqual(awsRows);
    const manifests = await Promise.all([awsSchema, azureSchema].map((s) => client.query(`SELECT count(*)::int AS n FROM "${s}".load_manifest`)));
    expect(manifests.map((m) => m.rows[0].n)).toEqual([8, 8]);
  }, 120_000);

  it('batches delivered again, split and regrouped change no table and no source_counts figure, on either chain', async () => {
    const context = { getRemainingTimeInMillis: () => 300_000 };
    const invocation = () => new InvocationContext({ invocationId: `inv-${Math.random()}` });
    const schedule = () => ({ ...fixtureJson<ScheduledEvent>('aws/eventbridge-scheduled.json'), time: new Date().toISOString() });
    const base = fixtureJson<Record<string, unknown>>('collections/ios-two-events.json');
    const bodies = Array.from({ length: 8 }, (_, i) => {
      const c = { ...base, device_id: `regrouped-${i}` } as Parameters<typeof sessionId>[0] & Record<string, unknown>;
      return Buffer.from(JSON.stringify({ ...c, session: sessionId({ ...c, env: 0 }) }));
    });
    const newRaw = async (store: BlobStore) => (await collect(store.list('raw/'))).filter((i) => !i.key.includes('01JPARTY0'));
    const groupings = <T>(all: T[]) => [all.slice(0, 5), all.slice(3), all.slice(6, 7), all];

    for (const body of bodies) expect(await awsHttp(awsTrack(body, 'application/json'))).toMatchObject({ statusCode: 200 });
    const awsRaw = await newRaw(s3Store);
    expect(awsRaw).toHaveLength(8);
    expect(await awsParse(sqsDelivery(awsRaw), context)).toEqual({ batchItemFailures: [] });
    await awsLoad(schedule());
    const awsOnce = await tableRows(client, awsSchema);
    for (const group of groupings(awsRaw)) expect(await awsParse(sqsDelivery(group), context)).toEqual({ batchItemFailures: [] });
    await awsLoad(schedule());
    expect(await tableRows(client, awsSchema)).toEqual(awsOnce);

    for (const body of bodies) expect(await azureHttp(azureTrack(body, 'application/json'))).toMatchObject({ status: 200 });
    const azureRaw = await newRaw(azureStore);
    expect(await azureParseBatch(eventHubBatch(container, azureRaw), invocation())).toMatchObject({ failed: [] });
    await azureLoad(fixtureJson<Timer>('azure/timer.json'), invocation());
    const azureOnce = await tableRows(client, azureSchema);
    for (const group of groupings(azureRaw)) expect(await azureParseBatch(eventHubBatch(container, group), invocation())).toMatchObject({ failed: [] });
    await azureLoad(fixtureJson<Timer>('azure/timer.json'), invocation());
    expect(await tableRows(client, azureSchema)).toEqual(azureOnce);

    // Each input version has one source_counts row, and the events of the 8 requests are there once.
    for (const schema of [awsSchema, azureSchema]) {
      const { rows } = await client.query(`SELECT count(*)::int AS n, count(DISTINCT (source_key, source_etag))::int AS inputs FROM "${schema}".source_counts`);
      expect(rows[0].n).toBe(rows[0].inputs);
      const events = await client.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE device_id LIKE 'regrouped-%'`);
      expect(events.rows[0].n).toBe(16);
    }
  }, 120_000);
});
