import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { FerryError } from '../../core/errors.js';

describe('S3BlobStore against a store that stops answering', () => {
  it('gives its client connection and request timeouts that throw, unless the caller sets its own', async () => {
    const store = new S3BlobStore({ bucket: 'any', client: { region: 'us-east-1' } });
    // The handler's resolved options (the SDK's NodeHttpHandler keeps them behind configProvider).
    const handler = store.client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
    expect(await handler.configProvider).toMatchObject({ connectionTimeout: 5_000, requestTimeout: 60_000, throwOnRequestTimeout: true });
    store.client.destroy();
  });

  it('fails a put on a held connection with a storage error instead of waiting for ever', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket)); // accepts, reads, never answers
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const { port } = server.address() as { port: number };
    try {
      // The store's own timeouts (60 s) shortened for the test; everything else is the store's default client.
      const store = new S3BlobStore({
        bucket: 'held',
        client: {
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${port}`,
          forcePathStyle: true,
          credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
          maxAttempts: 1,
          requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_000, throwOnRequestTimeout: true },
        },
      });
      const error = await store.put('raw/events/held.ndjson.gz', Buffer.from('x')).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).code).toBe('storage_unavailable');
      expect(sockets.length).toBeGreaterThan(0);
      store.client.destroy();
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
