import { NotFoundError } from '../errors.js';
import { rawEventsPrefix } from '../model/raw-record.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import { summaryKeyFor } from './parse-object.js';

/**
 * Yields input objects under `prefix` whose current version has no parse summary yet: the ones
 * a lost or crashed blob-created notification left behind. Parsing them again is harmless.
 * One `head` per object: for the local store; `findUnparsedRaw` is the cloud-priced form.
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
 * The collector's raw objects of `dates` (`YYYY-MM-DD`) last written before `before` that have
 * no parse summary: those whose notification the platform lost (Lambda drops an asynchronous
 * event after its retries, Event Grid after its retry period). A raw object's summary lies in the
 * summaries partition of the same date, so a date costs two listings — its raw partition and its
 * summaries — rather than a request per object, cheap enough for every timer tick.
 */
export async function* findUnparsedRaw(store: BlobStore, dates: readonly string[], before: Date): AsyncIterable<BlobInfo> {
  for (const date of dates) {
    const summaries = new Set<string>();
    for await (const summary of store.list(`summaries/${date}/`)) summaries.add(summary.key);
    for await (const info of store.list(`${rawEventsPrefix}${date.replaceAll('-', '/')}/`)) {
      if (info.lastModified >= before) continue; // its notification may still be on its way
      if (!summaries.has(summaryKeyFor(info.key, info.etag, info.lastModified))) yield info;
    }
  }
}
