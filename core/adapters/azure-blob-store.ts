import { Readable } from 'node:stream';
import { ContainerClient, RestError } from '@azure/storage-blob';
import { FerryError, NotFoundError, StorageError } from '../errors.js';
import type { BlobBody, BlobInfo, BlobMetadata, BlobStore, GetOptions, ListOptions } from '../ports/blob-store.js';
import { assertPortableMetadata, assertValidKey, compareKeys } from '../support/blob-metadata.js';
import { requireVersion, unquote } from '../support/blob-version.js';

/** Where an Azure Blob store lives. */
export interface AzureBlobStoreOptions {
  container: ContainerClient;
  /** Blobs per list request (5000 by default; tests page with fewer). */
  pageSize?: number;
}

function isNotFound(err: unknown): boolean {
  return err instanceof RestError ? err.statusCode === 404 : (err as { statusCode?: number })?.statusCode === 404;
}

/**
 * `BlobStore` on Azure Blob Storage (`@azure/storage-blob`). Streams upload as staged blocks that
 * become the blob only when the block list is committed, so a failed stream leaves nothing.
 * Azure has no `StartAfter`; the listing skips keys up to it. Listing includes metadata.
 */
export class AzureBlobStore implements BlobStore {
  private readonly container: ContainerClient;
  private readonly pageSize: number;

  constructor(options: AzureBlobStoreOptions) {
    this.container = options.container;
    this.pageSize = options.pageSize ?? 5000;
  }

  async put(key: string, body: BlobBody, metadata: BlobMetadata = {}): Promise<BlobInfo> {
    assertValidKey(key);
    assertPortableMetadata(metadata);
    const blob = this.container.getBlockBlobClient(key);
    try {
      if (body instanceof Readable) await blob.uploadStream(body, 4 * 1024 * 1024, 4, { metadata });
      else await blob.uploadData(Buffer.from(body), { metadata });
    } catch (err) {
      throw new StorageError(`Azure put failed: ${(err as Error).message}`, { key }, { cause: err });
    }
    return this.head(key);
  }

  /** The blob's URL (key percent-encoded by the SDK), as Synapse `COPY INTO` reads it. */
  locate(key: string): string {
    return this.container.getBlobClient(key).url;
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    try {
      const response = await this.container.getBlobClient(key).download();
      return requireVersion(key, options, unquote(response.etag), response.readableStreamBody as Readable);
    } catch (err) {
      if (err instanceof FerryError) throw err;
      if (isNotFound(err)) throw new NotFoundError(key);
      throw new StorageError(`Azure get failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }

  async head(key: string): Promise<BlobInfo> {
    try {
      const p = await this.container.getBlobClient(key).getProperties();
      return { key, size: p.contentLength ?? 0, etag: unquote(p.etag), lastModified: p.lastModified ?? new Date(0), metadata: p.metadata ?? {} };
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(key);
      throw new StorageError(`Azure head failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<BlobInfo> {
    const pages = this.container.listBlobsFlat({ prefix, includeMetadata: true }).byPage({ maxPageSize: this.pageSize });
    try {
      for await (const page of pages) {
        for (const item of page.segment.blobItems) {
          if (options.startAfter !== undefined && compareKeys(item.name, options.startAfter) <= 0) continue;
          yield {
            key: item.name,
            size: item.properties.contentLength ?? 0,
            etag: unquote(item.properties.etag),
            lastModified: item.properties.lastModified,
            metadata: item.metadata ?? {},
          };
        }
      }
    } catch (err) {
      throw new StorageError(`Azure list failed: ${(err as Error).message}`, { key: prefix }, { cause: err });
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.container.getBlobClient(key).deleteIfExists();
    } catch (err) {
      throw new StorageError(`Azure delete failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }
}
