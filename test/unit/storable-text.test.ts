import { describe, expect, it } from 'vitest';
import { Replacements, storableText } from '../../core/model/storable-text.js';

const top = () => '';
const payload = () => 'payloads[0].parameters[1]';

describe('storableText', () => {
  it.each([
    ['plain text', 'hello', 'hello'],
    ['empty', '', ''],
    ['NUL', 'a\u0000b', 'a\uFFFDb'],
    ['only NULs', '\u0000\u0000', '\uFFFD\uFFFD'],
    ['a lone high surrogate', '\ud800x', '\uFFFDx'],
    ['a lone high surrogate at the end', 'x\ud83d', 'x\uFFFD'],
    ['a lone low surrogate', 'x\udc00', 'x\uFFFD'],
    ['a pair in the wrong order', '\ude00\ud83d', '\uFFFD\uFFFD'],
    ['an emoji (a valid pair)', 'ok 😀 ok', 'ok 😀 ok'],
    ['an emoji next to a lone surrogate', '😀\ud800😀', '😀\uFFFD😀'],
    ['U+FFFD as sent', 'a\uFFFDb', 'a\uFFFDb'],
  ])('%s', (_label, input, expected) => {
    expect(storableText(input)).toBe(expected);
  });

  it('returns the very string it was given when nothing needs replacing', () => {
    const text = `${'x'.repeat(100)}😀`;
    expect(storableText(text)).toBe(text);
  });
});

describe('Replacements', () => {
  it('counts each value it changed once, names it, and leaves valid text alone', () => {
    const r = new Replacements();
    expect(r.text('ok 😀', payload, 'value')).toBe('ok 😀');
    expect(r.text('a\u0000b\u0000', payload, 'value')).toBe('a\uFFFDb\uFFFD');
    expect(r.text('\ud800x', top, 'device_id')).toBe('\uFFFDx');
    expect(r.count).toBe(2);
    expect(r.fields).toEqual(['payloads[0].parameters[1].value', 'device_id']);
    expect(r.original).toEqual(new Map([['device_id', '\ud800x']]));
  });

  it('names the first five values only, but counts them all', () => {
    const r = new Replacements();
    for (let i = 0; i < 8; i++) r.text('\u0000', () => `payloads[${i}]`, 'event');
    expect(r.count).toBe(8);
    expect(r.fields).toEqual([0, 1, 2, 3, 4].map((i) => `payloads[${i}].event`));
  });

  it.each([
    ['valid UTF-8', [0x68, 0xc3, 0xa9, 0xe4, 0xb8, 0xad, 0xf0, 0x9f, 0x98, 0x80], 'hé中😀', 0],
    ['U+FFFD the client sent', [0x61, 0xef, 0xbf, 0xbd], 'a\uFFFD', 0],
    ['NUL', [0x6e, 0x00, 0x6d], 'n\uFFFDm', 1],
    ['a byte that is never UTF-8', [0x61, 0xff, 0x62], 'a\uFFFDb', 1],
    ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80], '\uFFFD\uFFFD\uFFFD', 1],
    ['a sequence cut short', [0x61, 0xe4, 0xb8], 'a\uFFFD', 1],
    ['an overlong encoding', [0xc0, 0xaf], '\uFFFD\uFFFD', 1],
    ['invalid bytes and NUL together', [0xff, 0x00], '\uFFFD\uFFFD', 1],
  ])('decodes UTF-8 bytes: %s', (_label, bytes, expected, count) => {
    const r = new Replacements();
    // The value sits inside a larger buffer, as a protobuf string does.
    const buffer = Buffer.from([0x01, 0x02, ...bytes, 0x03]);
    expect(r.utf8(buffer, 2, 2 + bytes.length, payload, 'name')).toBe(expected);
    expect(r.count).toBe(count);
    expect(r.fields).toEqual(count ? ['payloads[0].parameters[1].name'] : []);
  });

  it('keeps the bytes as sent of a top-level value that was not valid UTF-8', () => {
    const r = new Replacements();
    expect(r.utf8(Buffer.from([0x64, 0xff]), 0, 2, top, 'device_id')).toBe('d\uFFFD');
    expect(r.original?.get('device_id')).toEqual(Uint8Array.from([0x64, 0xff]));
  });
});
