import type { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import type { BlobBody, BlobInfo, BlobMetadata, BlobStore, GetOptions, ListOptions } from '../ports/blob-store.js';
import type { Logger } from '../ports/logger.js';
import { errorFields } from '../support/json-logger.js';
import { storageLayout } from '../storage-layout.js';

/** Where a put the mirror refused is remembered, in the primary store: `mirror-pending/<key>`. */
export const mirrorPendingPrefix = storageLayout.mirrorPending;

/**
 * The collector's store during a hybrid run or a move between clouds: every put goes to the
 * primary, and only the primary's success decides the answer to the client; the same bytes are
 * then put to the mirror. A put the mirror refuses is recorded as a marker in the primary (beside
 * the data it names, so it is as durable) and copied later by {@link replayMirror}. Reads, lists
 * and deletes are the primary's.
 */
export class MirroredBlobStore implements BlobStore {
  constructor(
    readonly primary: BlobStore,
    readonly mirror: BlobStore,
    private readonly logger: Logger,
  ) {}

  async put(key: string, body: BlobBody, metadata?: BlobMetadata): Promise<BlobInfo> {
    // A stream can be read once; the collector hands over bytes, and only bytes are mirrored.
    const info = await this.primary.put(key, body, metadata);
    if (!(body instanceof Uint8Array)) {
      await this.recordPending(key, new Error('a streamed body is replayed from the primary'));
      return info;
    }
    try {
      await this.mirror.put(key, body, metadata);
    } catch (err) {
      await this.recordPending(key, err);
    }
    return info;
  }

  private async recordPending(key: string, err: unknown): Promise<void> {
    this.logger.warn('mirror put failed; recorded for replay', { key, ...errorFields(err) });
    try {
      await this.primary.put(`${mirrorPendingPrefix}${key}`, Buffer.from(new Date().toISOString()));
    } catch (markErr) {
      // The data is in the primary; only a listing comparison will find this key now.
      this.logger.error('mirror marker not written', { key, ...errorFields(markErr) });
    }
  }

  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.primary.get(key, options);
  }

  head(key: string): Promise<BlobInfo> {
    return this.primary.head(key);
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<BlobInfo> {
    return this.primary.list(prefix, options);
  }

  delete(key: string): Promise<void> {
    return this.primary.delete(key);
  }
}

/** What one replay did. */
export interface MirrorReplayResult {
  copied: string[];
  /** Marked, but gone from the primary (deleted since): nothing to copy. */
  gone: string[];
  failed: { key: string; message: string }[];
}

/**
 * Copies every object a marker names from the primary to the mirror, then removes the marker.
 * Idempotent: a replay that stops half-way copies the same bytes again next time. Stops at the
 * first mirror failure (the mirror is likely still down) and reports what remains.
 */
export async function replayMirror(primary: BlobStore, mirror: BlobStore, logger: Logger): Promise<MirrorReplayResult> {
  const result: MirrorReplayResult = { copied: [], gone: [], failed: [] };
  for await (const marker of primary.list(mirrorPendingPrefix)) {
    const key = marker.key.slice(mirrorPendingPrefix.length);
    try {
      let info: BlobInfo;
      try {
        info = await primary.head(key);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        result.gone.push(key);
        await primary.delete(marker.key);
        continue;
      }
      await mirror.put(key, await primary.get(key), info.metadata);
      await primary.delete(marker.key);
      result.copied.push(key);
    } catch (err) {
      logger.warn('mirror replay failed', { key, ...errorFields(err) });
      result.failed.push({ key, message: (err as Error).message });
      break;
    }
  }
  if (result.copied.length + result.gone.length + result.failed.length > 0) logger.info('mirror replay', { copied: result.copied.length, gone: result.gone.length, failed: result.failed.length });
  return result;
}
