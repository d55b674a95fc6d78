import { rawEventsPrefix } from '../model/raw-record.js';
import { timeSortablePrefix } from '../support/time-sortable-id.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import { isBatchSummaryKey, outputKeysFor } from './output-keys.js';
import { inputSummaries } from './parse-summary.js';
import { storageLayout } from '../storage-layout.js';
import { readBlobText } from '../support/blob-text.js';

/**
 * Yields input objects under `prefix` whose current version has no parse summary yet: the ones
 * a lost or crashed blob-created notification left behind. Parsing them again is harmless.
 */
export async function* findUnparsed(store: BlobStore, prefix: string): AsyncIterable<BlobInfo> {
  const summarised = summaryIndex(store);
  for await (const info of store.list(prefix)) if (!(await summarised(info))) yield info;
}

/**
 * Whether an input version has a parse summary — its own, or an entry in a batch's — answered
 * from one listing per summaries date partition (made when a date is first asked about) and a
 * read of each batch summary in it, instead of a request per input. Summaries are named by their
 * (first) input's arrival, so with `namedFrom` only those of inputs that arrived since then are
 * read.
 */
function summaryIndex(store: BlobStore, namedFrom?: Date): (info: BlobInfo) => Promise<boolean> {
  const dates = new Map<string, Promise<{ own: Set<string>; batched: Set<string> }>>();
  const listDate = async (date: string) => {
    const own = new Set<string>();
    const batched = new Set<string>();
    const prefix = storageLayout.summariesOn(date);
    for await (const summary of store.list(prefix, namedFrom ? { startAfter: `${prefix}${timeSortablePrefix(namedFrom)}` } : {})) {
      if (!isBatchSummaryKey(summary.key)) own.add(summary.key);
      else for (const entry of inputSummaries(await readBlobText(store, summary.key))) batched.add(`${entry.source_key}\0${entry.source_etag}`);
    }
    return { own, batched };
  };
  return async (info) => {
    const keys = outputKeysFor(info.key, info.etag, info.lastModified);
    let listed = dates.get(keys.date);
    if (listed === undefined) dates.set(keys.date, (listed = listDate(keys.date)));
    const { own, batched } = await listed;
    return own.has(keys.summary) || batched.has(`${info.key}\0${info.etag}`);
  };
}


/** How much earlier than its window a sweep reads summaries: a batch's first input may be that much older. */
const summaryMarginMs = 6 * 3_600_000;

/**
 * The collector's raw objects received from `since` and last written before `before` that have
 * no parse summary: those whose notification the platform lost (a queue message past its
 * retries, Event Grid after its retry period). Raw keys are partitioned by receive hour and
 * named by a time-sortable id, so only the hour partitions of the window are listed, the first
 * from `since` on: a sweep costs what arrived in its window, not the day. `hourPrefix`: the
 * partition of an hour (the refused requests' `raw/rejections/` are laid out the same way);
 * `until`: where the partitions listed end, when before `before`.
 */
export async function* findUnparsedRaw(store: BlobStore, since: Date, before: Date, hourPrefix: (at: Date) => string = storageLayout.rawHour, until = before): AsyncIterable<BlobInfo> {
  // A batch is named by its first input, which may have arrived before the window: a margin.
  const summarised = summaryIndex(store, new Date(since.getTime() - summaryMarginMs));
  const hourMs = 3_600_000;
  for (let hour = Math.floor(since.getTime() / hourMs) * hourMs; hour < until.getTime(); hour += hourMs) {
    const prefix = hourPrefix(new Date(hour));
    const from = hour < since.getTime() ? { startAfter: `${prefix}${timeSortablePrefix(since)}` } : {};
    for await (const info of store.list(prefix, from)) {
      if (info.lastModified >= before) continue; // its notification may still be on its way
      if (!(await summarised(info))) yield info;
    }
  }
}

/**
 * Log files (any key under `prefixes` outside the collector's raw objects) last written in
 * [`since`, `before`) that have no parse summary, listed under `prefixes` (`logListings`: a
 * prefix whole, or the recent dates' partitions of one whose keys start with their date), and the
 * summaries of the dates the recent files map to once each.
 */
export async function* findUnparsedLogs(store: BlobStore, prefixes: readonly string[], since: Date, before: Date): AsyncIterable<BlobInfo> {
  const summarised = summaryIndex(store);
  for (const prefix of prefixes) {
    for await (const info of store.list(prefix)) {
      if (info.key.startsWith(rawEventsPrefix) || info.lastModified < since || info.lastModified >= before) continue;
      if (!(await summarised(info))) yield info;
    }
  }
}
