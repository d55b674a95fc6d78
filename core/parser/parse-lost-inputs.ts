import { lookbackDates } from '../loader/load-window.js';
import { rawEventsPrefix } from '../model/raw-record.js';
import { storageLayout } from '../storage-layout.js';
import type { BlobInfo } from '../ports/blob-store.js';
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
 * raw objects, not days. Older strays are reported by `ferry status` (the parse backlog).
 */
export const lostSweepWindowMs = 60 * 60_000;
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
 * then: the collector's raw objects of the last `lostSweepWindowMs` first, parsed in batches,
 * then files under the rules files' prefixes (their recent dates' partitions, for those with
 * `dated_keys`) written since the start of yesterday. Each is parsed at the version listed; one
 * that fails is logged and found again by the next sweep.
 */
export async function parseLostInputs(options: ParseOptions, now: Date, budgetMs = defaultBudgetMs): Promise<LostInputsResult> {
  const started = Date.now();
  const result: LostInputsResult = { parsed: [], more: false };
  const before = new Date(now.getTime() - lostNotificationAfterMs);
  const overBudget = () => (Date.now() - started >= budgetMs ? (result.more = true) : false);
  let raw: BlobInfo[] = [];
  const flush = async () => {
    if (raw.length > 0) result.parsed.push(...(await parseBatch(options, raw.map((i) => ({ key: i.key, etag: i.etag, size: i.size })))).parsed);
    raw = [];
  };
  // The refused requests' objects are partitioned like the raw events: listed by hour, not whole.
  const hours = [storageLayout.rawHour, ...((options.ruleSets ?? []).some((s) => s.prefix === storageLayout.rawRejections) ? [storageLayout.rejectionsHour] : [])];
  for (const hourPrefix of hours) {
    for await (const info of findUnparsedRaw(options.store, new Date(now.getTime() - lostSweepWindowMs), before, hourPrefix)) {
      if (overBudget()) break;
      raw.push(info);
      if (raw.length >= sweepBatch) await flush();
    }
    await flush();
    if (result.more) return result;
  }
  const since = new Date(`${lookbackDates(now, 1)[0]!}T00:00:00Z`);
  // The collectors' own prefixes were swept by hour above.
  const listings = logListings(options.ruleSets ?? [], [rawEventsPrefix, storageLayout.rawRejections], lookbackDates(now, 1));
  for await (const info of findUnparsedLogs(options.store, listings, since, before)) {
    if (overBudget()) return result;
    result.parsed.push(...(await parseInputs(options, [{ key: info.key, etag: info.etag }])).parsed);
  }
  return result;
}
