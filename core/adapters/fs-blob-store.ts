import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidInputError, NotFoundError, StorageError } from '../errors.js';
import type { BlobBody, BlobCreated, BlobCreatedSource, BlobInfo, BlobMetadata, BlobStore, ListOptions } from '../ports/blob-store.js';
import { assertPortableMetadata, assertValidKey, compareKeys } from '../support/blob-metadata.js';

interface Sidecar {
  etag: string;
  size: number;
  metadata: BlobMetadata;
}

const metaDir = '.ferry-meta';
const tmpDir = '.ferry-tmp';

function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as { code?: string }).code ?? '');
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `BlobStore` on the local filesystem: the embedded default. Objects are plain files under
 * `root/<key>` (so a newcomer can look at them); metadata and ETag live in a sidecar under
 * `root/.ferry-meta/`. A put is written to a temp file, fsync'd, then renamed into place, so it
 * is atomic and durable before it resolves. It also tells in-process subscribers about each new
 * object, standing in for S3 notifications / Event Grid.
 *
 * Limitation of a filesystem: a key cannot be both an object and a "folder" (`a` and `a/b`).
 */
export class FsBlobStore implements BlobStore, BlobCreatedSource {
  private readonly listeners = new Set<(event: BlobCreated) => void>();
  private sequence = 0;

  constructor(readonly root: string) {}

