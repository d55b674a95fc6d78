import { Readable } from 'node:stream';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openInput, type GzipDamage } from '../../core/parser/input-stream.js';
import { splitLines, type InputLine } from '../../core/parser/split-lines.js';

async function read(bytes: Buffer, maxLineBytes: number, pieceBytes: number, size?: number): Promise<{ lines: InputLine[]; damage: GzipDamage | undefined }> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceBytes) pieces.push(bytes.subarray(i, i + pieceBytes));
  const input = await openInput(Readable.from(pieces), maxLineBytes, size);
  const lines: InputLine[] = [];
  for await (const line of splitLines(input.body, maxLineBytes)) lines.push(line);
  return { lines, damage: input.damage() };
}

async function linesOf(bytes: Buffer, maxLineBytes: number, pieceBytes: number, size?: number): Promise<InputLine[]> {
  const { lines, damage } = await read(bytes, maxLineBytes, pieceBytes, size);
  expect(damage).toBeUndefined();
  return lines;
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

  it('reads a small input whole with the same result as the stream: plain, gzip, damaged gzip, and gzip that inflates far', async () => {
    const text = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'é'.repeat(i % 40)}`).join('\n');
    const plain = Buffer.from(`${text}\n`);
    const gzip = gzipSync(plain);
    expect(await linesOf(plain, 1000, 4096, plain.length)).toEqual(await linesOf(plain, 1000, 4096));
    expect(await linesOf(gzip, 1000, 4096, gzip.length)).toEqual(await linesOf(gzip, 1000, 4096));
    // Cut short: all the whole lines zlib can recover and the cut line reported, the same however
    // the bytes arrive (small chunks had given back less).
    const cut = gzip.subarray(0, gzip.length - 200);
    const readable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
    const whole = await read(cut, 1000, cut.length, cut.length);
    expect(whole.damage?.reason).toBe('unexpected end of file');
    expect(whole.damage?.readableBytes).toBe(readable.lastIndexOf(10) + 1);
    expect(whole.lines.every((l, i) => l.text === `line ${i} ${'é'.repeat(i % 40)}`)).toBe(true);
    for (const pieceBytes of [cut.length, 4096, 500]) expect(await read(cut, 1000, pieceBytes)).toEqual(whole);
    // 20 MB in ~20 KB of gzip: inflating it whole would pass the bound, so it streams.
    const line = 'ab'.repeat(50);
    const bomb = gzipSync(Buffer.from(`${line}\n`.repeat(200_000)));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const lines = await linesOf(bomb, 1000, 65_536, bomb.length);
    expect(lines.length).toBe(200_000);
    expect(lines.every((l) => l.text === line)).toBe(true);
  });
});
