import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { Replacements } from '../../core/model/storable-text.js';
import { fixtureJson } from '../support/fixtures.js';

const base = () => fixtureJson('collections/ios-two-events.json');

function errorOf(value: unknown): InvalidInputError {
  try {
    decodeCollectionJson(value);
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('expected an InvalidInputError');
}

describe('decodeCollectionJson', () => {
  it('decodes a real-shaped collection with every field', () => {
    const c = decodeCollectionJson(base());
    expect(c).toMatchObject({ client_id: 'wunderlist-ios', env: 0, device_make: 'Apple', product_language: 'en' });
    expect(c.payloads).toHaveLength(2);
    expect(c.payloads[0]).toEqual({
      at: '1479898800', event: 'Task.Create', nr: 41, timezone: 'Europe/Berlin', user_id: 'u-8812', tenant_id: 't-12', country: 'DE',
      parameters: [{ name: 'list_id', value: 'lst-77' }, { name: 'source', value: 'quick-add' }],
    });
    expect(c.payloads[1]!.at).toBe('1479898805');
  });

  it.each([
    ['env by name', 'DEVELOPMENT', 11],
    ['env by number', 4, 4],
    ['env by numeric string', '3', 3],
  ])('accepts %s', (_label, env, expected) => {
    expect(decodeCollectionJson({ ...base(), env }).env).toBe(expected);
  });

  it('keeps 64-bit at values given as strings without losing bits', () => {
    const c = decodeCollectionJson({ ...base(), payloads: [{ at: '18446744073709551615', event: 'e', nr: 1 }] });
    expect(c.payloads[0]!.at).toBe('18446744073709551615');
  });

  it.each([
    ['a short string', '1479898800', '1479898800'],
    ['a number', 1479898800, '1479898800'],
    ['zero', '0', '0'],
    ['leading zeros', '000042', '42'],
    ['15 digits', '999999999999999', '999999999999999'],
    ['16 digits', '1000000000000001', '1000000000000001'],
    ['2^53 + 1 as a string', '9007199254740993', '9007199254740993'],
  ])('writes at given as %s in canonical decimal', (_label, at, expected) => {
    expect(decodeCollectionJson({ ...base(), payloads: [{ at, event: 'e', nr: 1 }] }).payloads[0]!.at).toBe(expected);
  });

  it.each([['uint64 + 1', '18446744073709551616'], ['a negative number', -5], ['a fraction', 1.5], ['a 21-digit string', '100000000000000000000']])('refuses at as %s', (_label, at) => {
    expect(() => decodeCollectionJson({ ...base(), payloads: [{ at, event: 'e', nr: 1 }] })).toThrow(/payloads\[0\]\.at/);
  });

  it('ignores unknown fields like a protobuf parser', () => {
    expect(decodeCollectionJson({ ...base(), future_field: 1 }).client_id).toBe('wunderlist-ios');
  });

  it('treats missing payloads as an empty list', () => {
    const { payloads: _p, ...rest } = base();
    expect(decodeCollectionJson(rest).payloads).toEqual([]);
  });

  const cases: [string, (c: Record<string, unknown>) => unknown, string][] = [
    ['not an object', () => [1, 2], 'collection'],
    ['missing device_id', (c) => ({ ...c, device_id: undefined }), 'device_id'],
    ['missing session', (c) => ({ ...c, session: null }), 'session'],
    ['numeric client_id', (c) => ({ ...c, client_id: 5 }), 'client_id'],
    ['missing env', (c) => ({ ...c, env: undefined }), 'env'],
    ['unknown env name', (c) => ({ ...c, env: 'PROD' }), 'env'],
    ['env out of range', (c) => ({ ...c, env: 12 }), 'env'],
    ['optional field of wrong type', (c) => ({ ...c, browser: true }), 'browser'],
    ['payloads not an array', (c) => ({ ...c, payloads: {} }), 'payloads'],
    ['payload not an object', (c) => ({ ...c, payloads: ['x'] }), 'payloads[0]'],
    ['missing at', (c) => ({ ...c, payloads: [{ event: 'e', nr: 1 }] }), 'payloads[0].at'],
    ['negative at', (c) => ({ ...c, payloads: [{ at: -1, event: 'e', nr: 1 }] }), 'payloads[0].at'],
    ['fractional at', (c) => ({ ...c, payloads: [{ at: 1.5, event: 'e', nr: 1 }] }), 'payloads[0].at'],
    ['at beyond uint64', (c) => ({ ...c, payloads: [{ at: '18446744073709551616', event: 'e', nr: 1 }] }), 'payloads[0].at'],
    ['at not numeric', (c) => ({ ...c, payloads: [{ at: '12a', event: 'e', nr: 1 }] }), 'payloads[0].at'],
    ['missing event', (c) => ({ ...c, payloads: [{ at: 1, nr: 1 }] }), 'payloads[0].event'],
    ['nr beyond uint32', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: 4294967296 }] }), 'payloads[0].nr'],
    ['negative nr', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: -1 }] }), 'payloads[0].nr'],
    ['parameters not an array', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: 1, parameters: 'x' }] }), 'payloads[0].parameters'],
    ['parameter without value', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: 1, parameters: [{ name: 'a' }] }] }), 'payloads[0].parameters[0].value'],
    ['parameter value not a string', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: 1, parameters: [{ name: 'a', value: 1 }] }] }), 'payloads[0].parameters[0].value'],
    ['optional payload field of wrong type', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: 1, timezone: 2 }] }), 'payloads[0].timezone'],
    ['a later payload\'s parameter not an object', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: 1 }, { at: 1, event: 'e', nr: 2, parameters: [{ name: 'a', value: 'b' }, 7] }] }), 'payloads[1].parameters[1]'],
    ['a later parameter without name', (c) => ({ ...c, payloads: [{ at: 1, event: 'e', nr: 1 }, { at: 1, event: 'e', nr: 2, parameters: [{ name: 'a', value: 'b' }, { name: 'c', value: 'd' }, { value: 'v' }] }] }), 'payloads[1].parameters[2].name'],
  ];
  it.each(cases)('rejects %s, naming the field', (_label, mutate, field) => {
    const err = errorOf(mutate(base()));
    expect(err.code).toBe('invalid_input');
    expect(err.context.field).toBe(field);
    expect(err.message.startsWith(`${field}:`)).toBe(true);
  });
});

