import { createHash } from 'node:crypto';
import { createReadStream, fstatSync, readFileSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { isMainThread, threadId } from 'node:worker_threads';
import { FerryError, InvalidInputError, NotFoundError, StorageError } from '../errors.js';
import type { BlobBody, BlobCreated, BlobCreatedSource, BlobInfo, BlobMetadata, BlobStore, GetOptions, ListOptions } from '../ports/blob-store.js';
import { requireVersion } from '../support/blob-version.js';
import { writeDurablyHere, writeDurablyInThread, type DurableWriteResult } from './fs-writer-thread.js';
import { assertPortableMetadata, assertValidKey, compareKeys } from '../support/blob-metadata.js';

/** Where a put writes: temporary files beside their final names. */
interface PutPaths {
  dataTmp: string;
  metaTmp: string;
  target: string;
  metaTarget: string;
}

interface Sidecar {
  etag: string;
  size: number;
  metadata: BlobMetadata;
  /**
   * The data file this sidecar was written for (absent in sidecars written before these fields
   * were: those are trusted on size alone). A put renames the sidecar into place before the data, so for a
   * moment the sidecar is the new one and the file the old: these tell them apart.
   */
  ino?: number;
  mtimeMs?: number;
}

/** Whether `sidecar` describes the data file whose stats are `stats`. */
function describes(sidecar: Sidecar, stats: Stats): boolean {
  if (sidecar.size !== stats.size) return false;
  return sidecar.ino === undefined || (sidecar.ino === stats.ino && sidecar.mtimeMs === stats.mtimeMs);
}

/** Files without a sidecar whose derived ETag is remembered (the oldest is forgotten first). */
const derivedLimit = 4096;

const metaDir = '.ferry-meta';
const tmpDir = '.ferry-tmp';

function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as { code?: string }).code ?? '');
}

