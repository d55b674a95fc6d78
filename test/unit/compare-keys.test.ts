import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../core/support/blob-metadata.js';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
// ASCII, Latin-1, characters just below and above the surrogates, and above U+FFFF (as S3 keys may hold).
const alphabet = ['a', 'b', '/', '-', '0', 'Z', 'é', 'ÿ', '\u0800', '\ud7ff', '\ue000', '\uffff', '\ufffd', '😀', '𝄞', '\u{10ffff}'];

function randomKey(random: () => number): string {
  let key = '';
  const length = Math.floor(random() * 6);
  for (let i = 0; i < length; i++) key += alphabet[Math.floor(random() * alphabet.length)];
  return key;
}

describe('compareKeys', () => {
  it('orders keys as their UTF-8 bytes do, surrogate pairs (above U+FFFF) after U+E000–U+FFFF', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 20_000; n++) {
      const a = randomKey(random);
      const b = random() < 0.3 ? a + randomKey(random) : randomKey(random);
      expect([a, b, sign(compareKeys(a, b))]).toEqual([a, b, sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))]);
    }
    expect(compareKeys('parsed/events/2026-11-25/', 'parsed/events/2026-11-25/01K')).toBeLessThan(0);
    expect(compareKeys('a\uffff', 'a😀')).toBeLessThan(0);
  });
});
