import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, TransformOptions } from 'node:stream';
import { once } from 'node:events';
import { createGzip, type Gzip, type ZlibOptions } from 'node:zlib';
import { utf8LongerThan } from '../support/utf8-length.js';

/**
 * Text is gathered into buffers of this size before it goes to zlib: each zlib stream write
 * costs ~100 µs of fixed overhead, so 256 KiB writes took 40 % less CPU than the parser's
 * ~40 KiB chunks.
 */
const gatherBytes = 256 * 1024;

interface Sink {
  gzip: Gzip;
  file: WriteStream;
  closed: Promise<Error | undefined>;
}

/**
 * Gzip'd output spooled to a temporary file, so memory stays flat however large the output and
 * the row count is known before the object (with its metadata) is published in one atomic put.
 * The file is only created on the first write, so an unused spool costs nothing.
 */
export class GzipSpool {
  private sink: Sink | undefined;
  private lines = 0;
  private gathered = Buffer.allocUnsafe(0);
  private used = 0;

  private constructor(private readonly dir: string, readonly path: string) {}

  /** Creates a spool in a fresh directory under `parent` (the OS temp dir by default). */
  static async create(parent = tmpdir()): Promise<GzipSpool> {
    const dir = await mkdtemp(join(parent, 'ferry-spool-'));
    return new GzipSpool(dir, join(dir, 'out.gz'));
  }

  /** Number of lines written so far. */
  get count(): number {
    return this.lines;
  }

  /**
   * Writes `lines` lines (the text already ends in LF), waiting when the gzip stream applies
   * backpressure so memory stays bounded however fast the input is read.
   */
  async write(text: string, lines = 1): Promise<void> {
    const sink = (this.sink ??= this.open());
    this.lines += lines;
    if (!utf8LongerThan(text, this.gathered.length - this.used)) {
      this.used += this.gathered.write(text, this.used);
      return;
    }
    await this.flush(sink);
    if (utf8LongerThan(text, gatherBytes)) {
      if (!sink.gzip.write(text)) await once(sink.gzip, 'drain');
      return;
    }
    this.gathered = Buffer.allocUnsafe(gatherBytes);
    this.used = this.gathered.write(text);
  }

  /** Hands the gathered bytes to zlib; the buffer then belongs to the stream, so a new one is made. */
  private async flush(sink: Sink): Promise<void> {
    if (this.used === 0) return;
    const bytes = this.gathered.subarray(0, this.used);
    this.gathered = Buffer.allocUnsafe(0);
    this.used = 0;
    if (!sink.gzip.write(bytes)) await once(sink.gzip, 'drain');
  }

  /** Finishes the gzip stream and returns a reader of the spooled bytes and their size. */
  async finish(): Promise<{ body: Readable; size: number }> {
    const sink = (this.sink ??= this.open());
    await this.flush(sink);
    sink.gzip.end();
    const error = await sink.closed;
    if (error) throw error;
    const { size } = await stat(this.path);
    return { body: createReadStream(this.path), size };
  }

  /** Deletes the temporary file. Safe to call more than once. */
  async dispose(): Promise<void> {
    if (this.sink) {
      // Destroying the gzip stream alone leaves the piped file open and 'close' would never come.
      this.sink.gzip.destroy();
      this.sink.file.destroy();
      await this.sink.closed;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private open(): Sink {
    // With the default 16 KiB mark every write waited for its own compression, leaving the
    // parser idle a fifth of the time. A 128 KiB output chunk holds a whole gathered buffer's
    // compressed bytes, so zlib finishes each write in one pool job instead of waiting for the
    // busy main thread between 16 KiB pieces (−15 % wall time on the nginx bench).
    // (zlib passes stream options on to its Transform; @types/node's ZlibOptions omits them.)
    const options: ZlibOptions & TransformOptions = { level: 1, writableHighWaterMark: 1024 * 1024, chunkSize: 128 * 1024 };
    const gzip = createGzip(options);
    const file = createWriteStream(this.path);
    let failure: Error | undefined;
    // Errors are remembered and reported by finish(), never left as an unhandled rejection.
    const closed = new Promise<Error | undefined>((resolve) => file.on('close', () => resolve(failure)));
    file.on('error', (err) => {
      failure = err;
      gzip.destroy(err);
    });
    gzip.on('error', (err) => {
      failure ??= err;
      file.destroy();
    });
    gzip.pipe(file);
    return { gzip, file, closed };
  }
}
