import { describe, expect, it } from 'vitest';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord, parametersJson } from '../../core/model/flatten-event.js';
import { rawObjectKey } from '../../core/model/raw-record.js';
import { formatEpochSeconds, formatUtcTimestamp } from '../../core/model/timestamps.js';
import { outputKeysFor } from '../../core/parser/output-keys.js';
import { timeSortableIds, timeSortablePrefix } from '../../core/support/time-sortable-id.js';
import { ParseError } from '../../core/errors.js';
import { fixtureJson } from '../support/fixtures.js';

describe('timestamps', () => {
  it('formats UTC without a zone, with microseconds only when needed', () => {
    expect(formatUtcTimestamp(new Date('2016-11-23T11:00:00Z'))).toBe('2016-11-23 11:00:00');
    expect(formatUtcTimestamp(new Date('2016-11-23T11:00:00.042Z'))).toBe('2016-11-23 11:00:00.042000');
    expect(formatEpochSeconds('0')).toBe('1970-01-01 00:00:00');
    expect(formatEpochSeconds('253402300799')).toBe('9999-12-31 23:59:59');
    expect(formatEpochSeconds('253402300800')).toBeNull();
    expect(formatEpochSeconds('18446744073709551615')).toBeNull();
  });

  it('formats epoch seconds exactly as the Date-based formatting does, across days and years', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const samples = ['59', '60', '3599', '3600', '86399', '86400', '951782399', '951782400', '1795420000', '9999999999999', '253402300799'];
    for (let i = 0; i < 3000; i++) samples.push(String((next() * 118_000 + next()) % 253_402_300_800));
    for (const s of samples) if (BigInt(s) <= 253402300799n) expect(formatEpochSeconds(s)).toBe(formatUtcTimestamp(new Date(Number(s) * 1000)));
  });
});

