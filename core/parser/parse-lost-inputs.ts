import { lookbackDates } from '../loader/load-window.js';
import { rawEventsPrefix } from '../model/raw-record.js';
import type { BlobInfo } from '../ports/blob-store.js';
import { findUnparsedLogs, findUnparsedRaw } from './find-unparsed.js';
import { parseInputs } from './parse-inputs.js';
import type { ParseOptions } from './parse-object.js';

/** How long an input may wait for its own notification before a timer parses it. */
export const lostNotificationAfterMs = 15 * 60_000;
/** Wall time one timer tick spends on inputs whose notification was lost; the next tick goes on. */
const defaultBudgetMs = 120_000;

/** What a sweep for lost notifications did. */
export interface LostInputsResult {
  /** Inputs parsed (their notification was lost). */
  parsed: string[];
  /** The time budget ran out with more left for the next tick. */
  more: boolean;
}

/** The rule sets' log prefixes, without the collector's and without any that another one covers. */
function logPrefixes(options: ParseOptions): string[] {
  const prefixes = (options.ruleSets ?? []).map((s) => s.prefix).filter((p) => p !== rawEventsPrefix);
  return [...new Set(prefixes)].filter((p) => !prefixes.some((other) => other !== p && p.startsWith(other))).sort();
}

/**
 * Parses inputs of yesterday, today and tomorrow (relative to `now`) that are older than
 * `lostNotificationAfterMs` and still have no summary — their notification was lost — so
 * acknowledged events and dropped log files reach the warehouse even then: the collector's raw
 * objects first (by date partition), then files under the rules files' prefixes (by last-modified
 * time). Each is parsed at the version listed; one that fails is logged by `parseInputs` and
 * found again by the next sweep.
 */
export async function parseLostInputs(options: ParseOptions, now: Date, budgetMs = defaultBudgetMs): Promise<LostInputsResult> {
  const started = Date.now();
  const result: LostInputsResult = { parsed: [], more: false };
  const dates = lookbackDates(now, 1);
  const before = new Date(now.getTime() - lostNotificationAfterMs);
  const sources: AsyncIterable<BlobInfo>[] = [
    findUnparsedRaw(options.store, dates, before),
    findUnparsedLogs(options.store, logPrefixes(options), new Date(`${dates[0]!}T00:00:00Z`), before),
  ];
  for (const source of sources) {
    for await (const info of source) {
      if (Date.now() - started >= budgetMs) {
        result.more = true;
        return result;
      }
      result.parsed.push(...(await parseInputs(options, [{ key: info.key, etag: info.etag }])).parsed);
    }
  }
  return result;
}
