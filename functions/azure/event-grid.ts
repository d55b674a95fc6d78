import type { EventGridEvent } from '@azure/functions';
import type { ParseInput } from '../../core/parser/parse-object.js';
import { unquote } from '../../core/support/blob-version.js';

/**
 * Event Grid `Microsoft.Storage.BlobCreated` event → the object to parse, from the blob's URL
 * (`https://<account>.blob.core.windows.net/<container>/<key>`, path segments percent-encoded)
 * and its ETag — the blob itself is streamed later by the parser, never handed over in memory.
 * Events for other containers or types answer `undefined`.
 */
export function fromEventGridBlobCreated(event: EventGridEvent, container: string): ParseInput | undefined {
  if (event.eventType !== 'Microsoft.Storage.BlobCreated') return undefined;
  const data = event.data as { url?: string; eTag?: string } | undefined;
  if (!data?.url) return undefined;
  const path = new URL(data.url).pathname.split('/').slice(1);
  // Azurite and other emulators put the account name first: http://127.0.0.1:10000/<account>/<container>/<key>
  const at = path.indexOf(container);
  if (at < 0 || at > 1) return undefined;
  const key = path.slice(at + 1).map((segment) => decodeURIComponent(segment)).join('/');
  const etag = unquote(data.eTag);
  return etag ? { key, etag } : { key };
}
