import { describe, expect, it } from 'vitest';
import { refusedSqlstate } from '../../core/loader/dialects/postgres.js';
import { AzureSqlDialect } from '../../core/loader/dialects/azure-sql.js';
import { RedshiftDialect } from '../../core/loader/dialects/redshift.js';
import { inFile } from '../../core/loader/client-copy.js';
import type { Collection, Payload } from '../../core/model/collection.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventFingerprint, fingerprintReads, storedEventFingerprint } from '../../core/model/event-fingerprint.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { fixtureJson } from '../support/fixtures.js';

const collection = decodeCollectionJson(fixtureJson('collections/ios-two-events.json'));
const payload = collection.payloads[1]!;
const fingerprintOf = (c: Collection, p: Payload, receivedAt = '2026-11-23T10:00:00.000Z', ip: string | null = '10.1.2.3') => {
  const rows = flattenRawRecord({ received_at: receivedAt, sent_at: null, ip, collection: { ...c, payloads: [p] } }, `raw/${receivedAt}`);
  return rows[0]![eventTable.columns.findIndex((col) => col.name === 'fingerprint')]!;
};

describe('event fingerprint', () => {
  it('is the same for an identical re-send, however and whenever it arrives', () => {
    const first = fingerprintOf(collection, payload);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    // Another receipt time, send time, raw object and server-seen address do not change it.
    expect(fingerprintOf(collection, payload, '2026-11-24T08:00:00.000Z', '198.51.100.1')).toBe(first);
    // Nor does the order or repetition of parameters, once collapsed the way the row stores them.
    const reordered = { ...payload, parameters: [{ name: 'source', value: 'swipe-right' }, { name: 'task_id', value: 'tsk-1' }] };
    expect(fingerprintOf(collection, reordered)).toBe(first);
  });

  it.each([
    ['event', { event: 'Task.Delete' }],
    ['at', { at: '1479898806' }],
    ['timezone absent', { timezone: undefined }],
    ['timezone empty', { timezone: '' }],
    ['user_id', { user_id: 'u-1' }],
    ['tenant_id', { tenant_id: 't-1' }],
    ['country', { country: 'AT' }],
    ['a parameter value', { parameters: [{ name: 'task_id', value: 'tsk-2' }, { name: 'source', value: 'swipe-right' }] }],
    ['a parameter name', { parameters: [{ name: 'task', value: 'tsk-1' }, { name: 'source', value: 'swipe-right' }] }],
    ['one parameter fewer', { parameters: [{ name: 'task_id', value: 'tsk-1' }] }],
  ] as [string, Partial<Payload>][])('differs when the payload differs in %s', (_what, change) => {
    expect(fingerprintOf(collection, { ...payload, ...change })).not.toBe(fingerprintOf(collection, payload));
  });

  it.each([
    ['device_id', { device_id: 'other-device' }],
    ['product_version', { product_version: '3.19.5' }],
    ['device_model', { device_model: 'iPhone10,1' }],
    ['browser', { browser: 'Safari' }],
  ] as [string, Partial<Collection>][])('differs when the collection differs in %s', (_what, change) => {
    expect(fingerprintOf({ ...collection, ...change }, payload)).not.toBe(fingerprintOf(collection, payload));
  });

  it('is computed the same from a stored row (text columns, JSON parameters in any key order) as from the payload', () => {
    const tricky: Payload = {
      ...payload,
      timezone: undefined,
      parameters: [
        { name: 'quote', value: 'say "hi"\n\ttab\u0001' },
        { name: 'ünï', value: '✓ 𝄞 \uFFFD' },
        { name: '__proto__', value: 'kept' },
        { name: '10', value: 'numeric-looking name' },
        { name: 'quote', value: 'the last one wins' },
      ],
    };
    const rows = flattenRawRecord({ received_at: '2026-11-23T10:00:00.000Z', sent_at: null, ip: null, collection: { ...collection, payloads: [tricky] } }, 'k');
    const stored = Object.fromEntries(eventTable.columns.map((c, i) => [c.name, rows[0]![i]!]));
    expect(fingerprintReads.every((c) => c in stored)).toBe(true);
    // What a warehouse hands back: parameters re-serialised with its own key order and spacing.
    const parameters = JSON.parse(stored.parameters as string) as Record<string, string>;
    const reserialised = `{${Object.keys(parameters).sort().reverse().map((k) => `${JSON.stringify(k)}: ${JSON.stringify(parameters[k])}`).join(', ')}}`;
    expect(storedEventFingerprint({ ...stored, parameters: reserialised })).toBe(stored.fingerprint);
    expect(eventFingerprint(collection, tricky, 'PRODUCTION', stored.at as string)).toBe(stored.fingerprint);
  });
});

