import protobuf from 'protobufjs';
import { InvalidInputError } from '../errors.js';
import { collectionOptionalFields, collectionRequiredStrings, environments, maxUint32, payloadOptionalFields, type Collection, type Parameter, type Payload } from './collection.js';
import { Replacements, type FieldPath } from './storable-text.js';

/** Hamustro's current wire schema (`proto/payload.proto`, PR #14), proto2. */
export const payloadProto = `
syntax = "proto2";
package payload;
option objc_class_prefix = "HAM";

enum Environment {
  PRODUCTION = 0; GENERAL_AVAILABILITY = 1; RELEASE_TO_MARKETING = 2; RELEASE_CANDIDATE = 3;
  BETA = 4; ALPHA = 5; WEEKLY = 6; NIGHTLY = 7; STAGING = 8; QUALITY_ASSURANCE = 9;
  TESTING = 10; DEVELOPMENT = 11;
}

message Parameter {
  required string name = 1;
  required string value = 2;
}

message Payload {
  required uint64 at = 1;
  required string event = 2;
  required uint32 nr = 3;
  optional string timezone = 4;
  optional string tenant_id = 5;
  optional string user_id = 6;
  optional string ip = 7;
  optional string country = 8;
  repeated Parameter parameters = 9;
}

message Collection {
  required string device_id = 1;
  required string client_id = 2;
  required string session = 3;
  required string system_version = 4;
  required string product_version = 5;
  required Environment env = 6;
  optional string device_make = 7;
  optional string device_model = 8;
  optional string system = 9;
  optional string system_language = 10;
  optional string browser = 11;
  optional string browser_version = 12;
  optional string product_git_hash = 13;
  optional string product_language = 14;
  repeated Payload payloads = 15;
}
`;

// The decoder below walks the wire with protobufjs's Reader (varints, lengths, UTF-8, skipping
// unknown fields) straight into the validated plain shape. The generated decoder plus `toObject`
// plus the JSON validator cost ~3x as much per request, in the collector's hottest path; the
// unit test keeps protobufjs's generated decoder as the oracle for this one.

const varint = 0;
const lengthDelimited = 2;

function fail(field: string, problem: string): never {
  throw new InvalidInputError(`${field}: ${problem}`, { field });
}

type Reader = protobuf.Reader;

function wrongWireType(actual: number, expected: number, field: string): never {
  throw new InvalidInputError(`malformed protobuf body: ${field} has wire type ${actual}, expected ${expected}`, { field });
}

const top: FieldPath = () => '';

/**
 * A string field as storable text: read from the bytes here rather than by `reader.string()` so
 * that invalid UTF-8 is seen, replaced and counted by the one rule (`storable-text.ts`).
 */
function text(reader: Reader, replaced: Replacements, path: FieldPath, name: string): string {
  const length = reader.uint32();
  const start = reader.pos;
  const end = start + length;
  if (end > reader.len) throw new InvalidInputError(`malformed protobuf body: ${fieldName(path, name)} runs past the end of the body`, { field: fieldName(path, name) });
  reader.pos = end;
  return replaced.utf8(reader.buf as Buffer, start, end, path, name);
}

function fieldName(path: FieldPath, name: string): string {
  return path() === '' ? name : `${path()}.${name}`;
}

/**
 * A varint that must fit 32 bits and be at most `max` (uint32 `nr`, the `env` enum).
 * `reader.uint32()` keeps the low 32 bits of a longer one: 2^32 would become 0, -1 (ten bytes)
 * 4294967295.
 */
function varint32(reader: Reader, path: FieldPath, name: string, max: number): number {
  const start = reader.pos;
  const value = reader.uint32();
  let fits = value <= max;
  if (fits && reader.pos - start >= 5) {
    // The fifth byte carries bits 28–34, any further byte bits 35 and up: all above 31 must be 0.
    const buf = reader.buf;
    fits = (buf[start + 4]! & 0x70) === 0;
    for (let i = start + 5; i < reader.pos; i++) if ((buf[i]! & 0x7f) !== 0) fits = false;
  }
  if (!fits) fail(fieldName(path, name), `must be between 0 and ${max}`);
  return value;
}

/** uint64 as a decimal string; every bit kept. */
function uint64String(reader: Reader): string {
  const long = reader.uint64();
  const low = long.low >>> 0;
  const high = long.high >>> 0;
  // Below 2^53 the double is exact and far cheaper than Long's base-10 loop.
  return high < 0x200000 ? String(high * 0x100000000 + low) : ((BigInt(high) << 32n) | BigInt(low)).toString();
}

// Field numbers of the optional strings, in proto order.
const payloadStrings: Record<number, 'timezone' | 'tenant_id' | 'user_id' | 'ip' | 'country'> = { 4: 'timezone', 5: 'tenant_id', 6: 'user_id', 7: 'ip', 8: 'country' };
const collectionStrings: Record<number, Exclude<keyof Collection, 'env' | 'payloads'>> = {
  1: 'device_id', 2: 'client_id', 3: 'session', 4: 'system_version', 5: 'product_version', 7: 'device_make', 8: 'device_model',
  9: 'system', 10: 'system_language', 11: 'browser', 12: 'browser_version', 13: 'product_git_hash', 14: 'product_language',
};

