import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openInput } from '../../core/parser/input-stream.js';
import { splitLines, type InputLine } from '../../core/parser/split-lines.js';

async function linesOf(bytes: Buffer, maxLineBytes: number, pieceBytes: number): Promise<InputLine[]> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceBytes) pieces.push(bytes.subarray(i, i + pieceBytes));
  const input = await openInput(Readable.from(pieces), maxLineBytes);
  const out: InputLine[] = [];
  for await (const line of splitLines(input.body, maxLineBytes)) out.push(line);
  expect(input.damage()).toBeUndefined();
  return out;
}

describe('openInput', () => {
  it('hands on the same lines from gzip as from plain bytes, across inflate chunks and over-long lines', async () => {
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // Lengths from empty to several inflate chunks (256 KiB), two past the 300 KiB cap, and many short ones between.
    const lengths = [0, 5, 262_143, 262_144, 262_145, 700_000, 1, 310_000, 17];
    for (let i = 0; i < 400; i++) lengths.push(Math.floor(next() * (next() < 0.05 ? 200_000 : 300)));
    const lines = lengths.map((n, i) => `${i}:${'x✓'.repeat(n >> 2)}`); // 4 bytes per repeat: about n bytes
    const text = `${lines.join('\n')}\n`;
    const plain = Buffer.from(text);
    const fromPlain = await linesOf(plain, 300_000, 65_536);
    const fromGzip = await linesOf(gzipSync(plain), 300_000, 8_192);
    expect(fromGzip.length).toBe(lengths.length);
    expect(fromGzip.map((l) => [l.number, l.tooLong, l.text.length])).toEqual(fromPlain.map((l) => [l.number, l.tooLong, l.text.length]));
    expect(fromGzip.every((l, i) => l.text === fromPlain[i]!.text)).toBe(true);
    const overCap = lines.flatMap((line, i) => (Buffer.byteLength(line) > 300_000 ? [i + 1] : []));
    expect(overCap).toEqual([6, 8]);
    expect(fromGzip.filter((l) => l.tooLong).map((l) => l.number)).toEqual(overCap);
  });
});
