import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { repoPath } from '../support/fixtures.js';

// The benchmark bundle's child mode parses one object in a fresh process and reports its peak RSS.
const benchBundle = fileURLToPath(new URL('../../dist/bench/parser.js', import.meta.url));
const mib = 1024 * 1024;

/** Writes `bytes` of varied nginx lines (the example rules' format), gzip'd, straight into the store. */
async function writeLog(store: FsBlobStore, dir: string, key: string, bytes: number): Promise<void> {
  const file = join(dir, `${bytes}.log.gz`);
  const gzip = createGzip({ level: 1 });
  const out = createWriteStream(file);
  gzip.pipe(out);
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    let chunk = '';
    for (let k = 0; k < 1000; k++, i++) {
      chunk += `203.0.${i % 256}.${k % 256} - - [23/Nov/2026:10:${String(Math.floor(k / 60) % 60).padStart(2, '0')}:${String(k % 60).padStart(2, '0')} +0000] "GET /api/v1/tasks/${i} HTTP/1.1" 200 ${i % 9000} "-" "Mozilla/5.0 (X11; Linux x86_64) agent-${i % 97}" 0.0${k % 90} 0.0${k % 80} "api.example.com"\n`;
    }
    written += chunk.length;
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  }
  gzip.end();
  await once(out, 'close');
  const { createReadStream } = await import('node:fs');
  await store.put(key, createReadStream(file));
}

function parseInChild(storeDir: string, key: string): { lines: number; maxRssMiB: number } {
  const result = spawnSync(process.execPath, [benchBundle, '--child', 'parse', storeDir, key, repoPath('docs/rules/api-nginx.yml')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`parse child failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim()) as { lines: number; maxRssMiB: number };
}

describe('parser memory is bounded, not proportional to the input', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-parse-mem-'));
    store = new FsBlobStore(join(dir, 'store'));
    await writeLog(store, dir, 'logs/nginx/2026/11/23/small.log.gz', 8 * mib);
    await writeLog(store, dir, 'logs/nginx/2026/11/23/large.log.gz', 96 * mib);
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('parses 12× more input in a separate process within 256 MiB and about the same peak RSS', () => {
    const small = parseInChild(join(dir, 'store'), 'logs/nginx/2026/11/23/small.log.gz');
    const large = parseInChild(join(dir, 'store'), 'logs/nginx/2026/11/23/large.log.gz');
    expect(large.lines).toBeGreaterThan(small.lines * 10);
    expect(large.maxRssMiB).toBeLessThanOrEqual(256);
    // 88 MiB more input may cost a few MiB of JIT code and buffers, not the input's size.
    expect(large.maxRssMiB - small.maxRssMiB).toBeLessThan(40);
  }, 180_000);
});
