import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { parsedFiles } from '../../core/loader/file-sources.js';
import { eventTable } from '../../core/model/event-table.js';

/** `rows` CSV lines shaped like the events table's (long enough to make megabytes quickly). */
function csvRows(rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) lines.push(`device-${i},client,session-${i % 97},${i},production,${'x'.repeat(180)}`);
  return `${lines.join('\n')}\n`;
}

async function opened(body: Buffer): Promise<Buffer[]> {
  const store = new MemoryBlobStore();
  const key = 'parsed/events/2026/11/26/file.csv.gz';
  await store.put(key, body);
  const csv = await parsedFiles(eventTable).open(store, key, body.length);
  const chunks: Buffer[] = [];
  for await (const chunk of csv) chunks.push(chunk as Buffer);
  return chunks;
}

describe('a parsed file as the loader reads it', () => {
  it('comes whole in one piece when it is small', async () => {
    const text = csvRows(1000);
    const chunks = await opened(gzipSync(text));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.toString()).toBe(text);
  });

  it('comes in pieces of at most 256 KiB when it inflates to megabytes, however small it is stored', async () => {
    const text = csvRows(40_000); // ≈ 9 MB of CSV, well under 1 MiB gzip'd
    const gzipped = gzipSync(text);
    expect(gzipped.length).toBeLessThan(1024 * 1024);
    const chunks = await opened(gzipped);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(256 * 1024);
    expect(Buffer.concat(chunks).toString() === text).toBe(true);
  });

  it('is read right when its stored size hint is wrong (two gzip members, the last one small)', async () => {
    const big = csvRows(20_000);
    const small = csvRows(3);
    const chunks = await opened(Buffer.concat([gzipSync(big), gzipSync(small)]));
    expect(Buffer.concat(chunks).toString() === big + small).toBe(true);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(256 * 1024);
  });

  it('names its key when it is damaged', async () => {
    const gzipped = gzipSync(csvRows(100));
    const at = gzipped.length - 20;
    gzipped[at] = gzipped[at]! ^ 0xff;
    await expect(opened(gzipped)).rejects.toThrow(/file\.csv\.gz/);
  });
});