  onCreated(listener: (event: BlobCreated) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async put(key: string, body: BlobBody, metadata: BlobMetadata = {}): Promise<BlobInfo> {
    assertValidKey(key);
    assertPortableMetadata(metadata);
    const tmp = join(this.root, tmpDir);
    const token = `${process.pid}-${Date.now()}-${this.sequence++}`;
    const dataTmp = join(tmp, `${token}.data`);
    const metaTmp = join(tmp, `${token}.meta`);
    const target = this.path(key);
    const metaTarget = this.metaPath(key);
    // Each await below is a turn of a busy event loop (the collector's), so independent steps
    // run together and directories known to exist are not made again.
    try {
      await Promise.all([this.ensureDir(tmp), this.ensureDir(dirname(target)), this.ensureDir(dirname(metaTarget))]);
      // The sidecar needs no fsync: if a crash loses it, head() derives the ETag from the bytes again.
      const writeSidecar = (etag: string, size: number) => writeFile(metaTmp, JSON.stringify({ etag, size, metadata } satisfies Sidecar));
      let written: Awaited<ReturnType<FsBlobStore['writeDurably']>>;
      if (body instanceof Uint8Array) {
        // An in-memory body's ETag is known up front, so both files are written at once.
        const etag = createHash('md5').update(body).digest('hex');
        [written] = await Promise.all([this.writeDurably(dataTmp, body, etag), writeSidecar(etag, body.byteLength)]);
      } else {
        written = await this.writeDurably(dataTmp, body);
        await writeSidecar(written.etag, written.size);
      }
      // Sidecar first: a crash in between leaves no object, or (on overwrite) the old bytes.
      await rename(metaTmp, metaTarget);
      await rename(dataTmp, target);
      await fsyncPath(dirname(target));
      const info: BlobInfo = { key, size: written.size, etag: written.etag, lastModified: written.mtime, metadata: { ...metadata } };
      const event: BlobCreated = { key, etag: info.etag, size: written.size };
      for (const listener of this.listeners) setImmediate(() => listener(event));
      return info;
    } catch (err) {
      this.knownDirs.clear(); // a directory may have been removed under us
      await Promise.all([rm(dataTmp, { force: true }), rm(metaTmp, { force: true })]);
      if (isErrno(err, 'ENOTDIR', 'EISDIR', 'EEXIST')) {
        throw new InvalidInputError('key conflicts with an existing object or folder in the filesystem store', { key });
      }
      if (err instanceof InvalidInputError) throw err;
      throw new StorageError(`filesystem put failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }

  /** Writes `body` to `path` and fsyncs it through one handle; the mtime is read before close (a rename keeps it). A stream is hashed as it passes. */
  private async writeDurably(path: string, body: BlobBody, knownEtag?: string): Promise<{ etag: string; size: number; mtime: Date }> {
    const handle = await open(path, 'w');
    try {
      const hash = createHash('md5');
      let size = 0;
      if (body instanceof Uint8Array) {
        size = body.byteLength;
        await handle.writeFile(body);
      } else {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
          for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset)).bytesWritten;
        }
      }
      await handle.sync();
      const { mtime } = await handle.stat();
      return { etag: knownEtag ?? hash.digest('hex'), size, mtime };
    } finally {
      await handle.close();
    }
  }

  private readonly knownDirs = new Set<string>();
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  async get(key: string): Promise<Readable> {
    assertValidKey(key);
    try {
      const handle = await open(this.path(key), 'r');
      return handle.createReadStream();
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw new NotFoundError(key);
      throw new StorageError(`filesystem get failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }

  async head(key: string): Promise<BlobInfo> {
    assertValidKey(key);
    return this.info(key);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<BlobInfo> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    yield* this.walk(dirKey, prefix, options.startAfter);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await rm(this.path(key), { force: true });
    await rm(this.metaPath(key), { force: true });
  }

  private path(key: string): string {
    return join(this.root, key);
  }

  private metaPath(key: string): string {
    return join(this.root, metaDir, `${key}.json`);
  }

  private async info(key: string): Promise<BlobInfo> {
    let stats;
    try {
      stats = await stat(this.path(key));
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw new NotFoundError(key);
      throw new StorageError(`filesystem head failed: ${(err as Error).message}`, { key }, { cause: err });
    }
    if (!stats.isFile()) throw new NotFoundError(key);
    let sidecar: Sidecar | undefined;
    try {
      sidecar = JSON.parse(await readFile(this.metaPath(key), 'utf8')) as Sidecar;
    } catch {
      sidecar = undefined;
    }
    if (sidecar === undefined || sidecar.size !== stats.size) {
      // A file dropped in by hand (or a torn overwrite): derive the ETag from the bytes.
      const hash = createHash('md5');
      for await (const chunk of createReadStream(this.path(key))) hash.update(chunk as Buffer);
      sidecar = { etag: hash.digest('hex'), size: stats.size, metadata: sidecar?.metadata ?? {} };
    }
    return { key, size: stats.size, etag: sidecar.etag, lastModified: stats.mtime, metadata: sidecar.metadata };
  }

  // Depth-first walk in UTF-8 byte order of the full keys: a folder sorts as its name plus "/".
  private async *walk(dirKey: string, prefix: string, startAfter: string | undefined): AsyncIterable<BlobInfo> {
    let entries;
    try {
      entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return;
      throw new StorageError(`filesystem list failed: ${(err as Error).message}`, { key: dirKey }, { cause: err });
    }
    const children = entries
      .filter((e) => !(dirKey === '' && e.name.startsWith('.ferry')) && (e.isDirectory() || e.isFile()))
      .map((e) => ({ key: dirKey + e.name + (e.isDirectory() ? '/' : ''), dir: e.isDirectory() }))
      .sort((a, b) => compareKeys(a.key, b.key));
    for (const child of children) {
      if (child.dir) {
        if (!child.key.startsWith(prefix) && !prefix.startsWith(child.key)) continue;
        if (startAfter !== undefined && compareKeys(child.key, startAfter) < 0 && !startAfter.startsWith(child.key)) continue;
        yield* this.walk(child.key, prefix, startAfter);
      } else {
        if (!child.key.startsWith(prefix)) continue;
        if (startAfter !== undefined && compareKeys(child.key, startAfter) <= 0) continue;
        try {
          yield await this.info(child.key);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err; // deleted while listing
        }
      }
    }
  }
}
