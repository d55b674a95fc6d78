import { ParseError } from '../errors.js';
import { environments, type Payload } from './collection.js';
import { collectionFingerprints } from './event-fingerprint.js';
import type { RawRecord } from './raw-record.js';
import { formatEpochSeconds, formatUtcTimestamp, isStorableEpochSeconds } from './timestamps.js';

/** One CSV row: values in table column order; `null` is SQL NULL. */
export type RowValues = (string | null)[];

/** Default skew (seconds) above which `at_corrected` differs from `at`. */
export const defaultClockSkewThresholdS = 300;

/** Builds the `parameters` JSON object: duplicate names collapse, the last one wins (as Hamustro). */
export function parametersJson(parameters: readonly { name: string; value: string }[]): string {
  const object: Record<string, string> = {};
  for (const p of parameters) {
    // Assigning `__proto__` would set the prototype and lose the parameter. (A null-prototype
    // object for all would do too, but V8 makes those dictionaries: 2 % slower parsing.)
    if (p.name === '__proto__') Object.defineProperty(object, p.name, { value: p.value, enumerable: true, writable: true, configurable: true });
    else object[p.name] = p.value;
  }
  return JSON.stringify(object);
}

function parseTime(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ParseError(`${field} is not a valid time`, { field });
  return date;
}

/** A `sent_at` the warehouse can store (years 1–9999), else null: the events load without skew correction. */
function storableSentAt(date: Date | null): Date | null {
  if (date === null) return null;
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999 ? date : null;
}

/**
 * The payloads whose `at` the warehouse can store. Each other one goes to `rejectPayload` with its
 * reason, so its siblings still load; without `rejectPayload`, or when none is left, the first
 * reason is thrown and the record is rejected whole.
 */
function storablePayloads(payloads: readonly Payload[], rejectPayload: ((reason: string) => void) | undefined): readonly Payload[] {
  let kept: Payload[] | undefined;
  const errors: ParseError[] = [];
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i]!;
    if (isStorableEpochSeconds(p.at)) kept?.push(p);
    else {
      kept ??= payloads.slice(0, i);
      errors.push(new ParseError(`payloads[${i}].at ${p.at} is beyond year 9999`, { field: `payloads[${i}].at` }));
    }
  }
  if (kept === undefined) return payloads;
  if (rejectPayload === undefined || kept.length === 0) throw errors[0]!;
  for (const err of errors) rejectPayload(err.message);
  return kept;
}

/**
 * `received_at − sent_at` in whole seconds: how far the client's clock is behind the server's
 * (network delay included, which is why small skews are left alone). Null without `sent_at`.
 */
export function clockSkewSeconds(receivedAt: Date, sentAt: Date | null): number | null {
  return sentAt === null ? null : Math.round((receivedAt.getTime() - sentAt.getTime()) / 1000);
}

/**
 * Turns one raw record into `events` rows, one per payload, in `eventTable` column order.
 * `at` is kept as the client sent it; `at_corrected` is `at + skew` when the skew's magnitude is
 * above `skewThresholdS` (but never later than `received_at` + `skewThresholdS`), else `at`.
 * A payload whose `at` is beyond year 9999 is passed to `rejectPayload` and left out; without it,
 * or for a record that cannot be read (`received_at`, `env`), throws `ParseError`.
 */
export function flattenRawRecord(record: RawRecord, sourceKey: string, skewThresholdS = defaultClockSkewThresholdS, rejectPayload?: (reason: string) => void): RowValues[] {
  const c = record.collection;
  const receivedAt = parseTime(record.received_at, 'received_at');
  const sentAt = storableSentAt(record.sent_at === null ? null : parseTime(record.sent_at, 'sent_at'));
  const received = formatUtcTimestamp(receivedAt);
  const sent = sentAt === null ? null : formatUtcTimestamp(sentAt);
  const skew = clockSkewSeconds(receivedAt, sentAt);
  const correction = skew !== null && Math.abs(skew) > skewThresholdS ? BigInt(skew) : 0n;
  // A correction landing after this means `at` and X-Hamustro-Time come from different clocks
  // (a client sending a fixed test time): the client's `at` is kept. So is one below 1970.
  const latest = correction === 0n ? 0n : BigInt(Math.floor(receivedAt.getTime() / 1000) + skewThresholdS);
  const env = environments[c.env];
  if (env === undefined) throw new ParseError(`env ${c.env} is not a known environment`, { field: 'env' });
  const fingerprint = collectionFingerprints(c);
  return storablePayloads(c.payloads, rejectPayload).map((p) => {
    const at = formatEpochSeconds(p.at)!;
    let corrected = at;
    if (correction !== 0n) {
      const seconds = BigInt(p.at) + correction;
      corrected = seconds >= 0n && seconds <= latest ? (formatEpochSeconds(String(seconds)) ?? at) : at;
    }
    return [
      c.device_id,
      c.client_id,
      c.session,
      String(p.nr),
      env,
      c.system_version,
      c.product_version,
      at,
      p.timezone ?? null,
      p.event,
      c.device_make ?? null,
      c.device_model ?? null,
      c.system ?? null,
      c.system_language ?? null,
      c.browser ?? null,
      c.browser_version ?? null,
      c.product_git_hash ?? null,
      c.product_language ?? null,
      p.user_id ?? null,
      p.tenant_id ?? null,
      p.ip ?? record.ip,
      p.country ?? null,
      parametersJson(p.parameters),
      received,
      sent,
      skew === null ? null : String(skew),
      corrected,
      sourceKey,
      fingerprint(p, env, at),
    ];
  });
}
