import { describe, expect, it } from 'vitest';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { ConfigError } from '../../core/errors.js';
import { openStoreAt } from '../../functions/shared/open-store.js';

describe('openStoreAt', () => {
  it('opens a directory, an S3 bucket (with an emulator endpoint) and an Azure container', async () => {
    expect(((await openStoreAt('file:///var/lib/ferry-mirror', 'FERRY_MIRROR_URL')) as FsBlobStore).root).toBe('/var/lib/ferry-mirror');
    const s3 = (await openStoreAt('s3://ferry-eu?region=eu-west-1&endpoint=http://127.0.0.1:4568', 'FERRY_MIRROR_URL')) as S3BlobStore;
    expect(s3).toBeInstanceOf(S3BlobStore);
    expect(s3.locate('raw/a')).toBe('s3://ferry-eu/raw/a');
    expect(await s3.client.config.region()).toBe('eu-west-1');
    s3.client.destroy();
    const azure = await openStoreAt('https://ferrydata.blob.core.windows.net/ferry', 'FERRY_MIRROR_URL');
    expect(azure).toBeInstanceOf(AzureBlobStore);
    expect(azure.locate!('raw/a')).toBe('https://ferrydata.blob.core.windows.net/ferry/raw/a');
  });

  it.each([
    ['ftp://host/dir', 'must be file://'],
    ['s3://', 'names no bucket'],
    ['https://ferrydata.blob.core.windows.net/', 'names no container'],
    ['http://127.0.0.1:10000/devstoreaccount1/ferry', 'needs a connection string'],
  ])('names the setting for %s', async (url, reason) => {
    let error: unknown;
    try {
      await openStoreAt(url, 'FERRY_MIRROR_URL');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([{ key: 'FERRY_MIRROR_URL', reason: expect.stringContaining(reason) }]);
  });
});
