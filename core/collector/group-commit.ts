import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { StorageError, UnavailableError } from '../errors.js';
import { rawObjectKey } from '../model/raw-record.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';

const gzipAsync = promisify(gzip);

/**
 * Batches up to this size are compressed in the turn that writes them: collecting the pool's
 * result on a busy event loop takes longer than the compression, and every request in the batch
 * waits for it. Larger batches (up to FERRY_BATCH_MAX_BYTES) go to the pool rather than block the
 * loop for milliseconds.
 */
const inlineGzipMaxBytes = 256 * 1024;

// Level 1: a third of the default level's CPU on raw lines, for objects about half again as large.
const gzipLevel = 1;

// Writes under way at once, unless the store says otherwise: more overlap a network round trip.
const defaultWritesInFlight = 4;

/** Bounds of the group commit. */
export interface GroupCommitOptions {
  store: BlobStore;
  clock: Clock;
  ids: IdSource;
  /** FERRY_BATCH_WINDOW_MS: longest a line waits behind a write under way before its batch is written anyway. */
  windowMs: number;
  /** FERRY_BATCH_MAX_BYTES: a batch this large is written at once. */
  maxBatchBytes: number;
  /** FERRY_MAX_PENDING_BYTES: bytes waiting or being written; above it new lines are refused (503). */
  maxPendingBytes: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Batch {
  lines: (string | Buffer)[];
  /** Whether every line is text: then the batch is encoded once, not line by line. */
  text: boolean;
  bytes: number;
  waiters: Waiter[];
  firstAt: Date;
}

/**
 * Group commit: lines that arrive while a write is under way are written together as one raw
 * object by the next write (at most `windowMs` later), so batching costs no latency when idle and
 * grows with load, as in database group commit (up to the store's `parallelPuts` writes overlap);
 * each `submit` resolves only when that object's put succeeded, and every line of a failed put is
 * rejected (nothing half-stored, nothing acknowledged that is not stored). Memory is bounded:
 * past `maxPendingBytes` a submit fails fast with `UnavailableError` instead of queueing.
 */
export class GroupCommitter {
  private current: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pendingBytes = 0;
  private readonly writes = new Set<Promise<void>>();
  private readonly maxWritesInFlight: number;

  constructor(private readonly options: GroupCommitOptions) {
    this.maxWritesInFlight = options.store.parallelPuts ?? defaultWritesInFlight;
  }

  /** Bytes accepted but not yet stored (waiting or being written). */
  get pending(): number {
    return this.pendingBytes;
  }

  /**
   * Queues one line (already ending in LF; text is stored as UTF-8, `bytes` long); resolves once
   * it is durably stored.
   */
  submit(line: string | Buffer, bytes = typeof line === 'string' ? Buffer.byteLength(line) : line.length): Promise<void> {
    if (this.pendingBytes + bytes > this.options.maxPendingBytes) {
      return Promise.reject(new UnavailableError('too many events waiting to be stored; retry later', { limit: 'FERRY_MAX_PENDING_BYTES' }));
    }
    this.pendingBytes += bytes;
    const batch = (this.current ??= { lines: [], text: true, bytes: 0, waiters: [], firstAt: this.options.clock.now() });
    batch.lines.push(line);
    if (typeof line !== 'string') batch.text = false;
    batch.bytes += bytes;
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.bytes >= this.options.maxBatchBytes) this.flush();
    else if (this.writes.size < this.maxWritesInFlight) this.scheduleSoon();
    else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    return done;
  }

  /** Writes what is waiting now and resolves when every write under way has finished. */
  async drain(): Promise<void> {
    this.flush();
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  // Lines arriving in the same turn of the event loop share the write.
  private soon = false;
  private scheduleSoon(): void {
    if (this.soon) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      if (this.writes.size < this.maxWritesInFlight) this.flush();
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.current;
    this.current = undefined;
    if (!batch) return;
    const write = this.write(batch).finally(() => {
      this.writes.delete(write);
      // What gathered during this write goes out now, as one batch.
      if (this.current && this.writes.size < this.maxWritesInFlight) this.flush();
    });
    this.writes.add(write);
  }

  private async write(batch: Batch): Promise<void> {
    const key = rawObjectKey(batch.firstAt, this.options.ids.next(batch.firstAt));
    try {
      // Text lines are encoded as one string: a buffer per line cost an allocation each.
      const lines = batch.text ? Buffer.from(batch.lines.join('')) : Buffer.concat(batch.lines.map((l) => (typeof l === 'string' ? Buffer.from(l) : l)), batch.bytes);
      const body = lines.byteLength <= inlineGzipMaxBytes ? gzipSync(lines, { level: gzipLevel }) : await gzipAsync(lines, { level: gzipLevel });
      await this.options.store.put(key, body);
      for (const w of batch.waiters) w.resolve();
    } catch (err) {
      const failure = new StorageError('could not store the batch; retry later', { key }, { cause: err });
      for (const w of batch.waiters) w.reject(failure);
    } finally {
      this.pendingBytes -= batch.bytes;
    }
  }
}
