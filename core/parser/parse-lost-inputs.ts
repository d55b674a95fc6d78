import { lookbackDates } from '../loader/load-window.js';
import { rawEventsPrefix } from '../model/raw-record.js';
import { storageLayout } from '../storage-layout.js';
import { NotFoundError } from '../errors.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import { readBlobText } from '../support/blob-text.js';
import { findUnparsedLogs, findUnparsedRaw } from './find-unparsed.js';
import { logListings } from './log-listings.js';
import { parseBatch } from './parse-batch.js';
import { parseInputs } from './parse-inputs.js';
import type { ParseOptions } from './parse-object.js';

/** How long an input may wait for its own notification before a timer parses it. */
export const lostNotificationAfterMs = 15 * 60_000;
/**
 * How far back a sweep looks for raw objects: each is examined by every tick while it is 15 to
 * 60 minutes old, so a few failed ticks in a row still find it, and a tick lists 45 minutes of
 * raw objects, not days. After ticks that did not run for longer, the sweep mark takes the next
 * tick back to where the last complete sweep ended.
 */
export const lostSweepWindowMs = 60 * 60_000;
/**
 * How far back a sweep catches up after ticks that did not run: the timed load's default
 * look-back. Older strays are counted by `ferry status` (the parse backlog).
 */
export const maxCatchUpMs = 7 * 86_400_000;
const hourMs = 3_600_000;
/** Raw objects found by a sweep are parsed this many at a time, into shared outputs. */
const sweepBatch = 1000;
/** Wall time one timer tick spends on inputs whose notification was lost; the next tick goes on. */
const defaultBudgetMs = 120_000;

/** What a sweep for lost notifications did. */
export interface LostInputsResult {
  /** Inputs parsed (their notification was lost). */
  parsed: string[];
  /** The time budget ran out with more left for the next tick. */
  more: boolean;
}

/**
 * Parses inputs older than `lostNotificationAfterMs` that still have no summary — their
 * notification was lost — so acknowledged events and dropped log files reach the warehouse even
 * then: the collector's raw objects of the last `lostSweepWindowMs` first, parsed in batches;
 * then, if ticks did not run for longer than that, those since the sweep mark (how far the last
 * complete sweep examined, at most `maxCatchUpMs` back), an hour partition at a time, the mark
 * moving with each hour done; then files under the rules files' prefixes (their recent dates'
 * partitions, for those with `dated_keys`) written since the start of yesterday. Each is parsed
 * at the version listed; one that fails is logged and found again by the next sweep.
 */
export async function parseLostInputs(options: ParseOptions, now: Date, budgetMs = defaultBudgetMs): Promise<LostInputsResult> {
  const sweep = new LostInputSweep(options, now, budgetMs);
  const mark = await readSweepMark(options.store);
  if (!(await sweep.rawWindow())) return sweep.result;
  const examined = await sweep.catchUp(mark);
  await writeSweepMark(options.store, examined);
  if (examined < sweep.before.getTime()) return sweep.result;
  await sweep.logs();
  return sweep.result;
}

/** One tick's sweep: its window, its time budget, the raw objects found and not yet parsed. */
class LostInputSweep {
  readonly result: LostInputsResult = { parsed: [], more: false };
  /** Inputs written since then may still get their notification. */
  readonly before: Date;
  private readonly windowStart: Date;
  private readonly started = Date.now();
  private raw: BlobInfo[] = [];
  // The refused requests' objects are partitioned like the raw events: listed by hour, not whole.
  private readonly hours: ((at: Date) => string)[];

  constructor(
    private readonly options: ParseOptions,
    private readonly now: Date,
    private readonly budgetMs: number,
  ) {
    this.before = new Date(now.getTime() - lostNotificationAfterMs);
    this.windowStart = new Date(now.getTime() - lostSweepWindowMs);
    this.hours = [storageLayout.rawHour, ...((options.ruleSets ?? []).some((s) => s.prefix === storageLayout.rawRejections) ? [storageLayout.rejectionsHour] : [])];
  }

  /** The raw objects of the window; false if the budget ran out. */
  async rawWindow(): Promise<boolean> {
    return this.rawBetween(this.windowStart, this.before);
  }

  /**
   * The raw objects from `mark` (clamped to `maxCatchUpMs`) to the window, an hour partition at a
   * time; answers how far it examined: `before` when done, else the start of the hour it stopped in.
   */
  async catchUp(mark: number | undefined): Promise<number> {
    const windowStart = this.windowStart.getTime();
    let examined = Math.max(mark ?? windowStart, this.now.getTime() - maxCatchUpMs);
    while (examined < windowStart) {
      const until = Math.min(Math.floor(examined / hourMs) * hourMs + hourMs, windowStart);
      if (!(await this.rawBetween(new Date(examined), new Date(until)))) return examined;
      examined = until;
    }
    return this.before.getTime();
  }

  /** Log files under the rules files' prefixes written since the start of yesterday. */
  async logs(): Promise<void> {
    const dates = lookbackDates(this.now, 1);
    const since = new Date(`${dates[0]!}T00:00:00Z`);
    // The collectors' own prefixes were swept by hour.
    const listings = logListings(this.options.ruleSets ?? [], [rawEventsPrefix, storageLayout.rawRejections], dates);
    for await (const info of findUnparsedLogs(this.options.store, listings, since, this.before)) {
      if (this.overBudget()) return;
      this.result.parsed.push(...(await parseInputs(this.options, [{ key: info.key, etag: info.etag }])).parsed);
    }
  }

  /** Raw objects received from `since`, in the hour partitions before `until`, parsed in batches; false if the budget ran out. */
  private async rawBetween(since: Date, until: Date): Promise<boolean> {
    for (const hourPrefix of this.hours) {
      for await (const info of findUnparsedRaw(this.options.store, since, this.before, hourPrefix, until)) {
        if (this.overBudget()) break;
        this.raw.push(info);
        if (this.raw.length >= sweepBatch) await this.flush();
      }
      await this.flush();
      if (this.result.more) return false;
    }
    return true;
  }

  private async flush(): Promise<void> {
    const raw = this.raw;
    this.raw = [];
    if (raw.length > 0) this.result.parsed.push(...(await parseBatch(this.options, raw.map((i) => ({ key: i.key, etag: i.etag, size: i.size })))).parsed);
  }

  private overBudget(): boolean {
    return Date.now() - this.started >= this.budgetMs ? (this.result.more = true) : false;
  }
}

/** Where the last complete sweep ended (ms), from the store; undefined before the first, or if unreadable. */
async function readSweepMark(store: BlobStore): Promise<number | undefined> {
  try {
    const at = Date.parse((JSON.parse(await readBlobText(store, storageLayout.sweepMark)) as { examined_until?: unknown }).examined_until as string);
    return Number.isNaN(at) ? undefined : at;
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

async function writeSweepMark(store: BlobStore, at: number): Promise<void> {
  await store.put(storageLayout.sweepMark, Buffer.from(JSON.stringify({ examined_until: new Date(at).toISOString() })));
}
