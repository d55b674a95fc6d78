import type { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import type { FerryConfig } from '../../core/config.js';
import { NotFoundError, VersionChangedError } from '../../core/errors.js';
import { lookbackDates } from '../../core/loader/load-window.js';
import { rawEventsPrefix } from '../../core/model/raw-record.js';
import { findUnparsed } from '../../core/parser/find-unparsed.js';
import { logListings } from '../../core/parser/log-listings.js';
import { parseObject, type ParseInput } from '../../core/parser/parse-object.js';
import { ruleSetFor, type RuleSet } from '../../core/parser/rules/rule-set.js';
import type { Logger } from '../../core/ports/logger.js';
import type { Metrics } from '../../core/ports/metrics.js';
import { recordParse } from '../../core/metrics/stage-metrics.js';
import type { ParseSummary } from '../../core/parser/parse-summary.js';
import { errorFields } from '../../core/support/json-logger.js';
import { BodiesInHand } from './bodies-in-hand.js';
import { ParseThread, ParseThreadError } from './parse-thread.js';
import { ParseQueue, type TaskFailure } from './parse-queue.js';

/** What the local runner's parsing needs. */
export interface LocalParserOptions {
  store: FsBlobStore;
  ruleSets: readonly RuleSet[];
  config: FerryConfig;
  logger: Logger;
  /** The built parse script; without it parses run on this thread (tests from source). */
  parseWorker?: URL;
  /** Where each parse's line counts and duration go. */
  metrics?: Metrics;
  /** Hears each parse's summary (the rejected rows go to the rejections table). */
  onParsed?: (summary: ParseSummary) => void;
}

function isVersionChanged(err: unknown): boolean {
  return err instanceof VersionChangedError || (err instanceof ParseThreadError && err.fields.error_code === 'version_changed');
}

/** A failure worth retrying: all but an input that is gone (deleted since it was written). */
function retryable(err: unknown): boolean {
  if (err instanceof NotFoundError) return false;
  return !(err instanceof ParseThreadError && err.fields.error_code === 'not_found');
}

/**
 * The local runner's parsing: each object the store reports created, and each unparsed input a
 * scan finds, is parsed through a `ParseQueue`, on a worker thread when `parseWorker` is given.
 * A parse that fails — the thread died, the disk full — is retried with back-off while the
 * runner runs (see `ParseQueue`). That, not a periodic sweep of `raw/events/`, is what brings
 * a failed collector batch back: the in-process notification cannot be lost while the process
 * lives, and a sweep would list the whole raw history every tick. A crash of the runner itself
 * is covered by the scan at start.
 */
export class LocalParser {
  /** How often `scanDropped` lists every prefix whole. */
  static readonly wholeScanEveryMs = 3_600_000;
  private stopping = false;
  private wholeScanAt = Number.NEGATIVE_INFINITY;
  private readonly queue: ParseQueue;
  private readonly thread: ParseThread | undefined;
  private readonly unsubscribe: () => void;
  private readonly inHand = new BodiesInHand();

  constructor(private readonly options: LocalParserOptions) {
    const { store, config, logger } = options;
    // The parse thread parses the raw objects it has in hand together (one output per table and
    // one summary for all: parse-worker.ts), so it is handed many at a time. On this thread, two
    // at a time: a parse waits on the file system about half its time, which the other fills.
    this.queue = new ParseQueue(options.parseWorker ? 64 : 2, {
      onFailure: (failure) => this.logFailure(failure),
      onRetried: (inputs) => logger.info('parse retries succeed again: failed inputs queued again', { inputs }),
      retry: { firstDelayMs: 1000, maxDelayMs: 60_000, retryable },
    });
    this.thread = options.parseWorker
      ? new ParseThread(
          options.parseWorker,
          { storeRoot: store.root, rulesFiles: config.parser.rulesFiles, parser: config.parser, logLevel: config.logLevel },
          // A thread stopped mid-put leaves the temp files of its puts behind.
          { onExit: (threadId) => void store.removeTempOfThread(threadId).catch((err: unknown) => logger.warn('could not remove temp files', errorFields(err))) },
        )
      : undefined;
    this.unsubscribe = store.onCreated((event) => {
      if (this.stopping || !ruleSetFor(options.ruleSets, event.key)) return;
      this.inHand.offer(event);
      this.queue.add(event.key, this.task(event.key));
    });
  }

  /**
   * Queues the inputs under `prefixes` that have no summary: objects another process put in the
   * store (no in-process notification) and those a crash left unparsed. A key being parsed or
   * waiting for a retry is left alone. Answers how many it found.
   */
  async scan(prefixes: readonly string[]): Promise<number> {
    let found = 0;
    for (const prefix of prefixes) {
      for await (const info of findUnparsed(this.options.store, prefix)) {
        if (!ruleSetFor(this.options.ruleSets, info.key)) continue;
        this.queue.addFound(info.key, this.task(info.key));
        found++;
      }
    }
    return found;
  }

  /** Queues every input under the rules files' prefixes that has no summary: at start, for what a crash or another process left. */
  scanAll(now: Date): Promise<number> {
    this.wholeScanAt = now.getTime();
    return this.scan(this.options.ruleSets.map((s) => s.prefix));
  }

  /**
   * Queues what other processes (`ferry put`, a log shipper, `mv`) dropped under the rules files'
   * prefixes, the collector's raw objects aside: under a prefix with `dated_keys` only the recent
   * dates' partitions, except once every `wholeScanEveryMs` (from the start's whole scan), when
   * every prefix is listed whole for a file put under an older date.
   */
  async scanDropped(now: Date): Promise<number> {
    const whole = now.getTime() - this.wholeScanAt >= LocalParser.wholeScanEveryMs;
    if (whole) this.wholeScanAt = now.getTime();
    return this.scan(logListings(this.options.ruleSets, [rawEventsPrefix], whole ? undefined : lookbackDates(now, 1)));
  }

  /** Resolves when nothing is queued or parsing (inputs waiting for a retry aside). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * Lets the parses under way finish and skips the queued ones and the retries: their inputs are
   * safe in the store and the next start finds them.
   */
  async finish(): Promise<void> {
    this.stopping = true;
    this.queue.close();
    this.inHand.clear();
    await this.queue.idle();
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.thread?.close();
  }

  // Queued by key alone: a key written again while its parse waits is one queued task, and that
  // parse takes the version current when it runs (pinning the first notification's ETag would
  // find it replaced and parse nothing): the last notified put's bytes, when they are in hand.
  private task(key: string): () => Promise<unknown> {
    return () => (this.stopping ? Promise.resolve() : this.parse(this.inHand.take(key)));
  }

  private async parse(input: ParseInput): Promise<unknown> {
    const started = performance.now();
    const summary = await this.parseOnce(input).catch((err: unknown) => {
      this.options.metrics?.count('ferry_parser_failures_total');
      throw err;
    });
    if (summary && this.options.metrics) recordParse(this.options.metrics, summary, (performance.now() - started) / 1000);
    if (summary) this.options.onParsed?.(summary);
    return summary;
  }

  private async parseOnce(input: ParseInput): Promise<ParseSummary | undefined> {
    try {
      return await this.parseVersion(input);
    } catch (err) {
      // The key was written again (its notification yet to come) after the bytes in hand: the current version, then.
      if (input.body !== undefined && isVersionChanged(err)) return this.parseVersion({ key: input.key });
      throw err;
    }
  }

  private parseVersion(input: ParseInput): Promise<ParseSummary | undefined> {
    if (this.thread) return this.thread.parse(input);
    const { store, logger, ruleSets, config } = this.options;
    return parseObject({ store, logger, ruleSets, maxLineBytes: config.parser.maxLineBytes }, input);
  }

  private logFailure({ key, err, attempts, willRetry }: TaskFailure): void {
    const { logger } = this.options;
    const fields = { ...(err instanceof ParseThreadError ? err.fields : errorFields(err)), key, attempts };
    if (!retryable(err)) logger.warn('parse skipped: the input is gone', fields);
    else if (!willRetry) logger.error('parse failed; it will be retried at the next start', fields);
    // One line when an input first fails; its retries' failures only at debug level.
    else if (attempts === 1) logger.error('parse failed; retried while the runner runs', fields);
    else logger.debug('parse retry failed', fields);
  }
}
