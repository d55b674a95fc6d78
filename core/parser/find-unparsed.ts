import { NotFoundError } from '../errors.js';
import { rawEventsPrefix } from '../model/raw-record.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import { outputKeysFor } from './output-keys.js';
import { summaryKeyFor } from './parse-object.js';

/**
 * Yields input objects under `prefix` whose current version has no parse summary yet: the ones
 * a lost or crashed blob-created notification left behind. Parsing them again is harmless.
 * One `head` per object: for the local store; `findUnparsedRaw` and `findUnparsedLogs` are the
 * cloud-priced forms.
 */
export async function* findUnparsed(store: BlobStore, prefix: string): AsyncIterable<BlobInfo> {
  for await (const info of store.list(prefix)) {
    try {
      await store.head(summaryKeyFor(info.key, info.etag, info.lastModified));
    } catch (err) {
      if (err instanceof NotFoundError) yield info;
      else throw err;
    }
  }
}

/**
 * Whether an input version has a parse summary, answered from one listing per summaries date
 * partition (made when a date is first asked about) instead of a request per input.
 */
function summaryIndex(store: BlobStore): (info: BlobInfo) => Promise<boolean> {
  const dates = new Map<string, Promise<Set<string>>>();
  const listDate = async (date: string) => {
    const keys = new Set<string>();
    for await (const summary of store.list(`summaries/${date}/`)) keys.add(summary.key);
    return keys;
  };
  return async (info) => {
    const keys = outputKeysFor(info.key, info.etag, info.lastModified);
    let listed = dates.get(keys.date);
    if (listed === undefined) dates.set(keys.date, (listed = listDate(keys.date)));
    return (await listed).has(keys.summary);
  };
}

/**
 * The collector's raw objects of `dates` (`YYYY-MM-DD`) last written before `before` that have
 * no parse summary: those whose notification the platform lost (Lambda drops an asynchronous
 * event after its retries, Event Grid after its retry period). A raw object's summary lies in the
 * summaries partition of the same date, so a date costs two listings — its raw partition and its
 * summaries — rather than a request per object, cheap enough for every timer tick.
 */
export async function* findUnparsedRaw(store: BlobStore, dates: readonly string[], before: Date): AsyncIterable<BlobInfo> {
  const summarised = summaryIndex(store);
  for (const date of dates) {
    for await (const info of store.list(`${rawEventsPrefix}${date.replaceAll('-', '/')}/`)) {
      if (info.lastModified >= before) continue; // its notification may still be on its way
      if (!(await summarised(info))) yield info;
    }
  }
}

/**
 * Log files (any key under `prefixes` outside the collector's raw objects) last written in
 * [`since`, `before`) that have no parse summary. Log keys need not hold a date, so each prefix
 * is listed whole — one request per 1,000 objects on S3 and Azure — and the summaries of the
 * dates the recent files map to once each.
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
