import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import type { RefusedRequest } from '../../core/metrics/collector-metrics.js';
import { RejectionLog, type RejectionRecord } from '../../core/rejections/rejection-log.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { listKeys, readObject } from '../support/streams.js';

const at = new Date('2026-11-25T10:20:30Z');
const refused = (i: number, reason = 'content_type'): RefusedRequest => ({ at: at.toISOString(), status: 415, reason, message: 'unsupported content type', request_id: `req-${i}`, bytes: 100, ip: '203.0.113.0', body_prefix: 'x' });

describe('RejectionLog', () => {
  it('stores a window\'s refused requests as one raw/rejections/ object, and past the bound sums the rest per reason into one line that says so', async () => {
    const store = new MemoryBlobStore();
    let id = 0;
    const log = new RejectionLog({ store, clock: { now: () => at }, ids: { next: () => `ID${++id}` }, logger: silentLogger, maxPerWindow: 3, windowMs: 60_000 });
    for (let i = 0; i < 10; i++) log.add(refused(i));
    log.add(refused(10, 'signature'));
    await log.flush();
    expect(await listKeys(store, 'raw/')).toEqual(['raw/rejections/2026/11/25/10/ID1.ndjson.gz']);
    const lines = gunzipSync(await readObject(store, 'raw/rejections/2026/11/25/10/ID1.ndjson.gz')).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as RejectionRecord);
    expect(lines.filter((l) => l.kind === 'request').map((l) => l.request_id)).toEqual(['req-0', 'req-1', 'req-2']);
    const sums = lines.filter((l) => l.kind === 'aggregate');
    expect(sums.map((l) => [l.reason, l.requests, l.bytes])).toEqual([['content_type', 7, 700], ['signature', 1, 100]]);
    expect(sums[0]!.message).toMatch(/^7 more refused .* past the 3 stored one by one/);
    // Every refused request is accounted for, one by one or summed.
    expect(lines.reduce((s, l) => s + l.requests, 0)).toBe(11);
    await log.flush();
    expect(await listKeys(store, 'raw/')).toHaveLength(1);
  });
});
