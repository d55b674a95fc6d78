import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import type { BlobCreated } from '../../core/ports/blob-store.js';
import { describeBlobStoreContract } from '../support/blob-store-contract.js';

async function freshStore() {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-fs-'));
  return { store: new FsBlobStore(dir), dispose: () => rm(dir, { recursive: true, force: true }) };
}

describeBlobStoreContract('filesystem', freshStore);

describe('FsBlobStore notifications', () => {
  it('tells subscribers about each created object, after it is readable', async () => {
    const { store, dispose } = await freshStore();
    const seen: BlobCreated[] = [];
    const unsubscribe = store.onCreated((e) => seen.push(e));
    const put = await store.put('raw/events/a.ndjson.gz', Buffer.from('abc'));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([{ key: 'raw/events/a.ndjson.gz', etag: put.etag, size: 3 }]);
    unsubscribe();
    await store.put('raw/events/b.ndjson.gz', Buffer.from('abc'));
    await new Promise((r) => setImmediate(r));
    expect(seen).toHaveLength(1);
    await dispose();
  });

  it('derives an etag for a file dropped into the folder by hand', async () => {
    const { store, dispose } = await freshStore();
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(join(store.root, 'logs'), { recursive: true });
    await writeFile(join(store.root, 'logs', 'access.log'), 'GET /\n');
    const info = await store.head('logs/access.log');
    expect(info.etag).toBe(createHash('md5').update('GET /\n').digest('hex'));
    expect(info.metadata).toEqual({});
    await dispose();
  });
});
