import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { GroupCommitter } from '../../core/collector/group-commit.js';
import { listKeys, readObject } from '../support/streams.js';

describe('GroupCommitter', () => {
  let dir: string;
  let store: FsBlobStore;
  let n = 0;
  const committer = () =>
    new GroupCommitter({ store, clock: { now: () => new Date('2026-11-23T10:00:00Z') }, ids: { next: () => `ID${++n}` }, windowMs: 20, maxBatchBytes: 4 * 1024 * 1024, maxPendingBytes: 64 * 1024 * 1024 });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-group-commit-'));
    store = new FsBlobStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  // Small batches are compressed inline, large ones on zlib's pool: both must store the same lines.
  it.each([
    ['a small batch (compressed inline)', 40, 100, 'text'],
    ['a batch of 1.5 MB (compressed on the pool)', 15, 100_000, 'text'],
    ['a small batch of byte lines', 40, 100, 'bytes'],
    ['a small batch of text and byte lines', 40, 100, 'both'],
  ])('stores %s whole, as one gzip object, in submission order', async (_label, count, size, kind) => {
    const c = committer();
    const texts = Array.from({ length: count }, (_, i) => `${JSON.stringify({ i, pad: 'é'.repeat(size), surrogates: '𝄞\ud800' })}\n`);
    const lines = texts.map((t) => Buffer.from(t));
    await Promise.all(texts.map((text, i) => c.submit(kind === 'text' || (kind === 'both' && i % 2 === 0) ? text : lines[i]!)));
    const keys = await listKeys(store, 'raw/');
    expect(keys).toHaveLength(1); // all submitted in one turn: one batch
    expect(keys[0]).toMatch(/^raw\/events\/2026\/11\/23\/10\//);
    expect(gunzipSync(await readObject(store, keys[0]!)).equals(Buffer.concat(lines))).toBe(true);
    expect(c.pending).toBe(0);
  });
});
