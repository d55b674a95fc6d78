import type { Readable } from 'node:stream';
import { VersionChangedError } from '../errors.js';
import type { GetOptions } from '../ports/blob-store.js';

/** An HTTP ETag as Ferry keeps it: without the quotes S3 and Azure put around it. */
export function unquote(etag: string | undefined): string {
  return (etag ?? '').replaceAll('"', '');
}

/**
 * Returns `body` when it is the version `options.etag` asks for (or none was asked for);
 * otherwise releases the response and throws `VersionChangedError`. `current` is the ETag the
 * same response reported, so the check speaks for exactly these bytes.
 */
export function requireVersion(key: string, options: GetOptions, current: string, body: Readable): Readable {
  if (options.etag === undefined || options.etag === current) return body;
  body.destroy();
  throw new VersionChangedError(key, options.etag, current);
}
