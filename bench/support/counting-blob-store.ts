import { storageLayout } from '../../core/storage-layout.js';
import type { BlobBody, BlobInfo, BlobMetadata, BlobStore, GetOptions, ListOptions } from '../../core/ports/blob-store.js';

/** Storage requests as a cloud bills them. */
export interface RequestCounts {
  puts: number;
  gets: number;
  heads: number;
  /** LIST requests: one per page of up to `pageSize` keys, at least one per listing. */
  lists: number;
  /** Keys those LIST requests returned. */
  listedKeys: number;
  deletes: number;
}

export function zeroCounts(): RequestCounts {
  return { puts: 0, gets: 0, heads: 0, lists: 0, listedKeys: 0, deletes: 0 };
}

/**
 * Wraps a store and counts the requests a cloud store would make for each call: a listing is
 * billed per page (S3 ListObjectsV2 and Azure List Blobs return up to 1,000 keys a page), so a
 * listing of 2,500 keys counts 3 — and one that is abandoned early counts only the pages read.
 */
export class CountingBlobStore implements BlobStore {
  readonly counts: RequestCounts = zeroCounts();
  /**
   * Requests for the sweep's mark, apart: one read and one write a load tick however much
   * arrives, so a bill scales them by ticks, not by volume.
   */
  readonly perTick: RequestCounts = zeroCounts();
  /** Present only when the wrapped store has it: warehouses read such stores server-side. */
  readonly locate?: (key: string) => string;

  constructor(
    private readonly inner: BlobStore,
    private readonly pageSize = 1000,
    /** Called with every object put, e.g. to deliver blob-created notifications. */
    private readonly onPut?: (info: BlobInfo) => void,
  ) {
    if (inner.locate) this.locate = (key) => inner.locate!(key);
  }

  get parallelPuts(): number | undefined {
    return this.inner.parallelPuts;
  }

  async put(key: string, body: BlobBody, metadata?: BlobMetadata): Promise<BlobInfo> {
    this.countsFor(key).puts++;
    const info = await this.inner.put(key, body, metadata);
    this.onPut?.(info);
    return info;
  }

  get(key: string, options?: GetOptions) {
    this.countsFor(key).gets++;
    return this.inner.get(key, options);
  }

  head(key: string): Promise<BlobInfo> {
    this.countsFor(key).heads++;
    return this.inner.head(key);
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<BlobInfo> {
    let listed = 0;
    this.counts.lists++;
    for await (const info of this.inner.list(prefix, options)) {
      if (listed > 0 && listed % this.pageSize === 0) this.counts.lists++;
      listed++;
      this.counts.listedKeys++;
      yield info;
    }
  }

  delete(key: string): Promise<void> {
    this.counts.deletes++;
    return this.inner.delete(key);
  }


  /** The counts so far, and zeroes them (both kinds). */
  take(): RequestCounts {
    const taken = { ...this.counts };
    Object.assign(this.counts, zeroCounts());
    Object.assign(this.perTick, zeroCounts());
    return taken;
  }

  private countsFor(key: string): RequestCounts {
    return key === storageLayout.sweepMark ? this.perTick : this.counts;
  }
}
