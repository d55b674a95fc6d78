import { NotFoundError } from '../errors.js';
import type { BlobInfo, BlobStore } from '../ports/blob-store.js';
import { summaryKeyFor } from './parse-object.js';

/**
 * Yields input objects under `prefix` whose current version has no parse summary yet: the ones
 * a lost or crashed blob-created notification left behind. Parsing them again is harmless.
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
