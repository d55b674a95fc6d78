import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors.js';
import type { Collection } from '../../core/model/collection.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { decodeCollectionProtobuf, payloadProto } from '../../core/model/decode-collection-protobuf.js';
import { Replacements } from '../../core/model/storable-text.js';
import { encodeCollection } from '../support/protobuf-encoder.js';

// The oracle: protobufjs's generated decoder + toObject + the JSON validator, which is how the
// collector decoded protobuf before the single-pass decoder.
const generated = protobuf.parse(payloadProto, { keepCase: true }).root.lookupType('payload.Collection');
const oracle = (bytes: Uint8Array) => decodeCollectionJson(generated.toObject(generated.decode(bytes), { longs: String, enums: Number, defaults: false, arrays: true }));

function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', 'é', '中', '😀', '\u0000'];

function randomCollection(random: () => number): Record<string, unknown> {
  const text = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const maybe = (value: string) => (random() < 0.5 ? value : undefined);
  const ats = ['0', '1479898800', '9007199254740991', '9007199254740993', '18446744073709551615', String(Math.floor(random() * 2 ** 40))];
  return {
    device_id: text(20), client_id: text(10), session: text(32), system_version: text(6), product_version: text(6),
    env: Math.floor(random() * 12),
    device_make: maybe(text(8)), device_model: maybe(text(8)), system: maybe(text(5)), system_language: maybe(text(5)),
    browser: maybe(text(5)), browser_version: maybe(text(5)), product_git_hash: maybe(text(40)), product_language: maybe(text(3)),
    payloads: Array.from({ length: Math.floor(random() * 6) }, () => ({
      at: ats[Math.floor(random() * ats.length)],
      event: text(20),
      nr: Math.floor(random() * 2 ** 32),
      timezone: maybe(text(12)), tenant_id: maybe(text(8)), user_id: maybe(text(8)), ip: maybe(text(15)), country: maybe(text(2)),
      parameters: Array.from({ length: Math.floor(random() * 4) }, () => ({ name: text(8), value: text(30) })),
    })),
  };
}

