import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { InvalidInputError } from '../../core/errors.js';
import { collect, readAll } from '../support/streams.js';
import type { BlobCreated } from '../../core/ports/blob-store.js';
import { describeBlobStoreContract } from '../support/blob-store-contract.js';

async function freshStore() {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-fs-'));
  return { store: new FsBlobStore(dir), dispose: () => rm(dir, { recursive: true, force: true }) };
}

describeBlobStoreContract('filesystem', freshStore);
describeBlobStoreContract('filesystem, writing on the calling thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-fs-here-'));
  return { store: new FsBlobStore(dir, { writes: 'here' }), dispose: () => rm(dir, { recursive: true, force: true }) };
});

describe('FsBlobStore notifications', () => {
  it('tells subscribers about each created object, after it is readable, with the bytes of an in-memory put', async () => {
    const { store, dispose } = await freshStore();
    const seen: BlobCreated[] = [];
    const unsubscribe = store.onCreated((e) => seen.push(e));
    const body = Buffer.from('abc');
    const put = await store.put('raw/events/a.ndjson.gz', body);
    const streamed = await store.put('raw/events/s.ndjson.gz', Readable.from([Buffer.from('abcd')]));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([
      { key: 'raw/events/a.ndjson.gz', etag: put.etag, size: 3, body: new Uint8Array(body) },
      { key: 'raw/events/s.ndjson.gz', etag: streamed.etag, size: 4 },
    ]);
    expect(seen[0]!.body).not.toBe(body);
    seen.length = 0;
    // What subscribers are told of is what the put wrote, whatever the putter does with its buffer after.
    const reused = Buffer.from('xyz');
    const written = store.put('raw/events/r.ndjson.gz', reused);
    reused.fill(0);
    await written;
    await new Promise((r) => setImmediate(r));
    expect(Buffer.from(seen[0]!.body!).toString()).toBe('xyz');
    expect((await readAll(await store.get('raw/events/r.ndjson.gz'))).toString()).toBe('xyz');
    seen.length = 0;
    // A large body is not copied for subscribers: they read it back.
    await store.put('raw/events/large.ndjson.gz', Buffer.alloc(FsBlobStore.toldBodyMaxBytes + 1));
    await new Promise((r) => setImmediate(r));
    expect(seen.map((e) => [e.key, e.body])).toEqual([['raw/events/large.ndjson.gz', undefined]]);
    seen.length = 0;
    unsubscribe();
    await store.put('raw/events/b.ndjson.gz', Buffer.from('abc'));
    await new Promise((r) => setImmediate(r));
    expect(seen).toHaveLength(0);
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

  it('derives the etag of a dropped file once per version of the file (inode, size, mtime), not on every listing', async () => {
    const { store, dispose } = await freshStore();
    const { writeFile, mkdir, utimes, appendFile } = await import('node:fs/promises');
    const path = join(store.root, 'logs', 'access.log');
    const when = new Date('2026-11-23T10:00:00Z');
    await mkdir(join(store.root, 'logs'), { recursive: true });
    await writeFile(path, 'GET /\n');
    await utimes(path, when, when);
    const first = await store.head('logs/access.log');
    expect(first.etag).toBe(createHash('md5').update('GET /\n').digest('hex'));
    // Same inode, size and mtime: taken as the same version, so its bytes are not read again.
    await writeFile(path, 'PUT /\n');
    await utimes(path, when, when);
    expect((await store.head('logs/access.log')).etag).toBe(first.etag);
    expect((await collect(store.list('logs/')))[0]!.etag).toBe(first.etag);
    // Any change a writer makes shows in size or mtime: derived again.
    await appendFile(path, 'GET /next\n');
    expect((await store.head('logs/access.log')).etag).toBe(createHash('md5').update('PUT /\nGET /next\n').digest('hex'));
    await dispose();
  });

  it('between the two renames of a put (new sidecar, old bytes) reports the etag of the old bytes, and get refuses the new one', async () => {
    const { store, dispose } = await freshStore();
    const { copyFile } = await import('node:fs/promises');
    const old = await store.put('logs/app.log', Buffer.from('old line\n'));
    // A same-sized new version written elsewhere; its sidecar is renamed into place, its data not yet.
    const next = await store.put('logs/next.log', Buffer.from('new line\n'));
    await copyFile(join(store.root, '.ferry-meta', 'logs', 'next.log.json'), join(store.root, '.ferry-meta', 'logs', 'app.log.json'));
    expect((await store.head('logs/app.log')).etag).toBe(old.etag);
    expect((await readAll(await store.get('logs/app.log', { etag: old.etag }))).toString()).toBe('old line\n');
    await expect(store.get('logs/app.log', { etag: next.etag })).rejects.toMatchObject({ code: 'version_changed', context: { current: old.etag } });
    await dispose();
  });

  it('a get that opened a version keeps reading it when a put replaces the name meanwhile', async () => {
    const { store, dispose } = await freshStore();
    const first = await store.put('logs/app.log', Buffer.from('first version\n'));
    const body = await store.get('logs/app.log', { etag: first.etag });
    await store.put('logs/app.log', Buffer.from('second version, longer\n'));
    expect((await readAll(body)).toString()).toBe('first version\n');
    await dispose();
  });
});

describe('FsBlobStore writes of in-memory bodies (on its writer thread)', () => {
  it('lands many concurrent puts whole, each with its own bytes and etag', async () => {
    const { store, dispose } = await freshStore();
    const bodies = Array.from({ length: 60 }, (_, i) => Buffer.alloc(1 + i * 997, `body ${i} ✓`));
    const infos = await Promise.all(bodies.map((body, i) => store.put(`raw/events/2026/11/23/10/${i}.gz`, body, { n: String(i) })));
    for (const [i, body] of bodies.entries()) {
      expect(infos[i]!.etag).toBe(createHash('md5').update(body).digest('hex'));
      expect((await readAll(await store.get(`raw/events/2026/11/23/10/${i}.gz`))).equals(body)).toBe(true);
      expect((await store.head(`raw/events/2026/11/23/10/${i}.gz`)).metadata).toEqual({ n: String(i) });
    }
    expect(await readdir(join(store.root, '.ferry-tmp'))).toEqual([]);
    await dispose();
  });

  it('reports a failed write by its error code (a key under an existing object) and keeps writing afterwards', async () => {
    const { store, dispose } = await freshStore();
    await store.put('logs/a', Buffer.from('x'));
    await expect(store.put('logs/a/b', Buffer.from('y'))).rejects.toBeInstanceOf(InvalidInputError);
    expect(await readdir(join(store.root, '.ferry-tmp'))).toEqual([]);
    await store.put('logs/c', Buffer.from('z'));
    expect((await readAll(await store.get('logs/c'))).toString()).toBe('z');
    await dispose();
  });

  it('removes the temp files of puts whose process is gone, keeping those of live processes', async () => {
    const { store, dispose } = await freshStore();
    const { mkdir, writeFile } = await import('node:fs/promises');
    await expect(store.removeAbandonedTemp()).resolves.toEqual([]); // no temp folder yet
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const parent = process.ppid;
    await mkdir(join(store.root, '.ferry-tmp'), { recursive: true });
    for (const name of [`${dead}-1-0.data`, `${dead}-1-0.meta`, `${parent}-1-0.data`, `${process.pid}-1-0.data`]) await writeFile(join(store.root, '.ferry-tmp', name), 'x');
    expect((await store.removeAbandonedTemp()).sort()).toEqual([`${dead}-1-0.data`, `${dead}-1-0.meta`]);
    expect((await readdir(join(store.root, '.ferry-tmp'))).sort()).toEqual([`${parent}-1-0.data`, `${process.pid}-1-0.data`].sort());
    await dispose();
  });

  it('names the temp files of puts on a worker thread after the thread, so they are removed once that thread is stopped mid-put', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-fs-thread-'));
    try {
      // A put whose streamed body never ends holds its temp file open until the thread is stopped.
      const script = join(dir, 'put-forever.mjs');
      await build({
        stdin: {
          contents: `import { PassThrough } from 'node:stream';\nimport { workerData, parentPort } from 'node:worker_threads';\nimport { FsBlobStore } from ${JSON.stringify(join(process.cwd(), 'core/adapters/fs-blob-store.ts'))};\nconst body = new PassThrough();\nvoid new FsBlobStore(workerData, { writes: 'here' }).put('k/forever', body);\nbody.write('half a body');\nsetInterval(() => {}, 1000);\nparentPort.postMessage('writing');`,
          resolveDir: process.cwd(), loader: 'ts',
        },
        bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'silent',
      });
      const store = new FsBlobStore(join(dir, 'store'));
      const { Worker } = await import('node:worker_threads');
      const worker = new Worker(script, { workerData: store.root });
      const threadId = worker.threadId;
      await new Promise((resolve) => worker.once('message', resolve));
      // The body's first chunk is taken; the put opens its temp file about then.
      let temp: string[] = [];
      for (let waited = 0; temp.length === 0 && waited < 10_000; waited += 20) {
        temp = await readdir(join(store.root, '.ferry-tmp')).catch(() => []);
        if (temp.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(temp).toEqual([expect.stringMatching(new RegExp(`^${process.pid}-t${threadId}-\\d+-0\\.data$`))]);
      await worker.terminate();
      // The process lives on, so the scan for dead processes keeps them; the thread's own removal does not.
      expect(await store.removeAbandonedTemp()).toEqual([]);
      expect(await store.removeTempOfThread(threadId + 1)).toEqual([]);
      expect(await store.removeTempOfThread(threadId)).toEqual(temp);
      expect(await readdir(join(store.root, '.ferry-tmp'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not keep a process alive once its writes are done', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-fs-exit-'));
    try {
      // The writer thread is referenced only while a write is under way: a script that puts once
      // and returns must exit by itself, with the object stored.
      const script = join(dir, 'put-once.mjs');
      await build({
        stdin: { contents: `import { FsBlobStore } from ${JSON.stringify(join(process.cwd(), 'core/adapters/fs-blob-store.ts'))};\nawait new FsBlobStore(process.argv[2]).put('k/once', Buffer.from('once'));`, resolveDir: process.cwd(), loader: 'ts' },
        bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'silent',
      });
      const run = spawnSync(process.execPath, [script, join(dir, 'store')], { timeout: 20_000, encoding: 'utf8' });
      expect(run.error).toBeUndefined(); // a timeout would be an error here
      expect(run.status).toBe(0);
      expect((await readAll(await new FsBlobStore(join(dir, 'store')).get('k/once'))).toString()).toBe('once');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