describe('flattenRawRecord', () => {
  const collection = decodeCollectionJson(fixtureJson('collections/ios-two-events.json'));
  const record = { received_at: '2026-11-23T10:00:00.250Z', sent_at: null, ip: '10.1.2.3', collection };

  it('gives one row per payload in the events column order', () => {
    const rows = flattenRawRecord(record, 'raw/events/x.ndjson.gz');
    expect(rows).toHaveLength(2);
    const row = Object.fromEntries(eventTable.columns.map((c, i) => [c.name, rows[1]![i]]));
    expect(row).toEqual({
      device_id: collection.device_id, client_id: 'wunderlist-ios', session: collection.session, nr: '42', env: 'PRODUCTION',
      system_version: '10.2.1', product_version: '3.19.4', at: '2016-11-23 11:00:05', timezone: 'Europe/Berlin', event: 'Task.Complete',
      device_make: 'Apple', device_model: 'iPhone9,3', system: 'iOS', system_language: 'en-US', browser: null, browser_version: null,
      product_git_hash: '9f2c1e7', product_language: 'en', user_id: 'u-8812', tenant_id: 't-12', ip: '93.184.216.34', country: 'DE',
      parameters: '{"task_id":"tsk-1","source":"swipe-right"}', received_at: '2026-11-23 10:00:00.250000', sent_at: null, clock_skew_s: null,
      at_corrected: '2016-11-23 11:00:05', source_key: 'raw/events/x.ndjson.gz', fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    // A payload without its own ip takes the address the server saw.
    expect(rows[0]![eventTable.columns.findIndex((c) => c.name === 'ip')]).toBe('10.1.2.3');
  });

  const column = (row: (string | null)[], name: string) => row[eventTable.columns.findIndex((c) => c.name === name)];

  it.each([
    // [what, sent_at, threshold, skew, at_corrected of the payload at 2016-11-23 11:00:05]
    ['client clock 2 h behind', '2026-11-23T08:00:00.000Z', 300, '7450', '2016-11-23 13:04:15'],
    ['client clock 1 h ahead', '2026-11-23T11:04:10.250Z', 300, '-3600', '2016-11-23 10:00:05'],
    ['skew within the threshold', '2026-11-23T10:00:00.250Z', 300, '250', '2016-11-23 11:00:05'],
    ['skew exactly at the threshold', '2026-11-23T10:03:20.250Z', 50, '50', '2016-11-23 11:00:05'],
    ['threshold 0 corrects any skew', '2026-11-23T10:07:30.250Z', 0, '-200', '2016-11-23 10:56:45'],
  ])('corrects at by the clock skew: %s', (_what, sentAt, threshold, skew, corrected) => {
    const rows = flattenRawRecord({ ...record, received_at: '2026-11-23T10:04:10.250Z', sent_at: sentAt }, 'k', threshold);
    expect(column(rows[1]!, 'clock_skew_s')).toBe(skew);
    expect(column(rows[1]!, 'at')).toBe('2016-11-23 11:00:05');
    expect(column(rows[1]!, 'at_corrected')).toBe(corrected);
    expect(column(rows[1]!, 'sent_at')).toBe(formatUtcTimestamp(new Date(sentAt)));
  });

  it('refuses a time a warehouse cannot store', () => {
    const bad = { ...record, collection: { ...collection, payloads: [{ ...collection.payloads[0]!, at: '99999999999999' }] } };
    expect(() => flattenRawRecord(bad, 'k')).toThrow(ParseError);
  });

  describe('never corrects at past received_at + the threshold', () => {
    const receivedAt = '2026-11-23T10:04:10.250Z';
    const receivedS = Math.floor(Date.parse(receivedAt) / 1000);
    const withAt = (at: number, sentAt: string) => ({ ...record, received_at: receivedAt, sent_at: sentAt, collection: { ...collection, payloads: [{ ...collection.payloads[0]!, at: String(at) }] } });
    const format = (seconds: number) => formatEpochSeconds(String(seconds));

    it.each([
      // [what, at, sent_at, at_corrected]
      ['X-Hamustro-Time years behind while at is current (a fixed test time): at is kept', receivedS - 60, '2014-02-03T15:41:28.000Z', format(receivedS - 60)],
      ['client clock 2 h behind, at and X-Hamustro-Time from that clock: corrected', receivedS - 7200 - 10, new Date((receivedS - 7200) * 1000).toISOString(), format(receivedS - 10)],
      ['a correction landing exactly at received_at + the threshold: applied', receivedS - 7200 + 300, new Date((receivedS - 7200) * 1000).toISOString(), format(receivedS + 300)],
      ['a correction landing one second later: at is kept', receivedS - 7200 + 301, new Date((receivedS - 7200) * 1000).toISOString(), format(receivedS - 7200 + 301)],
      ['client clock 1 h ahead: corrected back, however far', receivedS + 3600 - 30, new Date((receivedS + 3600) * 1000).toISOString(), format(receivedS - 30)],
    ])('%s', (_what, at, sentAt, corrected) => {
      const [row] = flattenRawRecord(withAt(at, sentAt), 'k', 300);
      expect(column(row!, 'at')).toBe(format(at));
      expect(column(row!, 'at_corrected')).toBe(corrected);
      // The skew column says what the headers said, corrected or not.
      expect(column(row!, 'clock_skew_s')).toBe(String(Math.round((Date.parse(receivedAt) - Date.parse(sentAt)) / 1000)));
    });
  });

  it('loads events whose sent_at no warehouse can store without it (no skew, no correction)', () => {
    const rows = flattenRawRecord({ ...record, sent_at: '+033658-09-27T01:46:39.000Z' }, 'k');
    expect(rows.map((r) => [column(r, 'sent_at'), column(r, 'clock_skew_s'), column(r, 'at_corrected')])).toEqual([
      [null, null, '2016-11-23 11:00:00'],
      [null, null, '2016-11-23 11:00:05'],
    ]);
  });

  describe('a payload no warehouse can store', () => {
    const payloads = [
      { ...collection.payloads[0]!, at: '1700000000', nr: 1 },
      { ...collection.payloads[0]!, at: '253402300800', nr: 2 },
      { ...collection.payloads[0]!, at: '1700000001', nr: 3 },
      { ...collection.payloads[0]!, at: '18446744073709551615', nr: 4 },
    ];
    const withPayloads = (p: typeof payloads) => ({ ...record, collection: { ...collection, payloads: p } });

    it('is rejected alone, with its reason, when the caller takes rejections: its siblings give rows', () => {
      const reasons: string[] = [];
      const rows = flattenRawRecord(withPayloads(payloads), 'k', 300, (reason) => reasons.push(reason));
      expect(rows.map((r) => column(r, 'nr'))).toEqual(['1', '3']);
      expect(reasons).toEqual(['payloads[1].at 253402300800 is beyond year 9999', 'payloads[3].at 18446744073709551615 is beyond year 9999']);
    });

    it('rejects the record whole when no payload is left, or when the caller takes no rejections', () => {
      const reasons: string[] = [];
      expect(() => flattenRawRecord(withPayloads([payloads[1]!]), 'k', 300, (reason) => reasons.push(reason))).toThrow('payloads[0].at 253402300800 is beyond year 9999');
      expect(reasons).toEqual([]);
      expect(() => flattenRawRecord(withPayloads(payloads), 'k')).toThrow('payloads[1].at 253402300800 is beyond year 9999');
    });
  });

  it('collapses duplicate parameter names, last one wins, and keeps any name (__proto__ too)', () => {
    expect(parametersJson([{ name: 'a', value: '1' }, { name: 'a', value: '2' }])).toBe('{"a":"2"}');
    expect(parametersJson([{ name: '__proto__', value: 'x' }, { name: 'constructor', value: 'y' }, { name: '__proto__', value: 'z' }])).toBe('{"__proto__":"z","constructor":"y"}');
  });
});

describe('keys and ids', () => {
  it('partitions raw keys by receive hour', () => {
    expect(rawObjectKey(new Date('2026-01-02T03:04:05Z'), 'ID')).toBe('raw/events/2026/01/02/03/ID.ndjson.gz');
  });

  it('derives output keys from the input key and version only', () => {
    const a = outputKeysFor('raw/events/2026/01/02/03/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', 'etag1', new Date('2030-01-01'));
    expect(outputKeysFor('raw/events/2026/01/02/03/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', 'etag1', new Date()).table('events')).toBe(a.table('events'));
    expect(outputKeysFor('raw/events/2026/01/02/03/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', 'etag2', new Date()).table('events')).not.toBe(a.table('events'));
    // A log's outputs start with the time it arrived (its last-modified), so names in a partition sort by arrival.
    expect(outputKeysFor('logs/web 1/access.log.gz', 'e', new Date('2026-05-06T23:00:00Z')).summary).toMatch(
      new RegExp(`^summaries/2026-05-06/${timeSortablePrefix(new Date('2026-05-06T23:00:00Z'))}-access-[0-9a-f]{16}\\.json$`),
    );
    const early = outputKeysFor('logs/web 1/zz.log.gz', 'e', new Date('2026-05-06T01:00:00Z')).table('t');
    const late = outputKeysFor('logs/web 1/aa.log.gz', 'e', new Date('2026-05-06T02:00:00Z')).table('t');
    expect(early < late).toBe(true);
    // The collector's raw objects are named by a time-sortable id already; their outputs keep that name.
    expect(outputKeysFor('raw/events/2026/01/02/03/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', 'e', new Date()).table('events')).toMatch(/^parsed\/events\/2026-01-02\/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2-[0-9a-f]{16}\.csv\.gz$/);
  });

  it('makes unique ids that sort by time', () => {
    const early = timeSortableIds.next(new Date('2026-01-01T00:00:00Z'));
    const late = timeSortableIds.next(new Date('2026-01-01T00:00:00.001Z'));
    expect(early < late).toBe(true);
    expect(early).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const many = new Set(Array.from({ length: 10_000 }, () => timeSortableIds.next(new Date(0))));
    expect(many.size).toBe(10_000);
  });
});