function decodeError(bytes: Uint8Array): InvalidInputError {
  try {
    decodeCollectionProtobuf(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error('expected the body to be refused');
}

/** Writes the required collection fields, then lets `extra` add more. */
function collectionWith(extra: (w: BinaryWriter) => void, omit: number[] = []): Uint8Array {
  const w = new BinaryWriter();
  for (const field of [1, 2, 3, 4, 5]) if (!omit.includes(field)) w.tag(field, WireType.LengthDelimited).string(`f${field}`);
  if (!omit.includes(6)) w.tag(6, WireType.Varint).int32(3);
  extra(w);
  return w.finish();
}

describe('decodeCollectionProtobuf', () => {
  it('agrees with protobufjs generated decoding on 2,000 random collections, key order included', () => {
    const random = prng(42);
    for (let i = 0; i < 2000; i++) {
      const bytes = encodeCollection(randomCollection(random));
      const ours = decodeCollectionProtobuf(bytes);
      expect(JSON.stringify(ours)).toBe(JSON.stringify(oracle(bytes)));
    }
  });

  it('keeps every bit of a uint64 at above 2^53', () => {
    const c = randomCollection(prng(1));
    c.payloads = [{ at: '18446744073709551615', event: 'e', nr: 1 }, { at: '9007199254740993', event: 'e', nr: 2 }];
    expect(decodeCollectionProtobuf(encodeCollection(c)).payloads.map((p) => p.at)).toEqual(['18446744073709551615', '9007199254740993']);
  });

  it('skips unknown fields of every wire type at every level (newer clients keep working)', () => {
    const unknowns = (w: BinaryWriter) => {
      w.tag(99, WireType.Varint).uint64(123n).tag(100, WireType.Bit64).fixed64(1n).tag(101, WireType.LengthDelimited).string('x');
      w.tag(102, WireType.Bit32).fixed32(7).tag(103, WireType.StartGroup).tag(1, WireType.Varint).int32(1).tag(103, WireType.EndGroup);
    };
    const bytes = collectionWith((w) => {
      unknowns(w);
      w.tag(15, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(5n).tag(2, WireType.LengthDelimited).string('ev');
      unknowns(w);
      w.tag(3, WireType.Varint).uint32(9).tag(9, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('k');
      unknowns(w);
      w.tag(2, WireType.LengthDelimited).string('v').join().join();
    });
    expect(decodeCollectionProtobuf(bytes)).toEqual(oracle(bytes));
    expect(decodeCollectionProtobuf(bytes).payloads).toEqual([{ at: '5', event: 'ev', nr: 9, parameters: [{ name: 'k', value: 'v' }] }]);
  });

  it.each([
    ['device_id', collectionWith(() => {}, [1])],
    ['product_version', collectionWith(() => {}, [5])],
    ['env', collectionWith(() => {}, [6])],
    ['payloads[1].at', collectionWith((w) => {
      w.tag(15, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(1n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint32(1).join();
      w.tag(15, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint32(2).join();
    })],
    ['payloads[0].nr', collectionWith((w) => w.tag(15, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(1n).tag(2, WireType.LengthDelimited).string('e').join())],
    ['payloads[0].parameters[0].value', collectionWith((w) => {
      w.tag(15, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(1n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint32(1);
      w.tag(9, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('k').join().join();
    })],
  ])('names the missing required field %s', (field, bytes) => {
    const err = decodeError(bytes);
    expect(err.message).toBe(`${field}: is required`);
    expect(err.context).toMatchObject({ field });
    expect(() => oracle(bytes)).toThrow(); // the generated decoder refuses it too
  });

  it.each([
    ['a string field sent as a varint', collectionWith((w) => w.tag(7, WireType.Varint).int32(1)), /^malformed protobuf body: device_make has wire type 0, expected 2$/],
    ['env sent as a string', collectionWith((w) => w.tag(6, WireType.LengthDelimited).string('BETA'), [6]), /^malformed protobuf body: env has wire type 2, expected 0$/],
    ['a payload longer than the body', Buffer.concat([collectionWith(() => {}), Buffer.from([0x7a, 0x40, 0x08, 0x01])]), /^malformed protobuf body: payloads\[0\] runs past the end/],
    ['a truncated string', Buffer.from([0x0a, 0x05, 0x61]), /^malformed protobuf body: /],
    ['an undefined wire type', Buffer.from([0x0e, 0x00]), /^malformed protobuf body: /],
    ['a truncated varint', Buffer.from([0x08, 0xff]), /^malformed protobuf body: /],
    ['env outside the enum', collectionWith((w) => w.tag(6, WireType.Varint).int32(12), [6]), /^env: must be between 0 and 11$/],
    ['a negative env', collectionWith((w) => w.tag(6, WireType.Varint).int32(-1), [6]), /^env: must be between 0 and 11$/],
  ])('refuses %s with a reason', (_name, bytes, reason) => {
    expect(decodeError(bytes).message).toMatch(reason);
  });
});

/** One payload (at 1, event `e`, nr `nr`) whose fields `extra` may add to or replace. */
function payloadWith(extra: (w: BinaryWriter) => void, nr: (w: BinaryWriter) => void = (w) => w.tag(3, WireType.Varint).uint32(1)): Uint8Array {
  return collectionWith((w) => {
    w.tag(15, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(1n).tag(2, WireType.LengthDelimited).string('e');
    nr(w);
    extra(w);
    w.join();
  });
}

const parameter = (name: Uint8Array, value: Uint8Array) => (w: BinaryWriter) =>
  w.tag(9, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).bytes(name).tag(2, WireType.LengthDelimited).bytes(value).join();
const utf8 = (text: string) => Buffer.from(text);

describe('decodeCollectionProtobuf with text no warehouse can store', () => {
  it.each([
    ['a NUL in a parameter name', payloadWith(parameter(Uint8Array.from([0x6e, 0x00, 0x6d]), utf8('v'))), (c: Collection) => c.payloads[0]!.parameters[0]!.name, 'n\uFFFDm', 'payloads[0].parameters[0].name'],
    ['a NUL in a parameter value', payloadWith(parameter(utf8('k'), utf8('\u0000'))), (c: Collection) => c.payloads[0]!.parameters[0]!.value, '\uFFFD', 'payloads[0].parameters[0].value'],
    ['invalid UTF-8 in a parameter value', payloadWith(parameter(utf8('k'), Uint8Array.from([0x61, 0xff, 0x62]))), (c: Collection) => c.payloads[0]!.parameters[0]!.value, 'a\uFFFDb', 'payloads[0].parameters[0].value'],
    ['an encoded lone surrogate in a parameter value', payloadWith(parameter(utf8('k'), Uint8Array.from([0xed, 0xa0, 0x80, 0x78]))), (c: Collection) => c.payloads[0]!.parameters[0]!.value, '\uFFFD\uFFFD\uFFFDx', 'payloads[0].parameters[0].value'],
    ['invalid UTF-8 in an optional payload field', payloadWith((w) => w.tag(8, WireType.LengthDelimited).bytes(Uint8Array.from([0xc3]))), (c: Collection) => c.payloads[0]!.country, '\uFFFD', 'payloads[0].country'],
    ['a NUL in a collection field', collectionWith((w) => w.tag(9, WireType.LengthDelimited).bytes(Uint8Array.from([0x69, 0x4f, 0x53, 0x00]))), (c: Collection) => c.system, 'iOS\uFFFD', 'system'],
  ])('replaces %s with U+FFFD and counts it', (_label, bytes, read, expected, field) => {
    const replaced = new Replacements();
    expect(read(decodeCollectionProtobuf(bytes, replaced))).toBe(expected);
    expect(replaced.count).toBe(1);
    expect(replaced.fields).toEqual([field]);
  });

  it('replaces as the JSON decoder does, so both give the same raw line', () => {
    const bytes = payloadWith(parameter(utf8('n\u0000m'), utf8('\u0000 ok 😀')));
    const json = { device_id: 'f1', client_id: 'f2', session: 'f3', system_version: 'f4', product_version: 'f5', env: 3,
      payloads: [{ at: 1, event: 'e', nr: 1, parameters: [{ name: 'n\u0000m', value: '\u0000 ok 😀' }] }] };
    const [fromProtobuf, fromJson] = [new Replacements(), new Replacements()];
    expect(JSON.stringify(decodeCollectionProtobuf(bytes, fromProtobuf))).toBe(JSON.stringify(decodeCollectionJson(json, fromJson)));
    expect([fromProtobuf.count, fromProtobuf.fields]).toEqual([fromJson.count, fromJson.fields]);
  });
});

describe('decodeCollectionProtobuf with 32-bit fields out of range', () => {
  const nr = (write: (w: BinaryWriter) => void) => payloadWith(() => {}, (w) => write(w.tag(3, WireType.Varint)));
  it.each([
    ['nr 2^32 (would wrap to 0)', nr((w) => w.uint64(2n ** 32n)), /^payloads\[0\]\.nr: must be between 0 and 4294967295$/],
    ['nr -1 (would become 4294967295)', nr((w) => w.int32(-1)), /^payloads\[0\]\.nr: must be between 0 and 4294967295$/],
    ['nr 2^35', nr((w) => w.uint64(2n ** 35n)), /^payloads\[0\]\.nr: must be between 0 and 4294967295$/],
    ['nr 2^63', nr((w) => w.uint64(2n ** 63n)), /^payloads\[0\]\.nr: must be between 0 and 4294967295$/],
    ['env 2^32 + 3 (would become 3)', collectionWith((w) => w.tag(6, WireType.Varint).uint64(2n ** 32n + 3n), [6]), /^env: must be between 0 and 11$/],
  ])('refuses %s', (_label, bytes, reason) => {
    expect(decodeError(bytes).message).toMatch(reason);
  });

  it.each([
    ['nr 2^32 - 1', nr((w) => w.uint32(2 ** 32 - 1)), 4294967295],
    ['nr 2^28 (five bytes)', nr((w) => w.uint32(2 ** 28)), 2 ** 28],
    ['nr 1 padded to six bytes', nr((w) => w.raw(Uint8Array.from([0x81, 0x80, 0x80, 0x80, 0x80, 0x00]))), 1],
  ])('accepts %s', (_label, bytes, expected) => {
    expect(decodeCollectionProtobuf(bytes).payloads[0]!.nr).toBe(expected);
  });

  it('reads at of 2^64 - 1 as it is (the collector refuses it as beyond year 9999)', () => {
    const bytes = collectionWith((w) => w.tag(15, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(-1n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint32(1).join());
    expect(decodeCollectionProtobuf(bytes).payloads[0]!.at).toBe('18446744073709551615');
  });
});
