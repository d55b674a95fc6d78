import { fileURLToPath } from 'node:url';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { ConfigError } from '../../core/errors.js';
import type { BlobStore } from '../../core/ports/blob-store.js';

/**
 * Opens a store named by a URL (`FERRY_STORE_URL`, `FERRY_MIRROR_URL`), so any host can write to,
 * or mirror to, any cloud:
 * - `file:///abs/dir` — a directory;
 * - `s3://bucket[?region=…&endpoint=…]` — S3 with the default credential chain (an endpoint
 *   means an S3-compatible server, addressed path-style);
 * - `https://<account>.blob.core.windows.net/<container>` — Azure Blob with the Entra identity,
 *   or with `connectionString` when given (account key or SAS; Azurite's `http://` URL).
 * A cloud SDK is loaded only when its store is opened (the local runner never loads them).
 */
export async function openStoreAt(url: string, key: string, connectionString?: string, s3Endpoint?: string): Promise<BlobStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError([{ key, reason: `is not a URL: "${url}"` }]);
  }
  switch (parsed.protocol) {
    case 'file:':
      return new FsBlobStore(fileURLToPath(parsed));
    case 's3:': {
      if (!parsed.hostname) throw new ConfigError([{ key, reason: `names no bucket: "${url}"` }]);
      const endpoint = parsed.searchParams.get('endpoint') ?? s3Endpoint;
      const region = parsed.searchParams.get('region');
      const { S3BlobStore } = await import('../../core/adapters/s3-blob-store.js');
      return new S3BlobStore({ bucket: parsed.hostname, client: { ...(region ? { region } : {}), ...(endpoint ? { endpoint, forcePathStyle: true } : {}) } });
    }
    case 'https:':
    case 'http:': {
      const container = parsed.pathname.split('/').filter((s) => s !== '').pop();
      if (!container) throw new ConfigError([{ key, reason: `names no container: "${url}"` }]);
      if (!connectionString && parsed.protocol === 'http:') throw new ConfigError([{ key, reason: 'an http:// blob URL needs a connection string (identity is sent only over https)' }]);
      const [{ AzureBlobStore }, { ContainerClient }] = await Promise.all([import('../../core/adapters/azure-blob-store.js'), import('@azure/storage-blob')]);
      if (connectionString) return new AzureBlobStore({ container: new ContainerClient(connectionString, container) });
      const { DefaultAzureCredential } = await import('@azure/identity');
      return new AzureBlobStore({ container: new ContainerClient(url.replace(/\/$/, ''), new DefaultAzureCredential()) });
    }
    default:
      throw new ConfigError([{ key, reason: `must be file://, s3:// or an https:// blob container URL, got "${parsed.protocol}"` }]);
  }
}
