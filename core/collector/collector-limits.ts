import { gunzipSync } from 'node:zlib';
import { InvalidInputError } from '../errors.js';
import { collectionOptionalFields, collectionRequiredStrings, payloadOptionalFields, type Collection } from '../model/collection.js';

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
  /**
   * FERRY_MAX_LINE_BYTES: longest line the parser reads, so the longest raw line (the collection
   * as JSON) the collector may store; `defaultMaxLineBytes` when unset.
   */
  maxLineBytes?: number;
}

/** The parser's default FERRY_MAX_LINE_BYTES. */
export const defaultMaxLineBytes = 1024 * 1024;

/**
 * Refuses a raw line the parser would reject as too long. A body within the size limits can still
 * make one: gzip, and protobuf strings that JSON escapes (a control character takes six bytes).
 */
export function assertLineFits(lineBytes: number, limits: CollectorLimits): void {
  const max = limits.maxLineBytes ?? defaultMaxLineBytes;
  if (lineBytes > max) tooLarge(`collection stored as a JSON line of ${lineBytes} bytes`, 'FERRY_MAX_LINE_BYTES', max);
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
  // Plain loops over known fields: this runs for every request, and Object.entries allocates per object.
  const { maxFieldBytes } = limits;
  if (c.payloads.length > limits.maxPayloads) tooLarge(`${c.payloads.length} payloads`, 'FERRY_MAX_PAYLOADS', limits.maxPayloads);
  for (const name of collectionStringFields) if (exceeds(c[name], maxFieldBytes)) tooLarge(`field ${name}`, 'FERRY_MAX_FIELD_BYTES', maxFieldBytes);
  for (let i = 0; i < c.payloads.length; i++) {
    const p = c.payloads[i]!;
    if (p.parameters.length > limits.maxParameters) tooLarge(`payloads[${i}] has ${p.parameters.length} parameters, which`, 'FERRY_MAX_PARAMETERS', limits.maxParameters);
    if (exceeds(p.at, maxFieldBytes)) tooLarge(`field payloads[${i}].at`, 'FERRY_MAX_FIELD_BYTES', maxFieldBytes);
    if (exceeds(p.event, maxFieldBytes)) tooLarge(`field payloads[${i}].event`, 'FERRY_MAX_FIELD_BYTES', maxFieldBytes);
    for (const name of payloadOptionalFields) if (exceeds(p[name], maxFieldBytes)) tooLarge(`field payloads[${i}].${name}`, 'FERRY_MAX_FIELD_BYTES', maxFieldBytes);
    for (let j = 0; j < p.parameters.length; j++) {
      const q = p.parameters[j]!;
      if (exceeds(q.name, maxFieldBytes)) tooLarge(`field payloads[${i}].parameters[${j}].name`, 'FERRY_MAX_FIELD_BYTES', maxFieldBytes);
      if (exceeds(q.value, maxFieldBytes)) tooLarge(`field payloads[${i}].parameters[${j}].value`, 'FERRY_MAX_FIELD_BYTES', maxFieldBytes);
    }
  }
}

const collectionStringFields = [...collectionRequiredStrings, ...collectionOptionalFields] as const;

// A UTF-8 character is at most 3 bytes per UTF-16 unit, so short strings need no byte count.
function exceeds(value: string | undefined, maxBytes: number): boolean {
  return value !== undefined && value.length * 3 > maxBytes && Buffer.byteLength(value) > maxBytes;
}
