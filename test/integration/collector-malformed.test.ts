import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureJson } from '../support/fixtures.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { encodeCollection } from '../support/protobuf-encoder.js';

/** A deterministic PRNG so a failing body can be reproduced from its index. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface BadRequest {
  kind: string;
  body: Buffer;
  headers: Record<string, string>;
}

const json = { 'content-type': 'application/json' };
const proto = { 'content-type': 'application/protobuf' };
const valid = encodeCollection(fixtureJson('collections/ios-two-events.json'));
const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x7b));

/** Bodies that can never be a valid collection, each kind guaranteed invalid by construction. */
function badRequest(i: number): BadRequest {
  const rand = prng(i);
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  switch (i % 9) {
    case 0: // protobuf cut inside the first length-delimited field
      return { kind: 'truncated protobuf', body: Buffer.from(valid.subarray(0, 2 + int(60))), headers: proto };
    case 1: // a tag with wire type 6 or 7, which protobuf does not define
      return { kind: 'invalid wire type', body: Buffer.concat([Buffer.from([((1 + int(15)) << 3) | (6 + int(2))]), bytes(int(64))]), headers: proto };
    case 2: // required fields given with the wrong wire type, then garbage
      return { kind: 'wrong wire type', body: Buffer.concat([Buffer.from([0x08, int(128), 0x10, int(128)]), bytes(int(32))]), headers: proto };
    case 3: { // JSON with invalid UTF-8 inside a string
      const text = JSON.stringify(fixtureJson('collections/ios-two-events.json'));
      const at = 10 + int(text.length - 20);
      return { kind: 'invalid UTF-8', body: Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xc0 + int(2), 0xff]), Buffer.from(text.slice(at))]), headers: json };
    }
    case 4: { // deeply nested JSON
      const depth = 1000 + int(200_000);
      return { kind: 'deep JSON', body: Buffer.from(`{"device_id":${'['.repeat(depth)}${']'.repeat(depth)}}`), headers: json };
    }
    case 5: // a huge string field
      return { kind: 'huge string', body: Buffer.from(JSON.stringify({ ...fixtureJson('collections/ios-two-events.json'), device_id: 'x'.repeat(100_000 + int(800_000)) })), headers: json };
    case 6: // gzip bombs and broken gzip
      return int(4) === 0
        ? { kind: 'gzip bomb', body: bomb, headers: { ...json, 'content-encoding': 'gzip' } }
        : { kind: 'broken gzip', body: Buffer.concat([Buffer.from([0x1f, 0x8b]), bytes(1 + int(100))]), headers: { ...proto, 'content-encoding': 'gzip' } };
    case 7: // random bytes as JSON
      return { kind: 'random JSON bytes', body: Buffer.concat([Buffer.from('{'), bytes(int(200))]), headers: json };
    default: // valid JSON, wrong types
      return { kind: 'wrong JSON types', body: Buffer.from(JSON.stringify({ ...fixtureJson('collections/ios-two-events.json'), payloads: [{ at: -int(100) - 1, event: int(5), nr: 'x' }] })), headers: json };
  }
}

describe('collector under malformed input', () => {
  let ferry: FerryProcess;
  let dataDir: string;
  afterAll(async () => {
    ferry?.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  // Generous timeout: 10,000 requests take ~30 s alone, longer beside the rest of the suite on 2 cores.
  it('answers 10,000 generated bad bodies with a 4xx and a reason, never crashing, memory bounded', { timeout: 240_000 }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ferry-fuzz-'));
    ferry = await startFerry({ FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'error' });
    const total = 10_000;
    const baseline = await ferry.rss(); // mostly the embedded warehouse (PGlite's WASM heap)
    let peak = baseline;
    let firstHalfPeak = 0;
    const sampler = setInterval(() => void ferry.rss().then((r) => (peak = Math.max(peak, r)), () => {}), 50);
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        if (i === total / 2) firstHalfPeak = peak;
        const request = badRequest(i);
        kinds.set(request.kind, (kinds.get(request.kind) ?? 0) + 1);
        const response = await fetch(`${ferry.url}/api/v1/track`, { method: 'POST', headers: request.headers, body: new Uint8Array(request.body) });
        const text = await response.text();
        let reason: unknown;
        try {
          reason = JSON.parse(text).error;
        } catch {
          reason = undefined;
        }
        if (response.status < 400 || response.status >= 500 || typeof reason !== 'string' || reason === '') {
          failures.push(`#${i} ${request.kind}: ${response.status} ${text.slice(0, 120)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    clearInterval(sampler);
    expect(failures.slice(0, 10)).toEqual([]);
    expect([...kinds.keys()].sort()).toEqual(['broken gzip', 'deep JSON', 'gzip bomb', 'huge string', 'invalid UTF-8', 'invalid wire type', 'random JSON bytes', 'truncated protobuf', 'wrong JSON types', 'wrong wire type']);
    expect(ferry.child.exitCode).toBeNull();
    expect((await fetch(`${ferry.url}/api/health`)).status).toBe(200);
    // Bodies are capped at 1 MiB and bombs at 4 MiB decoded, 8 at a time: memory grows by a bounded
    // amount (garbage the GC has not yet collected), and not at all with the number of requests.
    expect(peak - baseline).toBeLessThan(384 * 1024 * 1024);
    expect(peak - firstHalfPeak).toBeLessThan(64 * 1024 * 1024);
    console.info(`malformed-input test: RSS baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, peak of first half ${(firstHalfPeak / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    // No event was stored; the refusals themselves go to raw/rejections/ (bounded per interval).
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(join(dataDir, 'store', 'raw', 'events')).catch(() => [])).toEqual([]);
  });
});