// Paths are built only for an error message: most bodies are valid, and the strings cost.
function decodeParameter(reader: Reader, end: number, payload: number, index: number, replaced: Replacements): Parameter {
  const path = () => `payloads[${payload}].parameters[${index}]`;
  let name: string | undefined;
  let value: string | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 1) {
      if ((tag & 7) !== lengthDelimited) wrongWireType(tag & 7, lengthDelimited, `${path()}.name`);
      name = text(reader, replaced, path, 'name');
    } else if (field === 2) {
      if ((tag & 7) !== lengthDelimited) wrongWireType(tag & 7, lengthDelimited, `${path()}.value`);
      value = text(reader, replaced, path, 'value');
    } else reader.skipType(tag & 7, 0, field);
  }
  if (name === undefined) fail(`${path()}.name`, 'is required');
  if (value === undefined) fail(`${path()}.value`, 'is required');
  return { name, value };
}

function decodePayload(reader: Reader, end: number, index: number, replaced: Replacements): Payload {
  const path = () => `payloads[${index}]`;
  let at: string | undefined;
  let event: string | undefined;
  let nr: number | undefined;
  const optional: Partial<Record<'timezone' | 'tenant_id' | 'user_id' | 'ip' | 'country', string>> = {};
  const parameters: Parameter[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    switch (field) {
      case 1:
        if (wireType !== varint) wrongWireType(wireType, varint, `${path()}.at`);
        at = uint64String(reader);
        break;
      case 2:
        if (wireType !== lengthDelimited) wrongWireType(wireType, lengthDelimited, `${path()}.event`);
        event = text(reader, replaced, path, 'event');
        break;
      case 3:
        if (wireType !== varint) wrongWireType(wireType, varint, `${path()}.nr`);
        nr = varint32(reader, path, 'nr', maxUint32);
        break;
      case 9: {
        if (wireType !== lengthDelimited) wrongWireType(wireType, lengthDelimited, `${path()}.parameters[${parameters.length}]`);
        const length = reader.uint32();
        const end = checkedEnd(reader, length, () => `${path()}.parameters[${parameters.length}]`);
        parameters.push(decodeParameter(reader, end, index, parameters.length, replaced));
        break;
      }
      default: {
        const name = payloadStrings[field];
        if (name === undefined) {
          reader.skipType(wireType, 0, field);
          break;
        }
        if (wireType !== lengthDelimited) wrongWireType(wireType, lengthDelimited, `${path()}.${name}`);
        optional[name] = text(reader, replaced, path, name);
      }
    }
  }
  if (at === undefined) fail(`${path()}.at`, 'is required');
  if (event === undefined) fail(`${path()}.event`, 'is required');
  if (nr === undefined) fail(`${path()}.nr`, 'is required');
  // Same key order as the JSON decoder, so both give byte-identical raw lines.
  const payload: Payload = { at, event, nr, parameters };
  for (const key of payloadOptionalFields) if (optional[key] !== undefined) payload[key] = optional[key];
  return payload;
}

function checkedEnd(reader: Reader, length: number, path: () => string): number {
  const end = reader.pos + length;
  if (end > reader.len) throw new InvalidInputError(`malformed protobuf body: ${path()} runs past the end of the body`, { field: path() });
  return end;
}

/**
 * Decodes a protobuf `Collection` (proto2: missing required fields are refused, unknown fields
 * skipped) into the same validated shape, with the same key order, as the JSON decoder. Throws
 * `InvalidInputError` naming the field or the problem. Text no warehouse can store (NUL, invalid
 * UTF-8) is made storable and counted in `replaced`, as the JSON decoder does.
 */
export function decodeCollectionProtobuf(bytes: Uint8Array, replaced = new Replacements()): Collection {
  // A Buffer, so that strings are sliced from it (a view, not a copy).
  const reader = protobuf.Reader.create(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const strings: Partial<Record<Exclude<keyof Collection, 'env' | 'payloads'>, string>> = {};
  let env: number | undefined;
  const payloads: Payload[] = [];
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === 15) {
        if (wireType !== lengthDelimited) wrongWireType(wireType, lengthDelimited, `payloads[${payloads.length}]`);
        const length = reader.uint32();
        const end = checkedEnd(reader, length, () => `payloads[${payloads.length}]`);
        payloads.push(decodePayload(reader, end, payloads.length, replaced));
      } else if (field === 6) {
        if (wireType !== varint) wrongWireType(wireType, varint, 'env');
        env = varint32(reader, top, 'env', environments.length - 1);
      } else {
        const name = collectionStrings[field];
        if (name === undefined) reader.skipType(wireType, 0, field);
        else {
          if (wireType !== lengthDelimited) wrongWireType(wireType, lengthDelimited, name);
          strings[name] = text(reader, replaced, top, name);
        }
      }
    }
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    // The Reader's own errors: a truncated varint or string, an undefined wire type.
    throw new InvalidInputError(`malformed protobuf body: ${(err as Error).message}`);
  }
  // Same key order as the JSON decoder, so both give byte-identical raw lines.
  const collection = {} as Collection;
  for (const name of collectionRequiredStrings) collection[name] = strings[name] ?? fail(name, 'is required');
  collection.env = env ?? fail('env', 'is required');
  for (const name of collectionOptionalFields) if (strings[name] !== undefined) collection[name] = strings[name];
  collection.payloads = payloads;
  return collection;
}
