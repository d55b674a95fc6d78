import { text } from 'node:stream/consumers';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GzipSpool } from '../../core/parser/gzip-spool.js';

describe('GzipSpool', () => {
  it('gives back exactly the text written, whatever the sizes of the writes and wherever multi-byte characters fall', async () => {
    const spool = await GzipSpool.create();
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
      expect(spool.count).toBe(pieces.length);
      expect(size).toBeGreaterThan(0);
      const back = await text(body.pipe(createGunzip()));
      // Compared as a boolean: a diff of megabytes helps no one.
      expect(back.length).toBe(pieces.join('').length);
      expect(back === pieces.join('')).toBe(true);
    } finally {
      await spool.dispose();
    }
  });

  it('finishes an unused spool as an empty gzip stream', async () => {
    const spool = await GzipSpool.create();
    try {
      expect(await text((await spool.finish()).body.pipe(createGunzip()))).toBe('');
      expect(spool.count).toBe(0);
    } finally {
      await spool.dispose();
    }
  });
});