/** A temp file's name starts with its writer: the pid, and on a worker thread its id (`123-t2-`). */
function tempPrefix(thread: number | undefined = isMainThread ? undefined : threadId): string {
  return thread === undefined ? `${process.pid}-` : `${process.pid}-t${thread}-`;
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The whole file behind `handle`, by positioned reads that leave its stream's offset alone. */
async function* readAt(handle: FileHandle): AsyncIterable<Uint8Array> {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    yield buffer.subarray(0, bytesRead);
    position += bytesRead;
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
  /**
   * In-memory bodies are written one at a time on the writer thread: a second batch queued
   * behind the first would only be a smaller batch waiting as long.
   */
  readonly parallelPuts = 1;

  /** Created notifications carry the bytes of in-memory puts up to this size (a copy each). */
  static readonly toldBodyMaxBytes = 1024 * 1024;

  /**
   * `writes: 'here'` makes in-memory puts block the calling thread instead of handing them to
   * the writer thread: for a worker thread that serves nothing else (the local runner's parse),
   * where a writer thread of its own would cost a V8 heap and a message each way.
   */
  constructor(
    readonly root: string,
    private readonly options: { writes?: 'writer thread' | 'here' } = {},
  ) {}

  onCreated(listener: (event: BlobCreated) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async put(key: string, body: BlobBody, metadata: BlobMetadata = {}): Promise<BlobInfo> {
    assertValidKey(key);
    assertPortableMetadata(metadata);
    const tmp = join(this.root, tmpDir);
    const token = `${tempPrefix()}${Date.now()}-${this.sequence++}`;
    const paths: PutPaths = {
      dataTmp: join(tmp, `${token}.data`),
      metaTmp: join(tmp, `${token}.meta`),
      target: this.path(key),
      metaTarget: this.metaPath(key),
    };
    // What subscribers are told of is what this put wrote, whatever the putter does with its buffer after.
    const told = body instanceof Uint8Array && body.byteLength <= FsBlobStore.toldBodyMaxBytes && this.listeners.size > 0 ? new Uint8Array(body) : undefined;
    try {
      const written = body instanceof Uint8Array ? await this.writeBuffer(body, metadata, paths) : await this.writeStream(body, metadata, paths);
      const info: BlobInfo = { key, size: written.size, etag: written.etag, lastModified: new Date(written.mtimeMs), metadata: { ...metadata } };
      const event: BlobCreated = { key, etag: info.etag, size: written.size, ...(told ? { body: told } : {}) };
      for (const listener of this.listeners) setImmediate(() => listener(event));
      return info;
    } catch (err) {
      this.knownDirs.clear(); // a directory may have been removed under us
      await Promise.all([rm(paths.dataTmp, { force: true }), rm(paths.metaTmp, { force: true })]);
      if (isErrno(err, 'ENOTDIR', 'EISDIR', 'EEXIST')) {
        throw new InvalidInputError('key conflicts with an existing object or folder in the filesystem store', { key });
      }
      if (err instanceof InvalidInputError) throw err;
      throw new StorageError(`filesystem put failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }

  /** An in-memory body (the collector's batches, small parser outputs): one hand-off to the writer thread. */
  private async writeBuffer(body: Uint8Array, metadata: BlobMetadata, paths: PutPaths): Promise<DurableWriteResult> {
    const dirs = [dirname(paths.dataTmp), dirname(paths.target), dirname(paths.metaTarget)].filter((d) => !this.knownDirs.has(d));
    const job = { ...paths, dirs, body, metadata };
    const written = this.options.writes === 'here' ? writeDurablyHere(job) : await writeDurablyInThread(job);
    for (const dir of dirs) this.knownDirs.add(dir);
    return written;
  }

  /** A stream: written and hashed as it passes, through one fsync'd handle, then published like a buffer. */
  private async writeStream(body: Readable, metadata: BlobMetadata, paths: PutPaths): Promise<DurableWriteResult> {
    // Each await below is a turn of the event loop, so independent steps run together.
    await Promise.all([this.ensureDir(dirname(paths.dataTmp)), this.ensureDir(dirname(paths.target)), this.ensureDir(dirname(paths.metaTarget))]);
    const handle = await open(paths.dataTmp, 'w');
    let written: DurableWriteResult;
    try {
      const hash = createHash('md5');
      let size = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset)).bytesWritten;
      }
      await handle.sync();
      // Read before close: the rename keeps both.
      const { mtimeMs, ino } = await handle.stat();
      written = { etag: hash.digest('hex'), size, mtimeMs, ino };
    } finally {
      await handle.close();
    }
    // The sidecar needs no fsync: if a crash loses it, head() derives the ETag from the bytes again.
    await writeFile(paths.metaTmp, JSON.stringify({ ...written, metadata } satisfies Sidecar));
    // Sidecar first: a crash in between leaves no object, or (on overwrite) the old bytes.
    await rename(paths.metaTmp, paths.metaTarget);
    await rename(paths.dataTmp, paths.target);
    await fsyncPath(dirname(paths.target));
    return written;
  }

  private readonly knownDirs = new Set<string>();
  /**
   * ETags derived from the bytes of files that have no sidecar (dropped in by hand), by key, with
   * the file's identity: the local runner lists log prefixes before every load, and hashing a
   * large dropped log again would read it whole at every tick.
   */
  private readonly derived = new Map<string, Sidecar>();
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    assertValidKey(key);
    let body: Readable | undefined;
    try {
      const handle = await open(this.path(key), 'r');
      body = handle.createReadStream();
      if (options.etag === undefined) return body;
      // The open file is the version read, whatever is renamed over its name meanwhile.
      const current = await this.identify(key, fstatSync(handle.fd), () => readAt(handle));
      return requireVersion(key, options, current.etag, body);
    } catch (err) {
      body?.destroy();
      if (err instanceof FerryError) throw err;
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
    yield* this.walk(dirKey, prefix, options.startAfter, options.skip);
  }

  /**
   * Removes the temporary files of puts whose process is gone (killed mid-put: they were never
   * renamed into place, so no object refers to them) and returns their names. A temp file is
   * named after the pid that writes it; those of live processes (a `ferry put` beside a starting
   * runner) are kept.
   */
  async removeAbandonedTemp(): Promise<string[]> {
    return this.removeTemp((name) => {
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      return Number.isSafeInteger(pid) && pid !== process.pid && !processAlive(pid);
    });
  }

  /** Removes the temporary files of puts made on worker thread `thread` of this process, which has exited. */
  removeTempOfThread(thread: number): Promise<string[]> {
    const prefix = tempPrefix(thread);
    return this.removeTemp((name) => name.startsWith(prefix));
  }

  private async removeTemp(abandoned: (name: string) => boolean): Promise<string[]> {
    const dir = join(this.root, tmpDir);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
      throw new StorageError(`filesystem list failed: ${(err as Error).message}`, { key: tmpDir }, { cause: err });
    }
    const removed: string[] = [];
    for (const name of names) {
      if (!abandoned(name)) continue;
      await rm(join(dir, name), { force: true, recursive: true });
      removed.push(name);
    }
    return removed;
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await rm(this.path(key), { force: true });
    await rm(this.metaPath(key), { force: true });
    this.derived.delete(key);
  }

  private path(key: string): string {
    return join(this.root, key);
  }

  private metaPath(key: string): string {
    return join(this.root, metaDir, `${key}.json`);
  }

  // The stat and sidecar reads of head() and get() are synchronous: a sidecar is a few hundred
  // bytes of a local file, and an asynchronous fs call's hand-off to libuv's pool costs more.
  private async info(key: string): Promise<BlobInfo> {
    let stats;
    try {
      stats = statSync(this.path(key));
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw new NotFoundError(key);
      throw new StorageError(`filesystem head failed: ${(err as Error).message}`, { key }, { cause: err });
    }
    if (!stats.isFile()) throw new NotFoundError(key);
    const sidecar = await this.identify(key, stats, () => createReadStream(this.path(key)));
    return { key, size: stats.size, etag: sidecar.etag, lastModified: stats.mtime, metadata: sidecar.metadata };
  }

  /**
   * The sidecar of the data file `stats` describes; for a file dropped in by hand, or caught
   * between a put's two renames, one made up from the bytes (`read`) and whatever metadata is there.
   */
  private async identify(key: string, stats: Stats, read: () => AsyncIterable<Uint8Array>): Promise<Sidecar> {
    let sidecar: Sidecar | undefined;
    try {
      sidecar = JSON.parse(readFileSync(this.metaPath(key), 'utf8')) as Sidecar;
    } catch {
      sidecar = undefined;
    }
    if (sidecar !== undefined && describes(sidecar, stats)) return sidecar;
    const known = this.derived.get(key);
    if (known !== undefined && describes(known, stats)) return { ...known, metadata: sidecar?.metadata ?? {} };
    const hash = createHash('md5');
    for await (const chunk of read()) hash.update(chunk);
    const made: Sidecar = { etag: hash.digest('hex'), size: stats.size, metadata: sidecar?.metadata ?? {}, ino: stats.ino, mtimeMs: stats.mtimeMs };
    this.derived.delete(key);
    this.derived.set(key, made);
    if (this.derived.size > derivedLimit) this.derived.delete(this.derived.keys().next().value!);
    return made;
  }

  // Depth-first walk in UTF-8 byte order of the full keys: a folder sorts as its name plus "/".
  private async *walk(dirKey: string, prefix: string, startAfter: string | undefined, skip?: (key: string) => boolean): AsyncIterable<BlobInfo> {
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
        yield* this.walk(child.key, prefix, startAfter, skip);
      } else {
        if (!child.key.startsWith(prefix)) continue;
        if (startAfter !== undefined && compareKeys(child.key, startAfter) <= 0) continue;
        if (skip?.(child.key)) continue;
        try {
          yield await this.info(child.key);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err; // deleted while listing
        }
      }
    }
  }
}