describe('decodeCollectionJson with text no warehouse can store', () => {
  // The bodies as a client sends them: JSON escapes, parsed as the collector parses them.
  const decode = (mutate: (c: Record<string, unknown>) => void) => {
    const c = base() as Record<string, unknown> & { payloads: Record<string, unknown>[] };
    mutate(c);
    const json = JSON.stringify(c).replaceAll('<NUL>', '\\u0000').replaceAll('<D800>', '\\ud800').replaceAll('<DC00>', '\\udc00');
    const replaced = new Replacements();
    return { collection: decodeCollectionJson(JSON.parse(json), replaced), replaced };
  };
  const parameters = (c: Record<string, unknown>, i: number) => (c.payloads as { parameters: { name: string; value: string }[] }[])[i]!.parameters;

  it.each([
    ['a NUL in a parameter value', (c: Record<string, unknown>) => (parameters(c, 0)[1]!.value = 'quick<NUL>add'), 'payloads[0].parameters[1].value', 'quick\uFFFDadd'],
    ['a lone surrogate in a parameter value', (c: Record<string, unknown>) => (parameters(c, 1)[0]!.value = '<D800>x'), 'payloads[1].parameters[0].value', '\uFFFDx'],
    ['a NUL in a parameter name', (c: Record<string, unknown>) => (parameters(c, 0)[0]!.name = 'n<NUL>m'), 'payloads[0].parameters[0].name', 'n\uFFFDm'],
    ['a lone low surrogate in a parameter name', (c: Record<string, unknown>) => (parameters(c, 0)[0]!.name = '<DC00>'), 'payloads[0].parameters[0].name', '\uFFFD'],
    ['a NUL in event', (c: Record<string, unknown>) => ((c.payloads as Record<string, unknown>[])[1]!.event = 'Task<NUL>'), 'payloads[1].event', 'Task\uFFFD'],
    ['a NUL in an optional payload field', (c: Record<string, unknown>) => ((c.payloads as Record<string, unknown>[])[0]!.timezone = '<NUL>'), 'payloads[0].timezone', '\uFFFD'],
    ['a lone surrogate in a collection field', (c: Record<string, unknown>) => (c.device_model = 'iPhone<D800>'), 'device_model', 'iPhone\uFFFD'],
  ])('replaces %s with U+FFFD and counts it', (_label, mutate, field, expected) => {
    const { collection, replaced } = decode(mutate);
    const json = JSON.stringify(collection);
    expect(json).toContain(JSON.stringify(expected).slice(1, -1));
    expect(json).not.toMatch(/\\u0000|\\ud[89a-f]/i);
    expect(replaced.count).toBe(1);
    expect(replaced.fields).toEqual([field]);
  });

  it('leaves emoji (surrogate pairs) and a U+FFFD the client sent alone, uncounted', () => {
    const { collection, replaced } = decode((c) => (parameters(c, 0)[0]!.value = '😀 \ud83d\ude00 \uFFFD'));
    expect(collection.payloads[0]!.parameters[0]!.value).toBe('😀 😀 \uFFFD');
    expect(replaced.count).toBe(0);
  });

  it('counts values, not characters, across the whole collection', () => {
    const { replaced } = decode((c) => {
      parameters(c, 0)[0]!.value = '<NUL><NUL><NUL>';
      parameters(c, 1)[2]!.value = '<D800>';
      c.system = '<NUL>';
    });
    expect(replaced.count).toBe(3);
    expect(replaced.fields).toEqual(['system', 'payloads[0].parameters[0].value', 'payloads[1].parameters[2].value']);
  });
});
