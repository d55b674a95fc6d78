import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { splitLines, type InputLine } from '../../core/parser/split-lines.js';

async function lines(chunks: (string | Buffer)[], max = 100): Promise<InputLine[]> {
  const out: InputLine[] = [];
  for await (const line of splitLines(Readable.from(chunks.map((c) => Buffer.from(c))), max)) out.push(line);
  return out;
}

describe('splitLines', () => {
  it('splits LF and CRLF lines across chunk boundaries and numbers them', async () => {
    expect(await lines(['a\nb', 'c\r\n', '\nlast'])).toEqual([
      { number: 1, text: 'a', tooLong: false },
      { number: 2, text: 'bc', tooLong: false },
      { number: 3, text: '', tooLong: false },
      { number: 4, text: 'last', tooLong: false },
    ]);
  });

  it('reassembles a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('ü✓\n');
    const result = await lines([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)]);
    expect(result).toEqual([{ number: 1, text: 'ü✓', tooLong: false }]);
  });

  it('flags over-long lines without holding them, and carries on with the next line', async () => {
    const long = 'x'.repeat(50);
    const result = await lines([long, long, long, '\nok\n', 'y'.repeat(150)], 100);
    expect(result.map((l) => [l.number, l.tooLong])).toEqual([[1, true], [2, false], [3, true]]);
    expect(result[0]!.text.length).toBeLessThanOrEqual(200);
    expect(result[1]!.text).toBe('ok');
  });

  it('reads a chunk of several hundred KiB in pieces without cutting lines or characters', async () => {
    // Lines of varying length with a 3-byte character, so piece boundaries fall inside lines and characters.
    const expected = Array.from({ length: 6000 }, (_, i) => `${i}:${'✓'.repeat(i % 37)}${'a'.repeat(i % 91)}`);
    const big = Buffer.from(`${expected.join('\n')}\n`);
    expect(big.length).toBeGreaterThan(4 * 64 * 1024);
    const result = await lines([big], 1024);
    expect(result.map((l) => l.text)).toEqual(expected);
    expect(result.at(-1)!.number).toBe(6000);
  });

  it('yields nothing for empty input', async () => {
    expect(await lines([])).toEqual([]);
  });
});
