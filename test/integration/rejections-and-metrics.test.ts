import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hamustroSignature } from '../../core/collector/signature.js';
import type { RunViewData } from '../../core/run-view/run-view-data.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { waitFor } from '../support/ferry-query.js';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';

const secret = 'rejections-secret';

describe('ferry serve keeps refused requests and rejected rows as data and counts what it was sent', () => {
  const schema = uniqueSchema('rejections');
  let dir: string;
  let ferry: FerryProcess;
  let db: pg.Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-rejections-'));
    ferry = await startFerry({ FERRY_DATA_DIR: dir, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_LOAD_INTERVAL_S: '1', FERRY_LOG_LEVEL: 'info', FERRY_SHARED_SECRET: secret, FERRY_MASK_IP: 'true', FERRY_RULES: repoPath('docs/rules/api-nginx.yml') });
    db = new pg.Client({ connectionString: testDatabaseUrl() });
    await db.connect();
  }, 90_000);
  afterAll(async () => {
    await db?.end();
    if (ferry) {
      ferry.child.kill('SIGTERM');
      await new Promise((done) => ferry.child.once('exit', done));
    }
    await dropSchema(schema);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const post = async (body: Uint8Array, headers: Record<string, string>, signed = true) => {
    const time = String(Math.floor(Date.now() / 1000));
    const signature: Record<string, string> = signed ? { 'x-hamustro-time': time, 'x-hamustro-signature': hamustroSignature(time, body, secret) } : {};
    return (await fetch(`${ferry.url}/api/v1/track`, { method: 'POST', headers: { ...signature, ...headers }, body: new Uint8Array(body) })).status;
  };

  it('stores each refused request and each rejected log line in the rejections table with its reason, and the counters move by exactly what was sent', async () => {
    const good = fixtureBytes('collections/ios-two-events.json');
    const malformed = Buffer.from('{"device_id": "cut here');
    for (let i = 0; i < 3; i++) expect(await post(good, { 'content-type': 'application/json' })).toBe(200);
    expect(await post(good, { 'content-type': 'application/json' }, false)).toBe(401);
    expect(await post(good, { 'content-type': 'text/plain' })).toBe(415);
    expect(await post(good, { 'content-type': 'text/plain' })).toBe(415);
    expect(await post(malformed, { 'content-type': 'application/json', 'x-request-id': 'req-malformed' })).toBe(400);

    // A log with two lines the parser rejects (lines 13 and 14), dropped into the store by another process.
    const logKey = `logs/nginx/${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/edges.log`;
    await new FsBlobStore(join(dir, 'store')).put(logKey, fixtureBytes('logs/api-nginx-edge-cases.log'));
    const rejectedRows = await waitFor(async () => {
      const result = await db.query(`SELECT reason, message, requests::int AS requests FROM "${schema}".rejections WHERE kind = 'row' ORDER BY message`).catch(() => ({ rows: [] }));
      return result.rows.length >= 2 ? result.rows : undefined;
    }, 'the rejected rows in the rejections table');
    expect(rejectedRows.map((r) => [r.message, r.requests])).toEqual([[`${logKey} line 13`, 1], [`${logKey} line 14`, 1]]);
    expect(rejectedRows.every((r) => String(r.reason).length > 0)).toBe(true);

    const rows = await waitFor(async () => {
      const result = await db.query(`SELECT status::int AS status, reason, requests::int AS requests, request_id, bytes::int AS bytes, ip, body_prefix, kind FROM "${schema}".rejections WHERE kind = 'request' ORDER BY status, request_id`).catch(() => ({ rows: [] }));
      return result.rows.length >= 4 ? result.rows : undefined;
    }, 'the refused requests in the rejections table');
    expect(rows.map((r) => [r.status, r.reason, r.requests, r.kind])).toEqual([
      [400, 'invalid_body', 1, 'request'],
      [401, 'signature', 1, 'request'],
      [415, 'content_type', 1, 'request'],
      [415, 'content_type', 1, 'request'],
    ]);
    expect(rows[0]).toMatchObject({ request_id: 'req-malformed', bytes: malformed.byteLength, body_prefix: malformed.toString('utf8'), ip: '127.0.0.0' });
    await waitFor(async () => ((await db.query(`SELECT count(*)::int AS n FROM "${schema}".events`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n === 2 ? true : undefined), 'the accepted events loaded');

    const { samples } = parseExposition(await (await fetch(`${ferry.url}/metrics`)).text());
    expect(sampleValue(samples, 'ferry_collector_requests_total', { status: '200', reason: 'ok' })).toBe(3);
    expect(sampleValue(samples, 'ferry_collector_requests_total', { status: '401', reason: 'signature' })).toBe(1);
    expect(sampleValue(samples, 'ferry_collector_requests_total', { status: '415', reason: 'content_type' })).toBe(2);
    expect(sampleValue(samples, 'ferry_collector_requests_total', { status: '400', reason: 'invalid_body' })).toBe(1);
    expect(sampleValue(samples, 'ferry_collector_events_accepted_total')).toBe(6);
    expect(sampleValue(samples, 'ferry_collector_bytes_total', { outcome: 'accepted' })).toBe(3 * good.byteLength);
    expect(sampleValue(samples, 'ferry_parser_lines_by_outcome_total', { source: 'events', outcome: 'accepted' })).toBe(3);
    expect(sampleValue(samples, 'ferry_parser_lines_by_outcome_total', { source: 'api_nginx', outcome: 'rejected' })).toBe(2);
    expect(sampleValue(samples, 'ferry_parser_lines_by_outcome_total', { source: 'ferry_rejections', outcome: 'accepted' })).toBe(6);
    // An identical re-send is stored once: 6 rows copied, 2 inserted.
    expect(sampleValue(samples, 'ferry_loader_rows_total', { table: 'events', step: 'copied' })).toBe(6);
    expect(sampleValue(samples, 'ferry_loader_rows_total', { table: 'events', step: 'inserted' })).toBe(2);
    expect(sampleValue(samples, 'ferry_loader_rows_total', { table: 'rejections', step: 'inserted' })).toBe(6);

    // One info line per refused request, with its reason and request id.
    const refused = ferry.stderr().split('\n').filter((l) => l.includes('"request refused"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(refused.map((l) => l.reason).sort()).toEqual(['content_type', 'content_type', 'invalid_body', 'signature']);
    expect(refused.find((l) => l.reason === 'invalid_body')).toMatchObject({ level: 'info', status: 400, request_id: 'req-malformed' });

    const today = new Date().toISOString().slice(0, 10);
    const view = (await (await fetch(`${ferry.url}/api/runs/${today}`)).json()) as RunViewData;
    expect(view.rejections.filter((r) => r.status !== null)).toEqual([
      { status: 415, reason: 'content_type', requests: 2 },
      { status: 400, reason: 'invalid_body', requests: 1 },
      { status: 401, reason: 'signature', requests: 1 },
    ]);
    expect(view.rejections.filter((r) => r.status === null).reduce((sum, r) => sum + r.requests, 0)).toBe(2);
  }, 90_000);
});
