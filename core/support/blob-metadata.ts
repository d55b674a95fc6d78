import { InvalidInputError } from '../errors.js';
import type { BlobMetadata } from '../ports/blob-store.js';

const namePattern = /^[a-z][a-z0-9_]{0,63}$/;
const valuePattern = /^[\x20-\x7e]*$/;

/** Throws when metadata would not survive S3 and Azure unchanged (see `BlobMetadata`). */
export function assertPortableMetadata(metadata: BlobMetadata): void {
  for (const [name, value] of Object.entries(metadata)) {
    if (!namePattern.test(name)) throw new InvalidInputError(`metadata name "${name}" must match ${namePattern}`, { field: name });
    if (!valuePattern.test(value)) throw new InvalidInputError(`metadata "${name}" must be printable ASCII; percent-encode it`, { field: name });
  }
}

/** Throws when a key is not one every store accepts the same way. */
export function assertValidKey(key: string): void {
  if (key.length === 0 || Buffer.byteLength(key) > 1024) throw new InvalidInputError('object key must be 1–1024 bytes', { key });
  if (key.startsWith('/') || key.endsWith('/') || key.includes('//')) throw new InvalidInputError('object key must not start or end with "/" or contain "//"', { key });
  for (const segment of key.split('/')) {
    if (segment === '.' || segment === '..' || segment.startsWith('.ferry')) throw new InvalidInputError(`object key segment "${segment}" is reserved`, { key });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(key)) throw new InvalidInputError('object key must not contain control characters', { key });
}

/**
 * Compares keys in UTF-8 byte order, the order S3 and Azure list in. That is UTF-16 code unit
 * order but for characters above U+FFFF (surrogates), which sort after U+E000–U+FFFF in UTF-8;
 * compared in place, without encoding both keys for every comparison (listings sort with it).
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const xSurrogate = x <= 0xdfff;
      if (xSurrogate !== y <= 0xdfff) return xSurrogate ? 1 : -1;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
