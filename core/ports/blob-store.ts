import type { Readable } from 'node:stream';

/**
 * Object metadata: lower-case names of `[a-z][a-z0-9_]*` (valid as S3 `x-amz-meta-*` and as
 * Azure metadata identifiers) and printable-ASCII values. Callers percent-encode anything else.
 */
export type BlobMetadata = Record<string, string>;

/** What `head` and `list` report about an object. */
export interface BlobInfo {
  key: string;
  size: number;
  /** Opaque version tag of the content (S3 ETag / Azure ETag / content hash), without quotes. */
  etag: string;
  lastModified: Date;
  metadata: BlobMetadata;
}

/** Options for `list`. */
export interface ListOptions {
  /** Only keys strictly greater than this (byte order) are listed; resumes a listing. */
  startAfter?: string;
  /**
   * Keys the caller already knows all it needs about (a load's files in the manifest): a store
   * may leave them out, as the filesystem store does to spare a stat and a sidecar read each;
   * a cloud store's listing costs the same either way, and lists them.
   */
  skip?: (key: string) => boolean;
}

/** Options for `get`. */
export interface GetOptions {
  /**
   * Read only this version: when the object's current content has another ETag, `get` throws
   * `VersionChangedError` instead of returning bytes the caller did not ask for. The check and
   * the bytes come from one response (or one open file), so they cannot disagree.
   */
  etag?: string;
}

/** Body accepted by `put`: bytes or a stream of bytes. */
export type BlobBody = Uint8Array | Readable;

/**
 * Object storage port. Same semantics on every adapter (filesystem, S3, Azure Blob), proven by
 * one contract suite (`test/support/blob-store-contract.ts`):
 * - `put` is atomic: readers see the whole new object or the old one, never a part;
 * - `get`/`head` of a missing key throw `NotFoundError`; `get` with an `etag` that is no longer
 *   the object's throws `VersionChangedError`;
 * - `list` yields every key under `prefix` in ascending UTF-8 byte order, paging internally;
 *   its entries' `metadata` may be empty (S3 does not list metadata) — `head` always has it.
 */
export interface BlobStore {
  put(key: string, body: BlobBody, metadata?: BlobMetadata): Promise<BlobInfo>;
  get(key: string, options?: GetOptions): Promise<Readable>;
  head(key: string): Promise<BlobInfo>;
  list(prefix: string, options?: ListOptions): AsyncIterable<BlobInfo>;
  delete(key: string): Promise<void>;
  /**
   * The address a warehouse reads this object by, for server-side bulk loads (`s3://bucket/key`,
   * `https://account.blob.core.windows.net/container/key`). Absent on the filesystem store.
   */
  locate?(key: string): string;
  /**
   * How many puts this store runs at once to advantage; the collector's group commit keeps at
   * most this many batches under way. Absent: 4 (a network store overlaps its round trips).
   */
  readonly parallelPuts?: number;
}

/** A "blob created" notification: the local stand-in for S3 notifications and Event Grid. */
export interface BlobCreated {
  key: string;
  etag: string;
  size: number;
  /**
   * The stored bytes, when the put was of an in-memory body the store chose to pass on (the
   * filesystem store: up to 1 MiB): a copy taken as the put began, which a subscriber in the same
   * process (the local runner's parse) may keep instead of reading the object back.
   */
  body?: Uint8Array;
}

/** A store that can tell in-process subscribers about new objects. */
export interface BlobCreatedSource {
  /** Subscribes; returns a function that unsubscribes. */
  onCreated(listener: (event: BlobCreated) => void): () => void;
}
