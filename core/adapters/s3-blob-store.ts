import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { FerryError, NotFoundError, StorageError } from '../errors.js';
import type { BlobBody, BlobInfo, BlobMetadata, BlobStore, GetOptions, ListOptions } from '../ports/blob-store.js';
import { assertPortableMetadata, assertValidKey } from '../support/blob-metadata.js';
import { requireVersion, unquote } from '../support/blob-version.js';

/** A request with no bytes moving for this long fails (the SDK then retries it). */
const requestTimeoutMs = 60_000;

/** Where an S3 store lives. */
export interface S3BlobStoreOptions {
  bucket: string;
  /** Client settings (region, endpoint, credentials, forcePathStyle for emulators). */
  client?: S3ClientConfig;
  /** Keys per list request (S3's maximum, 1000, by default; tests page with fewer). */
  pageSize?: number;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * `BlobStore` on Amazon S3 (`@aws-sdk/client-s3`). Puts go through `Upload` (one PUT for small
 * bodies, multipart for streams), which S3 makes visible only when complete — a failed stream
 * aborts the upload and leaves nothing. S3 lists in UTF-8 byte order and supports `StartAfter`
 * natively; it does not list metadata, so listed entries carry `{}` and `head` reads it.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly pageSize: number;

  constructor(options: S3BlobStoreOptions) {
    // Without timeouts a store that stops answering (a held connection) leaves a put waiting for
    // ever, and the collector's clients with it; a request silent this long fails and is retried.
    this.client = new S3Client({ requestHandler: { connectionTimeout: 5_000, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true }, ...options.client });
    this.bucket = options.bucket;
    this.pageSize = options.pageSize ?? 1000;
  }

  async put(key: string, body: BlobBody, metadata: BlobMetadata = {}): Promise<BlobInfo> {
    assertValidKey(key);
    assertPortableMetadata(metadata);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body instanceof Readable ? body : Buffer.from(body), Metadata: metadata },
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      throw new StorageError(`S3 put failed: ${(err as Error).message}`, { key }, { cause: err });
    }
    return this.head(key);
  }

  /** `s3://bucket/key`, as a Redshift COPY manifest lists it. */
  locate(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return requireVersion(key, options, unquote(result.ETag), result.Body as Readable);
    } catch (err) {
      if (err instanceof FerryError) throw err;
      if (isNotFound(err)) throw new NotFoundError(key);
      throw new StorageError(`S3 get failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }

  async head(key: string): Promise<BlobInfo> {
    try {
      const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: result.ContentLength ?? 0, etag: unquote(result.ETag), lastModified: result.LastModified ?? new Date(0), metadata: result.Metadata ?? {} };
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(key);
      throw new StorageError(`S3 head failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: this.pageSize, ContinuationToken: token, StartAfter: token ? undefined : options.startAfter }),
        );
      } catch (err) {
        throw new StorageError(`S3 list failed: ${(err as Error).message}`, { key: prefix }, { cause: err });
      }
      for (const object of page.Contents ?? []) {
        yield { key: object.Key!, size: object.Size ?? 0, etag: unquote(object.ETag), lastModified: object.LastModified ?? new Date(0), metadata: {} };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw new StorageError(`S3 delete failed: ${(err as Error).message}`, { key }, { cause: err });
    }
  }
}
