import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createGunzip, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GzipSpool } from '../../core/parser/gzip-spool.js';
import type { BlobBody } from '../../core/ports/blob-store.js';

const unzip = async (body: BlobBody) => (body instanceof Uint8Array ? gunzipSync(body).toString() : text(body.pipe(createGunzip())));

describe('GzipSpool', () => {
  let parent: string;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'ferry-spool-test-'));
  });
  afterEach(() => rm(parent, { recursive: true, force: true }));

  it('gives back exactly the text written, whatever the sizes of the writes and wherever multi-byte characters fall', async () => {
    const spool = new GzipSpool(parent);
    try {
      const pieces: string[] = [];
      // Small writes, writes that just fill or overflow the gathering buffer, and writes larger than it.
      const sizes = [1, 10, 40_000, 87_381, 87_382, 262_144, 300_000, 5, 1_000_000, 3, 131_072];
      sizes.forEach((size, i) => {
        const unit = i % 3 === 0 ? 'é✓' : i % 3 === 1 ? 'a' : '😀b';
        pieces.push(`${unit.repeat(Math.ceil(size / unit.length))}\n`); // whole units: no lone surrogate
      });
      for (const piece of pieces) await spool.write(piece, 1);
      const { body, size } = await spool.finish();
      expect(body).toBeInstanceOf(Readable); // megabytes: spooled to a file
      expect(spool.count).toBe(pieces.length);
      expect(size).toBeGreaterThan(0);
      const back = await unzip(body);
      // Compared as a boolean: a diff of megabytes helps no one.
      expect(back.length).toBe(pieces.join('').length);
      expect(back === pieces.join('')).toBe(true);
    } finally {
      await spool.dispose();
    }
    expect(await readdir(parent)).toEqual([]); // dispose removed the spool file
  });

  it('keeps an output of up to 2 MiB in memory and never creates a file', async () => {
    const spool = new GzipSpool(parent);
    // ≈ 1.6 MB: several gathering buffers, and one write larger than a buffer.
    const lines = Array.from({ length: 20_000 }, (_, i) => (i === 7_000 ? `${'z'.repeat(300_000)}\n` : `row ${i},"é ✓",${'x'.repeat(i % 50)}\n`));
    for (const line of lines) await spool.write(line, 1);
    const { body, size } = await spool.finish();
    expect(body).toBeInstanceOf(Uint8Array);
    expect(size).toBe((body as Uint8Array).byteLength);
    expect(await unzip(body)).toBe(lines.join(''));
    expect(await readdir(parent)).toEqual([]);
    await spool.dispose();
  });

  it('spills to a file once the output outgrows memory, with the same text back', async () => {
    const spool = new GzipSpool(parent);
    const line = `${'y'.repeat(999)}\n`;
    for (let i = 0; i < 2000; i++) await spool.write(line, 1); // 2 MB: still in memory
    expect(await readdir(parent)).toEqual([]);
    for (let i = 0; i < 1000; i++) await spool.write(line, 1); // 3 MB
    expect((await readdir(parent)).length).toBe(1);
    const { body } = await spool.finish();
    expect(body).toBeInstanceOf(Readable);
    expect(await unzip(body)).toBe(line.repeat(3000));
    await spool.dispose();
    expect(await readdir(parent)).toEqual([]);
  });

  it('finishes an unused spool as an empty gzip stream', async () => {
    const spool = new GzipSpool(parent);
    expect(await unzip((await spool.finish()).body)).toBe('');
    expect(spool.count).toBe(0);
    await spool.dispose();
  });
});
