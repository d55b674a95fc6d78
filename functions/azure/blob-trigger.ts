import type { ParseInput } from '../../core/parser/parse-object.js';
import { unquote } from '../../core/support/blob-version.js';

/**
 * The polling blob trigger's metadata → the object to parse. `blobTrigger` is
 * `<container>/<key>`; the ETag, when the host passes the blob's properties, pins the version.
 * Blobs of other containers answer `undefined`.
 */
export function fromBlobTrigger(triggerMetadata: Record<string, unknown> | undefined, container: string): ParseInput | undefined {
  const path = triggerMetadata?.blobTrigger;
  if (typeof path !== 'string' || !path.startsWith(`${container}/`)) return undefined;
  const key = path.slice(container.length + 1);
  const properties = (triggerMetadata?.properties ?? {}) as Record<string, unknown>;
  const etag = unquote([properties.eTag, properties.ETag, properties.etag].find((v): v is string => typeof v === 'string'));
  return etag ? { key, etag } : { key };
}