describe('event fingerprint, written out piece by piece', () => {
  const bare: Collection = { device_id: 'd', client_id: 'c', session: 's', system_version: '1', product_version: '2', env: 0, payloads: [] };
  const full: Collection = {
    ...bare,
    device_make: 'Apple',
    device_model: 'iPhone "X"',
    system: 'iOS',
    system_language: 'de',
    browser: '',
    browser_version: '\u2028',
    product_git_hash: 'abc',
    product_language: 'en',
  };
  const payloads: [string, Payload][] = [
    ['no parameters, no optional fields', { at: '1479898800', event: 'E', nr: 1, parameters: [] }],
    ['one parameter', { at: '1479898800', event: 'E', nr: 2, parameters: [{ name: 'a', value: 'x,"y"' }] }],
    ['one parameter named __proto__', { at: '1479898800', event: 'E', nr: 2, parameters: [{ name: '__proto__', value: 'p' }] }],
    ['repeated and unordered parameters', { at: '1479898800', event: 'E', nr: 3, parameters: [{ name: 'b', value: '1' }, { name: 'a', value: '2' }, { name: 'b', value: '3' }] }],
    ['every optional field', { at: '1479898800', event: 'Ü\n', nr: 4294967295, timezone: 'Europe/Vienna', tenant_id: 't', user_id: 'u', ip: '10.0.0.1', country: 'AT', parameters: [] }],
  ];
  it.each(payloads.flatMap(([what, p]) => [[`${what}, bare collection`, bare, p], [`${what}, every collection field`, full, p]] as [string, Collection, Payload][]))(
    'equals the fingerprint of the stored row: %s',
    (_what, c, p) => {
      const rows = flattenRawRecord({ received_at: '2026-11-23T10:00:00.000Z', sent_at: null, ip: null, collection: { ...c, payloads: [p, { ...p, nr: p.nr + 1 }] } }, 'k');
      for (const row of rows) {
        const stored = Object.fromEntries(eventTable.columns.map((col, i) => [col.name, row[i]!]));
        expect(storedEventFingerprint(stored)).toBe(stored.fingerprint);
      }
    },
  );
});

describe('which load errors are the files\' fault', () => {
  it.each([
    ['22P05', true], ['22P02', true], ['22007', true], ['22P04', true], ['23502', true], ['54000', true],
    ['23505', false], ['08006', false], ['40001', false], ['40P01', false], ['57P01', false], ['55P03', false], ['53100', false], ['42P01', false], [undefined, false],
  ] as [string | undefined, boolean][])('PostgreSQL %s → %s', (sqlstate, refused) => {
    expect(refusedSqlstate(sqlstate)).toBe(refused);
  });

  it('looks through the file a client-side copy names to the warehouse error', () => {
    const azure = new AzureSqlDialect('ferry');
    expect(azure.refusesData(inFile('parsed/events/d/x.csv.gz', Object.assign(new Error('Conversion failed'), { number: 241 })))).toBe(true);
    expect(azure.errorCode(inFile('parsed/events/d/x.csv.gz', Object.assign(new Error('Conversion failed'), { number: 241 })))).toBe('241');
    // Deadlock victim, lock timeout, throttling: retried next run, never quarantined.
    for (const number of [1205, 1222, 40501, 40613]) expect(azure.refusesData(Object.assign(new Error('busy'), { number }))).toBe(false);
    expect(azure.refusesData(Object.assign(new Error('Connection lost'), { code: 'ESOCKET' }))).toBe(false);
  });

  it('on Redshift, takes a COPY failure for refused content only when it points at stl_load_errors', () => {
    const redshift = new RedshiftDialect({ schema: 'ferry', iamRole: 'arn:aws:iam::123456789012:role/r' });
    expect(redshift.refusesData(Object.assign(new Error("Load into table 'x' failed.  Check 'stl_load_errors' system table for details."), { code: 'XX000' }))).toBe(true);
    expect(redshift.refusesData(Object.assign(new Error('S3ServiceException:Access Denied'), { code: 'XX000' }))).toBe(false);
  });
});
