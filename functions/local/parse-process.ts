import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ParserSettings } from '../../core/config.js';
import { FerryError } from '../../core/errors.js';
import type { ParseInput } from '../../core/parser/parse-object.js';
import type { ParseSummary } from '../../core/parser/parse-summary.js';
import type { LogLevel } from '../../core/ports/logger.js';

/** What the parse process needs to open the store and compile the rules itself. */
export interface ParseWorkerData {
  storeRoot: string;
  rulesFiles: readonly string[];
  parser: ParserSettings;
  logLevel: LogLevel;
}

/** Parent → parse process: parse one input. */
export interface ParseRequest extends ParseInput {
  id: number;
}

/** Parse process → parent: request `id` finished (id 0: the process is ready); `error` holds a failure's log fields. */
export interface ParseReply {
  id: number;
  /** The parse's summary, when it succeeded. */
  summary?: ParseSummary;
  error?: Record<string, unknown>;
}

/** A parse that failed in the parse process, with the fields it logged for it. */
export class ParseProcessError extends FerryError {
  constructor(readonly fields: Record<string, unknown>) {
    super('parse', typeof fields.error === 'string' ? fields.error : 'parse failed in the parse process', fields);
  }
}

/**
 * Runs `parseObject` in a child process at a lower CPU priority, one input at a time in the
 * order asked. A process and not a worker thread: the parse's gzip work runs on libuv's thread
 * pool, which a thread would share with the collector's writes, and a nice value set before
 * that pool starts covers all of its threads. A child that dies fails what it had in hand
 * (the caller retries those inputs) and is started afresh for the next parse.
 */
export class ParseProcess {
  /** A child with nothing to parse for this long exits; the next parse starts another. */
  static readonly idleExitMs = 30_000;
  private child: ChildProcess | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (summary: ParseSummary | undefined) => void; reject: (err: Error) => void }>();

  /** `onExit` hears of each child that exited, killed or stopped. */
  constructor(
    private readonly script: URL,
    private readonly data: ParseWorkerData,
    private readonly events: { onExit?: () => void } = {},
  ) {}

  /** Parses one input in the child; rejects with `ParseProcessError` if the parse failed. */
  async parse(input: ParseInput): Promise<ParseSummary | undefined> {
    clearTimeout(this.idleTimer);
    const child = await this.started();
    const id = this.nextId++;
    const done = new Promise<ParseSummary | undefined>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    child.send({ id, ...input } satisfies ParseRequest);
    return done.finally(() => this.exitWhenIdle());
  }

  /** An idle box should not keep a second Node process resident between bursts of work. */
  private exitWhenIdle(): void {
    if (this.pending.size > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), ParseProcess.idleExitMs).unref();
  }

  /** Stops the child; parses in hand are failed. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }

  private started(): Promise<ChildProcess> {
    if (!this.ready) {
      // A small young generation: the parse's garbage is short-lived, and a small box counts resident memory.
      const child = fork(fileURLToPath(this.script), [JSON.stringify(this.data)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, '--max-semi-space-size=2'] });
      this.child = child;
      this.ready = new Promise<ChildProcess>((resolve, reject) => {
        child.on('message', (reply: ParseReply) => {
          if (reply.id === 0) return resolve(child);
          const waiter = this.pending.get(reply.id);
          this.pending.delete(reply.id);
          if (reply.error) waiter?.reject(new ParseProcessError(reply.error));
          else waiter?.resolve(reply.summary);
        });
        const fail = (err: Error) => {
          if (this.child === child) {
            this.child = undefined;
            this.ready = undefined;
          }
          reject(err);
          for (const waiter of this.pending.values()) waiter.reject(err);
          this.pending.clear();
        };
        child.on('error', fail);
        child.on('exit', (code, signal) => {
          fail(new FerryError('parse', `the parse process exited (${signal ?? `code ${code}`})`));
          this.events.onExit?.();
        });
      });
    }
    return this.ready;
  }
}
