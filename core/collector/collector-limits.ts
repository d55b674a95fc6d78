import { gunzipSync } from 'node:zlib';
import { InvalidInputError } from '../errors.js';
import type { Collection } from '../model/collection.js';

/** Input limits; each rejection names the setting that bounds it. */
export interface CollectorLimits {
  /** FERRY_MAX_BODY_BYTES: body bytes as sent. */
  maxBodyBytes: number;
  /** FERRY_MAX_DECOMPRESSED_BYTES: body bytes after gzip decoding. */
  maxDecompressedBytes: number;
  /** FERRY_MAX_PAYLOADS: payloads per collection. */
  maxPayloads: number;
  /** FERRY_MAX_PARAMETERS: parameters per payload. */
  maxParameters: number;
  /** FERRY_MAX_FIELD_BYTES: bytes of any one string field. */
  maxFieldBytes: number;
}

function tooLarge(what: string, setting: string, limit: number): never {
  throw new InvalidInputError(`${what} exceeds ${setting}=${limit}`, { limit: setting }, 413);
}

/**
 * Decodes the body's `Content-Encoding` (identity or gzip). Gzip output is capped while it is
 * inflated, so a decompression bomb costs at most the cap, never the bomb's full size.
 */
export function decodeBody(body: Uint8Array, contentEncoding: string | undefined, limits: CollectorLimits): Uint8Array {
  if (body.byteLength > limits.maxBodyBytes) tooLarge(`body of ${body.byteLength} bytes`, 'FERRY_MAX_BODY_BYTES', limits.maxBodyBytes);
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new InvalidInputError(`unsupported Content-Encoding "${encoding}": use gzip or none`, { field: 'content-encoding' }, 415);
  }
  try {
    return gunzipSync(body, { maxOutputLength: limits.maxDecompressedBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') tooLarge('decompressed body', 'FERRY_MAX_DECOMPRESSED_BYTES', limits.maxDecompressedBytes);
    throw new InvalidInputError(`malformed gzip body: ${(err as Error).message}`);
  }
}

/** Checks a decoded collection against the count and length limits. */
export function assertWithinLimits(c: Collection, limits: CollectorLimits): void {
  if (c.payloads.length > limits.maxPayloads) tooLarge(`${c.payloads.length} payloads`, 'FERRY_MAX_PAYLOADS', limits.maxPayloads);
  const check = (value: string | undefined, field: string) => {
    // A UTF-8 character is at most 3 bytes per UTF-16 unit, so short strings need no byte count.
    if (value !== undefined && value.length * 3 > limits.maxFieldBytes && Buffer.byteLength(value) > limits.maxFieldBytes) {
      tooLarge(`field ${field}`, 'FERRY_MAX_FIELD_BYTES', limits.maxFieldBytes);
    }
  };
  for (const [name, value] of Object.entries(c)) if (typeof value === 'string') check(value, name);
  c.payloads.forEach((p, i) => {
    if (p.parameters.length > limits.maxParameters) tooLarge(`payloads[${i}] has ${p.parameters.length} parameters, which`, 'FERRY_MAX_PARAMETERS', limits.maxParameters);
    for (const [name, value] of Object.entries(p)) if (typeof value === 'string') check(value, `payloads[${i}].${name}`);
    p.parameters.forEach((q, j) => {
      check(q.name, `payloads[${i}].parameters[${j}].name`);
      check(q.value, `payloads[${i}].parameters[${j}].value`);
    });
  });
}
