import { InvalidInputError } from '../errors.js';
import {
  type Collection,
  type Parameter,
  type Payload,
  collectionOptionalFields,
  collectionRequiredStrings,
  environments,
  maxUint32,
  maxUint64,
  payloadOptionalFields,
} from './collection.js';
import { Replacements } from './storable-text.js';

type Json = Record<string, unknown>;

/**
 * Where a value sits (`payloads[3].parameters[0]`), made only for an error message: most
 * collections are valid, so every field's path string built up front would be wasted work.
 */
type Path = () => string;

const top: Path = () => '';

function at(path: Path, name: string): string {
  const parent = path();
  return parent === '' ? name : `${parent}.${name}`;
}

function fail(field: string, problem: string): never {
  throw new InvalidInputError(`${field}: ${problem}`, { field });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(obj: Json, name: string, path: Path, replaced: Replacements): string {
  const value = obj[name];
  if (value === undefined || value === null) fail(at(path, name), 'is required');
  if (typeof value !== 'string') fail(at(path, name), `must be a string, got ${typeof value}`);
  return replaced.text(value, path, name);
}

function optionalString(obj: Json, name: string, path: Path, replaced: Replacements): string | undefined {
  const value = obj[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(at(path, name), `must be a string, got ${typeof value}`);
  return replaced.text(value, path, name);
}

/**
 * Reads a protobuf-JSON unsigned integer (a JSON number, or a decimal string as proto3-JSON
 * writes 64-bit values) as its canonical decimal string.
 */
function unsigned(obj: Json, name: string, path: Path, max: bigint): string {
  const value = obj[name];
  if (value === undefined || value === null) fail(at(path, name), 'is required');
  let digits: string;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) fail(at(path, name), 'must be an integer (use a string for values above 2^53)');
    digits = String(value);
  } else if (typeof value === 'string') {
    if (!/^\d{1,20}$/.test(value)) fail(at(path, name), 'must be an unsigned integer');
    digits = value;
  } else {
    fail(at(path, name), `must be an integer, got ${typeof value}`);
  }
  // Up to 15 digits without a leading zero is canonical and exact as a double: no BigInt needed
  // (every `nr`, every `at` of a real clock).
  if (digits.length <= 15 && (digits.length === 1 || digits.charCodeAt(0) !== 0x30) && digits.charCodeAt(0) !== 0x2d) {
    if (Number(digits) > max) fail(at(path, name), `must be between 0 and ${max}`);
    return digits;
  }
  const parsed = BigInt(digits);
  if (parsed < 0n || parsed > max) fail(at(path, name), `must be between 0 and ${max}`);
  return parsed.toString();
}

function environment(obj: Json): number {
  const value = obj.env;
  if (value === undefined || value === null) fail('env', 'is required');
  if (typeof value === 'string' && !/^\d+$/.test(value)) {
    const index = (environments as readonly string[]).indexOf(value);
    if (index < 0) fail('env', `unknown environment "${value}"`);
    return index;
  }
  return Number(unsigned(obj, 'env', top, BigInt(environments.length - 1)));
}

function decodeParameter(value: unknown, path: Path, replaced: Replacements): Parameter {
  if (!isObject(value)) fail(path(), 'must be an object');
  return { name: requiredString(value, 'name', path, replaced), value: requiredString(value, 'value', path, replaced) };
}

function decodePayload(value: unknown, index: number, replaced: Replacements): Payload {
  const path = () => `payloads[${index}]`;
  if (!isObject(value)) fail(path(), 'must be an object');
  const payload: Payload = {
    at: unsigned(value, 'at', path, maxUint64),
    event: requiredString(value, 'event', path, replaced),
    nr: Number(unsigned(value, 'nr', path, BigInt(maxUint32))),
    parameters: [],
  };
  for (const name of payloadOptionalFields) {
    const field = optionalString(value, name, path, replaced);
    if (field !== undefined) payload[name] = field;
  }
  const parameters = value.parameters;
  if (parameters !== undefined && parameters !== null) {
    if (!Array.isArray(parameters)) fail(at(path, 'parameters'), 'must be an array');
    payload.parameters = parameters.map((p, i) => decodeParameter(p, () => `${path()}.parameters[${i}]`, replaced));
  }
  return payload;
}

/**
 * Decodes and validates a `Collection` in protobuf-JSON form (proto field names; `env` by name or
 * number; 64-bit `at` as number or decimal string). Throws `InvalidInputError` naming the field.
 * Unknown fields are ignored, as protobuf parsers do, so newer clients keep working. Text no
 * warehouse can store is made storable and counted in `replaced` (`core/model/storable-text.ts`).
 */
export function decodeCollectionJson(value: unknown, replaced = new Replacements()): Collection {
  if (!isObject(value)) fail('collection', 'must be a JSON object');
  const collection = {} as Collection;
  for (const name of collectionRequiredStrings) collection[name] = requiredString(value, name, top, replaced);
  collection.env = environment(value);
  for (const name of collectionOptionalFields) {
    const field = optionalString(value, name, top, replaced);
    if (field !== undefined) collection[name] = field;
  }
  const payloads = value.payloads;
  collection.payloads = [];
  if (payloads !== undefined && payloads !== null) {
    if (!Array.isArray(payloads)) fail('payloads', 'must be an array');
    collection.payloads = payloads.map((p, i) => decodePayload(p, i, replaced));
  }
  return collection;
}
