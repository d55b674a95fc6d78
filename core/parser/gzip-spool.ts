import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

/**
 * Gzip'd output spooled to a temporary file, so memory stays flat however large the output and
 * the row count is known before the object (with its metadata) is published in one atomic put.
 */
export class GzipSpool {
  private readonly gzip = createGzip({ level: 6 });
  private readonly done: Promise<void>;
  private lines = 0;

  private constructor(private readonly dir: string, readonly path: string) {
    const file = createWriteStream(path);
    this.gzip.pipe(file);
    this.done = once(file, 'close').then(() => undefined);
    file.on('error', (err) => this.gzip.destroy(err));
  }

  /** Creates a spool in a fresh directory under `parent` (the OS temp dir by default). */
  static async create(parent = tmpdir()): Promise<GzipSpool> {
    const dir = await mkdtemp(join(parent, 'ferry-spool-'));
    return new GzipSpool(dir, join(dir, 'out.gz'));
  }

  /** Number of lines written so far. */
  get count(): number {
    return this.lines;
  }

  /** Writes one line (already ending in LF), waiting when the gzip stream applies backpressure. */
  async write(line: string): Promise<void> {
    this.lines++;
    if (!this.gzip.write(line)) await once(this.gzip, 'drain');
  }

  /** Finishes the gzip stream and returns a reader of the spooled bytes and their size. */
  async finish(): Promise<{ body: Readable; size: number }> {
    this.gzip.end();
    await this.done;
    const { size } = await stat(this.path);
    return { body: createReadStream(this.path), size };
  }

  /** Deletes the temporary file. Safe to call more than once. */
  async dispose(): Promise<void> {
    this.gzip.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}
