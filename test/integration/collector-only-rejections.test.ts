import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import type { RejectionRecord } from '../../core/rejections/rejection-log.js';
import { systemClock } from '../../core/ports/clock.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { startCollectorOnly } from '../../functions/local/collector-only.js';
import { fixtureBytes } from '../support/fixtures.js';
import { collect, readObject } from '../support/streams.js';

async function rejectionRecords(store: BlobStore): Promise<{ objects: number; records: RejectionRecord[] }> {
  const objects = await collect(store.list('raw/rejections/'));
  const records: RejectionRecord[] = [];
  for (const o of objects) {
    for (const line of gunzipSync(await readObject(store, o.key)).toString('utf8').split('\n').filter(Boolean)) records.push(JSON.parse(line) as RejectionRecord);
  }
  return { objects: objects.length, records };
}

/** `ferry serve --only collector` stores the requests it refuses as `ferry serve` does, bounded the same way. */
describe('ferry serve --only collector: refused requests', () => {
  let dir: string;
  const lines: Record<string, unknown>[] = [];
  const logger = Object.fromEntries((['debug', 'info', 'warn', 'error'] as const).map((level) => [level, (msg: string, fields: Record<string, unknown> = {}) => lines.push({ level, msg, ...fields })])) as never;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-collector-only-'));
    lines.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const start = (env: Record<string, string> = {}) => startCollectorOnly(readConfig({ FERRY_DATA_DIR: dir, PORT: '0', FERRY_HOST: '127.0.0.1', FERRY_MASK_IP: 'true', ...env }), logger, systemClock);
  const post = async (url: string, body: Uint8Array, headers: Record<string, string>) => {
    const response = await fetch(`${url}/api/v1/track`, { method: 'POST', headers, body: new Uint8Array(body) });
    await response.arrayBuffer();
    return response.status;
  };

  it('stores each refusal with its status, reason, request id and body prefix under raw/rejections/, and none for accepted requests', async () => {
    const host = await start();
    expect(await post(host.url, fixtureBytes('collections/ios-two-events.json'), { 'content-type': 'application/json' })).toBe(200);
    expect(await post(host.url, Buffer.from('{"broken'), { 'content-type': 'application/json', 'x-request-id': 'req-400' })).toBe(400);
    expect(await post(host.url, Buffer.from('x'), { 'content-type': 'text/plain', 'x-request-id': 'req-415' })).toBe(415);
    await host.stop();
    const { objects, records } = await rejectionRecords(host.store);
    expect(objects).toBe(1);
    expect(records.map((r) => [r.kind, r.status, r.reason, r.request_id, r.requests, r.ip])).toEqual([
      ['request', 400, 'invalid_body', 'req-400', 1, '127.0.0.0'],
      ['request', 415, 'content_type', 'req-415', 1, '127.0.0.0'],
    ]);
    expect(records[0]!.body_prefix).toBe('{"broken');
    // Each refusal was logged once at info, with the same request id.
    expect(lines.filter((l) => l.msg === 'request refused').map((l) => [l.level, l.request_id])).toEqual([['info', 'req-400'], ['info', 'req-415']]);
  });

  it('writes nothing when nothing was refused', async () => {
    const host = await start();
    expect(await post(host.url, fixtureBytes('collections/ios-two-events.json'), { 'content-type': 'application/json' })).toBe(200);
    await host.stop();
    expect((await rejectionRecords(host.store)).objects).toBe(0);
  });

  it('keeps 1,000 refusals one by one and sums the rest per status and reason', { timeout: 60_000 }, async () => {
    const host = await start();
    const bad = Buffer.from('{"broken');
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 1100) {
        const i = next++;
        expect(await post(host.url, bad, { 'content-type': 'application/json', 'x-request-id': `flood-${i}` })).toBe(400);
      }
    }));
    await host.stop();
    const { objects, records } = await rejectionRecords(host.store);
    expect(objects).toBe(1);
    expect(records.filter((r) => r.kind === 'request')).toHaveLength(1000);
    const aggregates = records.filter((r) => r.kind === 'aggregate');
    expect(aggregates.map((r) => [r.status, r.reason, r.requests, r.request_id])).toEqual([[400, 'invalid_body', 100, null]]);
    expect(records.reduce((n, r) => n + r.requests, 0)).toBe(1100);
  });
});
