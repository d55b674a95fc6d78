import { Worker } from 'node:worker_threads';
import type { ParserSettings } from '../../core/config.js';
import { FerryError } from '../../core/errors.js';
import type { ParseInput } from '../../core/parser/parse-object.js';
import type { ParseSummary } from '../../core/parser/parse-summary.js';
import type { LogLevel } from '../../core/ports/logger.js';

/** What the parse thread needs to open the store and compile the rules itself. */
export interface ParseWorkerData {
  storeRoot: string;
  rulesFiles: readonly string[];
  parser: ParserSettings;
  logLevel: LogLevel;
}

/** The most raw objects the parse thread parses together (as many as wait, up to this). */
export const parseThreadBatchInputs = 64;

/** Parent → parse thread: parse one input. */
export interface ParseRequest extends ParseInput {
  id: number;
}

/** Parse thread → parent: request `id` finished (id 0: the thread is ready); `error` holds a failure's log fields. */
export interface ParseReply {
  id: number;
  /** The parse's summary, when it succeeded. */
  summary?: ParseSummary;
  error?: Record<string, unknown>;
}

/** A parse that failed in the parse thread, with the fields it logged for it. */
export class ParseThreadError extends FerryError {
  constructor(readonly fields: Record<string, unknown>) {
    super('parse', typeof fields.error === 'string' ? fields.error : 'parse failed in the parse thread', fields);
  }
}

/**
 * Runs `parseObject` on a worker thread at a lower CPU priority, one input at a time in the
 * order asked. A thread, not a child process: a second Node process cost a small box ≈ 90 MiB
 * resident under load, a thread a third of it. The collector's durable puts have their own
 * writer thread and small outputs are gzip'd in the turn, so libuv's pool is little shared. A
 * thread that dies (an exception it did not catch, its heap limit) fails what it had in hand
 * (the caller retries those inputs) and a new one starts for the next parse.
 */
export class ParseThread {
  /** A thread with nothing to parse for this long exits; the next parse starts another. */
  static readonly idleExitMs = 30_000;
  /**
   * The parse's garbage is short-lived, but a member's rows live until it is written out: a young
   * generation much smaller than this copies them at every scavenge, a larger one holds more memory.
   */
  static readonly youngGenerationMb = 12;
  /**
   * The parse streams, so its heap stays far below this; a parse that grows past it (a bug) ends
   * its thread, not the collector's process with it.
   */
  static readonly defaultMaxHeapMb = 512;
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private ready: Promise<Worker> | undefined;
  private nextId = 1;
  // Each parse with the thread it was sent to: a thread stopped when idle may exit after the next one started.
  private readonly pending = new Map<number, { worker: Worker; resolve: (summary: ParseSummary | undefined) => void; reject: (err: Error) => void }>();

  /** `onExit` hears of each thread that exited, was stopped or died, with its `threadId`; `maxHeapMb` bounds the thread's old generation. */
  constructor(
    private readonly script: URL,
    private readonly data: ParseWorkerData,
    private readonly options: { onExit?: (threadId: number) => void; maxHeapMb?: number } = {},
  ) {}

  /** Parses one input on the thread; rejects with `ParseThreadError` if the parse failed. */
  async parse(input: ParseInput): Promise<ParseSummary | undefined> {
    clearTimeout(this.idleTimer);
    const worker = await this.started();
    const id = this.nextId++;
    const done = new Promise<ParseSummary | undefined>((resolve, reject) => this.pending.set(id, { worker, resolve, reject }));
    worker.postMessage({ id, ...input } satisfies ParseRequest);
    return done.finally(() => this.exitWhenIdle());
  }

  /** An idle box should not keep the thread's heap resident between bursts of work. */
  private exitWhenIdle(): void {
    if (this.pending.size > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), ParseThread.idleExitMs).unref();
  }

  /** Stops the thread; parses in hand are failed. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    await worker?.terminate();
  }

  private started(): Promise<Worker> {
    if (!this.ready) {
      const resourceLimits = { maxYoungGenerationSizeMb: ParseThread.youngGenerationMb, maxOldGenerationSizeMb: this.options.maxHeapMb ?? ParseThread.defaultMaxHeapMb };
      const worker = new Worker(this.script, { workerData: this.data, resourceLimits });
      const threadId = worker.threadId;
      this.worker = worker;
      this.ready = new Promise<Worker>((resolve, reject) => {
        worker.on('message', (reply: ParseReply) => {
          if (reply.id === 0) return resolve(worker);
          const waiter = this.pending.get(reply.id);
          this.pending.delete(reply.id);
          if (reply.error) waiter?.reject(new ParseThreadError(reply.error));
          else waiter?.resolve(reply.summary);
        });
        let failure: Error | undefined;
        worker.on('error', (err) => (failure = err));
        worker.on('exit', (code) => {
          if (this.worker === worker) {
            this.worker = undefined;
            this.ready = undefined;
          }
          const err = new FerryError('parse', `the parse thread exited (code ${code}${failure ? `: ${failure.message}` : ''})`, {}, failure ? { cause: failure } : undefined);
          reject(err);
          for (const [id, waiter] of this.pending) {
            if (waiter.worker !== worker) continue;
            this.pending.delete(id);
            waiter.reject(err);
          }
          this.options.onExit?.(threadId);
        });
      });
    }
    return this.ready;
  }
}
