import { lookbackDates } from '../loader/load-window.js';
import { findUnparsedRaw } from './find-unparsed.js';
import { parseInputs } from './parse-inputs.js';
import type { ParseOptions } from './parse-object.js';

/** How long a raw object may wait for its own notification before a timer parses it. */
export const lostNotificationAfterMs = 15 * 60_000;
/** Wall time one timer tick spends on raw objects whose notification was lost; the next tick goes on. */
const defaultBudgetMs = 120_000;

/** What a sweep for lost notifications did. */
export interface LostRawResult {
  /** Raw objects parsed (their notification was lost). */
  parsed: string[];
  /** The time budget ran out with more left for the next tick. */
  more: boolean;
}

/**
 * Parses the collector's raw objects of yesterday, today and tomorrow (relative to `now`) that are
 * older than `lostNotificationAfterMs` and still have no summary — their notification was lost —
 * so acknowledged events reach the warehouse even then. Each is parsed at the version listed;
 * one that fails is logged by `parseInputs` and found again by the next sweep.
 */
export async function parseLostRaw(options: ParseOptions, now: Date, budgetMs = defaultBudgetMs): Promise<LostRawResult> {
  const started = Date.now();
  const result: LostRawResult = { parsed: [], more: false };
  for await (const info of findUnparsedRaw(options.store, lookbackDates(now, 1), new Date(now.getTime() - lostNotificationAfterMs))) {
    if (Date.now() - started >= budgetMs) {
      result.more = true;
      break;
    }
    result.parsed.push(...(await parseInputs(options, [{ key: info.key, etag: info.etag }])).parsed);
  }
  return result;
}
