import { HttpRequest, type HttpRequestInit } from '@azure/functions';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { handler as lambdaHandler } from '../../functions/aws/http.js';
import { resetAwsHost } from '../../functions/aws/aws-host.js';
import { httpHandler as azureHandler } from '../../functions/azure/http.js';
import { resetAzureHost } from '../../functions/azure/azure-host.js';
import { fixtureBytes, fixtureJson } from '../support/fixtures.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { startAzurite, startS3 } from '../support/storage-emulators.js';
import { collect } from '../support/streams.js';

const app = 'https://app.example.com';
const allowedHeaders = 'content-type, content-encoding, x-hamustro-time, x-hamustro-signature';

/** What every host must answer to the captured browser preflight from an allowed origin. */
const preflightAnswer = {
  'access-control-allow-origin': app,
  'access-control-allow-methods': 'POST, GET',
  'access-control-allow-headers': allowedHeaders,
  'access-control-max-age': '7200',
  vary: 'Origin',
};

/** The JSON log lines a host wrote to stderr while `fn` ran. */
async function logsDuring(fn: () => Promise<unknown>): Promise<{ level: string; msg: string }[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string });
}

const unsignedWarning = { level: 'warn', msg: 'request signatures are not checked: set FERRY_SHARED_SECRET to require them' };

describe('CORS on the local host (ferry serve)', () => {
  let dir: string;
  let ferry: FerryProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-cors-'));
    ferry = await startFerry({ FERRY_DATA_DIR: dir, FERRY_CORS_ORIGINS: `${app},http://localhost:5173`, FERRY_LOAD_INTERVAL_S: '3600', FERRY_LOG_LEVEL: 'error' });
  }, 90_000);
  afterAll(async () => {
    if (ferry) {
      ferry.child.kill('SIGTERM');
      await new Promise((done) => ferry.child.once('exit', done));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a preflight 204 with the allowed method and headers, then the actual request 200 with the origin allowed', async () => {
    const pre = await fetch(`${ferry.url}/api/v1/track`, {
      method: 'OPTIONS',
      headers: { origin: app, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-hamustro-signature,x-hamustro-time' },
    });
    expect(pre.status).toBe(204);
    const corsHeaders: Record<string, string> = {};
    pre.headers.forEach((value, name) => {
      if (name.startsWith('access-control') || name === 'vary') corsHeaders[name] = value;
    });
    expect(corsHeaders).toEqual(preflightAnswer);

    const actual = await fetch(`${ferry.url}/api/v1/track`, { method: 'POST', headers: { origin: app, 'content-type': 'application/json' }, body: new Uint8Array(fixtureBytes('collections/ios-two-events.json')) });
    expect(await actual.json()).toEqual({ stored: 2 });
    expect(actual.headers.get('access-control-allow-origin')).toBe(app);
    expect(actual.headers.get('access-control-expose-headers')).toBe('retry-after');
  });

  it('refuses a preflight from an origin not in FERRY_CORS_ORIGINS with 403 and a reason', async () => {
    const pre = await fetch(`${ferry.url}/api/v1/track`, { method: 'OPTIONS', headers: { origin: 'https://other.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(403);
    expect(await pre.json()).toEqual({ error: 'origin https://other.example is not allowed: add it to FERRY_CORS_ORIGINS' });
  });
});

describe('CORS on the Lambda handler (API Gateway HTTP API, payload 2.0)', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let store: S3BlobStore;
  const saved = { ...process.env };
  beforeAll(async () => {
    s3 = await startS3();
    const { bucket, config } = await s3.fresh();
    store = new S3BlobStore({ bucket, client: config });
    Object.assign(process.env, {
      FERRY_S3_BUCKET: bucket, FERRY_S3_ENDPOINT: config!.endpoint as string, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      FERRY_CORS_ORIGINS: app, FERRY_LOG_LEVEL: 'warn', FERRY_BATCH_WINDOW_MS: '0',
    });
    await resetAwsHost();
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await resetAwsHost();
    store?.client.destroy();
    await s3?.stop();
  });

  it('warns when its collector starts without a shared secret (signatures off)', async () => {
    const logs = await logsDuring(() => lambdaHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-health.json')));
    expect(logs).toContainEqual(expect.objectContaining(unsignedWarning));
  });

  it('answers the captured browser preflight 204, and the actual request 200 with the origin allowed and the batch stored', async () => {
    const pre = await lambdaHandler(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-preflight.json'));
    expect(pre).toEqual({ statusCode: 204, headers: preflightAnswer, body: '', isBase64Encoded: false });

    const event = fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-json.json');
    const actual = await lambdaHandler({ ...event, headers: { ...event.headers, origin: app } });
    expect(actual).toMatchObject({ statusCode: 200, body: '{"stored":2}' });
    expect(actual.headers).toMatchObject({ 'access-control-allow-origin': app, 'access-control-expose-headers': 'retry-after' });
    expect(await collect(store.list('raw/events/'))).toHaveLength(1);
  });
});

describe('CORS on the Azure Functions handler', () => {
  let azurite: Awaited<ReturnType<typeof startAzurite>>;
  let store: AzureBlobStore;
  const saved = { ...process.env };
  beforeAll(async () => {
    azurite = await startAzurite();
    const container = await azurite.fresh();
    store = new AzureBlobStore({ container });
    Object.assign(process.env, {
      FERRY_AZURE_STORAGE_CONNECTION_STRING: azurite.connection, FERRY_AZURE_CONTAINER: container.containerName,
      FERRY_CORS_ORIGINS: app, FERRY_LOG_LEVEL: 'warn', FERRY_BATCH_WINDOW_MS: '0',
    });
    await resetAzureHost();
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await resetAzureHost();
    await azurite?.stop();
  });

  it('warns when its collector starts without a shared secret (signatures off)', async () => {
    const logs = await logsDuring(() => azureHandler(new HttpRequest({ method: 'GET', url: 'https://ferry-app.azurewebsites.net/api/health' })));
    expect(logs).toContainEqual(expect.objectContaining(unsignedWarning));
  });

  it('answers the captured browser preflight 204, and the actual request 200 with the origin allowed and the batch stored', async () => {
    const pre = await azureHandler(new HttpRequest(fixtureJson<HttpRequestInit>('azure/http-track-preflight.json')));
    expect(pre).toEqual({ status: 204, headers: preflightAnswer, body: '' });

    const init = fixtureJson<HttpRequestInit>('azure/http-track-request.json');
    const actual = await azureHandler(new HttpRequest({ ...init, headers: { ...(init.headers as Record<string, string>), origin: app }, body: { bytes: fixtureBytes('collections/ios-two-events.json') } }));
    expect(actual).toMatchObject({ status: 200, body: '{"stored":2}' });
    expect(actual.headers).toMatchObject({ 'access-control-allow-origin': app, 'access-control-expose-headers': 'retry-after' });
    expect(await collect(store.list('raw/events/'))).toHaveLength(1);
  });
});
