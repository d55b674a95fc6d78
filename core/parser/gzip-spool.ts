import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransformOptions } from 'node:stream';
import { once } from 'node:events';
import { createGzip, gzipSync, type Gzip, type ZlibOptions } from 'node:zlib';
import type { BlobBody } from '../ports/blob-store.js';
import { utf8LongerThan } from '../support/utf8-length.js';

/**
 * Text is gathered into buffers of this size before it goes to zlib: each zlib stream write has
 * a fixed overhead, which the parser's small chunks would pay many times over.
 */
const gatherBytes = 256 * 1024;

/**
 * Output up to this size stays in memory and is compressed in one call; only a larger one gets a
 * spool file, so a collector batch's rows (a few hundred KB) cost no file-system round trips.
 */
const memoryBytes = 2 * 1024 * 1024;

interface Sink {
  dir: string;
  path: string;
  gzip: Gzip;
  file: WriteStream;
  closed: Promise<Error | undefined>;
}

// Level 1: rows compress ~6× at a fraction of the default level's CPU.
const level = 1;

/**
 * Gzip'd output, kept in memory while it is small (`memoryBytes`) and spooled to a temporary
 * file beyond that, so memory stays flat however large the output and the row count is known
 * before the object (with its metadata) is published in one atomic put. Small outputs (a
 * collector batch's rows) never touch the disk before the put: a spool file costs a dozen
 * file-system round trips of its own.
 */
export class GzipSpool {
  private sink: Sink | undefined;
  private lines = 0;
  /** Full gathering buffers kept while the output is still small enough for memory. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private gathered = Buffer.allocUnsafe(0);
  private used = 0;

  /** `parent`: where a spool file goes once the output outgrows memory (the OS temp dir by default). */
  constructor(private readonly parent = tmpdir()) {}

  /** Number of lines written so far. */
  get count(): number {
    return this.lines;
  }

  /**
   * Writes `lines` lines (the text already ends in LF), waiting when the gzip stream applies
   * backpressure so memory stays bounded however fast the input is read.
   */
  async write(text: string, lines = 1): Promise<void> {
    this.lines += lines;
    if (!utf8LongerThan(text, this.gathered.length - this.used)) {
      this.used += this.gathered.write(text, this.used);
      return;
    }
    const large = utf8LongerThan(text, gatherBytes);
    // While the output is small, the full buffer is kept; room is left for the text and, unless
    // it is kept on its own, a fresh gathering buffer.
    const room = memoryBytes - this.heldBytes - this.used - (large ? 0 : gatherBytes);
    if (!this.sink && !utf8LongerThan(text, room)) {
      this.hold(this.gathered.subarray(0, this.used));
      if (large) {
        this.hold(Buffer.from(text));
        this.gathered = Buffer.allocUnsafe(0);
        this.used = 0;
      } else {
        this.gathered = Buffer.allocUnsafe(gatherBytes);
        this.used = this.gathered.write(text);
      }
      return;
    }
    await this.flush();
    if (large) {
      if (!this.sink!.gzip.write(text)) await once(this.sink!.gzip, 'drain');
      return;
    }
    this.gathered = Buffer.allocUnsafe(gatherBytes);
    this.used = this.gathered.write(text);
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  /**
   * Opens the spool file if need be and hands it what is held and gathered; the buffers then
   * belong to the stream, so a new one is made.
   */
  private async flush(): Promise<void> {
    const sink = (this.sink ??= await this.open());
    const pieces = this.used > 0 ? [...this.held, this.gathered.subarray(0, this.used)] : this.held;
    this.held = [];
    this.heldBytes = 0;
    this.gathered = Buffer.allocUnsafe(0);
    this.used = 0;
    for (const bytes of pieces) if (!sink.gzip.write(bytes)) await once(sink.gzip, 'drain');
  }

  /** Finishes the gzip stream: the compressed bytes in memory, or a reader of the spool file; and their size. */
  async finish(): Promise<{ body: BlobBody; size: number }> {
    if (!this.sink) {
      // In this turn rather than on zlib's pool: for an output this small, the hand-off to the
      // pool and back cost more CPU than the compression itself.
      const body = gzipSync(Buffer.concat([...this.held, this.gathered.subarray(0, this.used)]), { level });
      return { body, size: body.byteLength };
    }
    const sink = this.sink;
    await this.flush();
    sink.gzip.end();
    const error = await sink.closed;
    if (error) throw error;
    const { size } = await stat(sink.path);
    return { body: createReadStream(sink.path), size };
  }

  /** Deletes the temporary file, if there is one. Safe to call more than once. */
  async dispose(): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    // Destroying the gzip stream alone leaves the piped file open and 'close' would never come.
    sink.gzip.destroy();
    sink.file.destroy();
    await sink.closed;
    await rm(sink.dir, { recursive: true, force: true });
  }

  private async open(): Promise<Sink> {
    const dir = await mkdtemp(join(this.parent, 'ferry-spool-'));
    const path = join(dir, 'out.gz');
    // A 1 MiB write mark keeps the parser from waiting on each write's compression, and a 128 KiB
    // output chunk holds a gathered buffer's compressed bytes: one pool job per write.
    // (zlib passes stream options on to its Transform; @types/node's ZlibOptions omits them.)
    const options: ZlibOptions & TransformOptions = { level, writableHighWaterMark: 1024 * 1024, chunkSize: 128 * 1024 };
    const gzip = createGzip(options);
    const file = createWriteStream(path);
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
    return { dir, path, gzip, file, closed };
  }
}
