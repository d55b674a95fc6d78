import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import type { BlobBody, BlobInfo, BlobMetadata, BlobStore, GetOptions, ListOptions } from '../ports/blob-store.js';
import { assertPortableMetadata, assertValidKey } from '../support/blob-metadata.js';
import { requireVersion } from '../support/blob-version.js';

const empty = Buffer.alloc(0);

interface Entry {
  info: BlobInfo;
  body: Buffer;
}

/** UTF-8 byte order, the order S3 and Azure list in. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * An object store in memory, with the contract's semantics: for benchmarks that need millions of
 * keys (a year of history) and for tests. Keys are kept sorted, so `list` pages like a cloud
 * store does, from a binary search to the prefix rather than a scan of everything.
 */
export class MemoryBlobStore implements BlobStore {
  private readonly entries = new Map<string, Entry>();
  private sorted: string[] = [];
  private unsorted = false;

  async put(key: string, body: BlobBody, metadata: BlobMetadata = {}): Promise<BlobInfo> {
    assertValidKey(key);
    assertPortableMetadata(metadata);
    const bytes = body instanceof Uint8Array ? Buffer.from(body) : await readAll(body);
    const info: BlobInfo = { key, size: bytes.length, etag: createHash('md5').update(bytes).digest('hex'), lastModified: new Date(), metadata: { ...metadata } };
    this.insert(key, { info, body: bytes });
    return { ...info, metadata: { ...info.metadata } };
  }

  /**
   * Adds an object without hashing its bytes or copying `info` (the store keeps it; do not change
   * it after): filling a store with a year of synthetic history should cost little per key.
   */
  seed(info: BlobInfo, body: Buffer = empty): void {
    this.insert(info.key, { info, body });
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const entry = this.entry(key);
    return requireVersion(key, options, entry.info.etag, Readable.from([entry.body]));
  }

  async head(key: string): Promise<BlobInfo> {
    const { info } = this.entry(key);
    return { ...info, metadata: { ...info.metadata } };
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<BlobInfo> {
    const keys = this.keys();
    const from = options.startAfter !== undefined && compareKeys(options.startAfter, prefix) >= 0 ? options.startAfter : undefined;
    let i = lowerBound(keys, from ?? prefix);
    if (from !== undefined && keys[i] === from) i++;
    for (; i < keys.length && keys[i]!.startsWith(prefix); i++) {
      const entry = this.entries.get(keys[i]!);
      if (entry) yield { ...entry.info, metadata: { ...entry.info.metadata } };
    }
  }

  async delete(key: string): Promise<void> {
    if (this.entries.delete(key)) this.unsorted = true;
  }

  /** Objects held. */
  get size(): number {
    return this.entries.size;
  }

  private insert(key: string, entry: Entry): void {
    if (!this.entries.has(key)) this.unsorted = true;
    this.entries.set(key, entry);
  }

  private entry(key: string): Entry {
    const entry = this.entries.get(key);
    if (!entry) throw new NotFoundError(key);
    return entry;
  }

  // Sorted lazily: seeding a million keys and then listing sorts once, not a million times.
  private keys(): string[] {
    if (this.unsorted) {
      this.sorted = [...this.entries.keys()].sort(compareKeys);
      this.unsorted = false;
    }
    return this.sorted;
  }
}

function lowerBound(keys: readonly string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
