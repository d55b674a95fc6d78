import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { readConfig } from '../../core/config.js';
import { createCloudHost } from '../../functions/shared/cloud-host.js';

describe('a cloud host at start', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('warns about each FERRY_ app setting that is no setting, naming the closest one', async () => {
    vi.stubEnv('FERRY_LOAD_INTERVAL', '5');
    vi.stubEnv('FERRY_S3_BUKET', 'data');
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    await createCloudHost(readConfig({ FERRY_LOG_LEVEL: 'warn' }), new MemoryBlobStore(), 'test');
    const warnings = lines.map((l) => JSON.parse(l) as { level: string; msg: string; key?: string }).filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.key).sort()).toEqual(['FERRY_LOAD_INTERVAL', 'FERRY_S3_BUKET']);
    expect(warnings.find((w) => w.key === 'FERRY_S3_BUKET')!.msg).toBe('FERRY_S3_BUKET is not a Ferry setting and is ignored; did you mean FERRY_S3_BUCKET?');
  });
});
