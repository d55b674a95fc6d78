import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../core/errors.js';
import { peekFieldCount, readCsvRecords } from '../../core/loader/csv-rows.js';
import { encodeCsvRow } from '../../core/parser/csv.js';

async function records(bytes: Buffer, chunkSize = bytes.length || 1) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const out = [];
  for await (const r of readCsvRecords(Readable.from(chunks), 'parsed/t/x.csv.gz')) out.push(r);
  return out;
}

const rows = [
  ['plain', null, '', '42'],
  ['comma, inside', 'quote " inside', 'line\nbreak', 'crlf\r\n'],
  ['ünïcødé ✓ 😀', '""', '"', ','],
  [null, null, null, null],
  ['', '', '', ''],
];

describe('readCsvRecords', () => {
  it.each([1, 2, 3, 7, 4096])('reads back what encodeCsvRow wrote, NULL and empty string apart, in chunks of %i bytes', async (size) => {
    const bytes = Buffer.from(rows.map((r) => encodeCsvRow(r)).join(''), 'utf8');
    expect(await records(bytes, size)).toEqual(rows);
  });

  it('reads nothing from an empty file', async () => {
    expect(await records(Buffer.alloc(0))).toEqual([]);
  });

  it('reads a last record without a final LF', async () => {
    expect(await records(Buffer.from('a,b\nc,"d"'))).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it.each([
    ['a,"b\n', 'unterminated quoted field in record 1'],
    ['ok\na"b\n', 'stray quote in record 2'],
    ['"a"b\n', 'text after a closing quote in record 1'],
  ])('refuses malformed CSV %j, naming the record', async (text, reason) => {
    const error = await records(Buffer.from(text)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadError);
    expect((error as LoadError).message).toContain(reason);
    expect((error as LoadError).context.key).toBe('parsed/t/x.csv.gz');
  });
});

describe('peekFieldCount', () => {
  it.each([1, 2, 5, 4096])('counts the first record\'s fields (quoted commas and line breaks inside) and hands back every byte, in chunks of %i bytes', async (size) => {
    const bytes = Buffer.from([rows[1]!, ...rows].map(encodeCsvRow).join(''));
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const peeked = await peekFieldCount(Readable.from(chunks));
    expect(peeked.fields).toBe(4);
    const back: Buffer[] = [];
    for await (const chunk of peeked.csv) back.push(chunk as Buffer);
    expect(Buffer.concat(back).equals(bytes)).toBe(true);
  });

  it('says nothing of an empty file, and counts a single record without a final LF', async () => {
    expect((await peekFieldCount(Readable.from([] as Buffer[]))).fields).toBeUndefined();
    expect((await peekFieldCount(Readable.from([Buffer.from('a,"b,c",d')]))).fields).toBe(3);
  });
});
