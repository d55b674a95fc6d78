import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CsvColumns } from '../../core/loader/csv-columns.js';
import { readCsvRecords } from '../../core/loader/csv-rows.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import { fixtureJson } from '../support/fixtures.js';

const awkward = ['plain', '', 'comma, inside', 'quote " inside', '"', '""', 'line\nbreak', 'crlf\r\n', 'ünïcødé ✓ 😀', ',', '42', '\n'];

/** Rows of `width` fields drawn from the awkward values and NULL, reproducibly. */
function rowsOf(count: number, width: number): (string | null)[][] {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: count }, () => Array.from({ length: width }, () => (next() % 9 === 0 ? null : awkward[next() % awkward.length]!)));
}

function pick(bytes: Buffer, indices: number[], chunkSize: number): CsvColumns {
  const columns = new CsvColumns(indices);
  for (let i = 0; i < bytes.length; i += chunkSize) columns.push(bytes.subarray(i, i + chunkSize));
  return columns;
}

async function fullRead(bytes: Buffer): Promise<(string | null)[][]> {
  const out = [];
  for await (const r of readCsvRecords(Readable.from([bytes]))) out.push(r);
  return out;
}

describe('CsvColumns', () => {
  const rows = rowsOf(300, 9);
  const bytes = Buffer.from(rows.map((r) => encodeCsvRow(r)).join(''), 'utf8');

  it.each([
    [[2, 3], 1],
    [[2, 3], 5],
    [[2, 3], 64],
    [[0], 13],
    [[1, 4, 8], 7],
    [[8], bytes.length],
  ])('picks columns %j as the full CSV reader reads them, NULL and empty apart, fed %i bytes at a time', async (indices, chunkSize) => {
    const columns = pick(bytes, indices, chunkSize);
    const records = await fullRead(bytes);
    expect(columns.complete).toBe(true);
    expect(columns.records).toBe(records.length);
    expect(columns.values).toEqual(indices.map((i) => records.map((r) => r[i])));
  });

  it('reads the collision key of events rows as the parser writes them', () => {
    const collection = decodeCollectionJson(fixtureJson('collections/ios-two-events.json'));
    const rows = flattenRawRecord({ received_at: '2026-11-25T10:00:00.000Z', sent_at: null, ip: '203.0.113.9', collection }, 'raw/events/2026/11/25/10/01X.ndjson.gz');
    const indices = eventTable.collisionKey!.map((k) => eventTable.columns.findIndex((c) => c.name === k));
    const columns = pick(Buffer.from(rows.map((r) => encodeCsvRow(r)).join('')), indices, 100);
    expect(columns.values).toEqual([rows.map((r) => r[indices[0]!]), rows.map((r) => String(r[indices[1]!]))]);
  });

  it('hands each record\'s picked values to a sink instead of keeping them', () => {
    const seen: (string | null)[][] = [];
    const columns = new CsvColumns([0, 2], (picked) => seen.push([...picked]));
    columns.push('a,b,c\n,"x""y",\n');
    expect(seen).toEqual([['a', 'c'], [null, null]]);
    expect(columns.records).toBe(2);
    expect(columns.values).toEqual([[], []]);
  });

  it('tells the sink where each record\'s bytes are, a record cut across chunks included', () => {
    const text = 'a,"b\nb",c\nd,e,f\n"g""",h,i\n';
    const records: string[] = [];
    const columns = new CsvColumns([0], (_picked, source, start, end) => records.push(source.toString('utf8', start, end)));
    for (const piece of text.match(/[^]{1,4}/g)!) columns.push(piece);
    expect(records).toEqual(['a,"b\nb",c\n', 'd,e,f\n', '"g""",h,i\n']);
  });

  it('is not complete while the last record has no end yet', () => {
    const columns = new CsvColumns([0, 1]);
    columns.push('a,b,c\nd,"e\n');
    expect(columns.values).toEqual([['a'], ['b']]);
    expect(columns.complete).toBe(false);
    columns.push('f",g\n');
    expect(columns.values).toEqual([['a', 'd'], ['b', 'e\nf']]);
    expect(columns.complete).toBe(true);
  });

  it('gives NULL for a column a short row lacks', () => {
    const columns = new CsvColumns([1, 3]);
    columns.push('a,b\nc,d,e,f,g\n');
    expect(columns.values).toEqual([['b', 'd'], [null, 'f']]);
  });
});
