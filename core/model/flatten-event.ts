import { ParseError } from '../errors.js';
import { environments } from './collection.js';
import type { RawRecord } from './raw-record.js';
import { formatEpochSeconds, formatUtcTimestamp, maxEpochSeconds } from './timestamps.js';

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
 * above `skewThresholdS`, else `at`. Throws `ParseError` when a value cannot be stored (a time
 * outside year 1–9999).
 */
export function flattenRawRecord(record: RawRecord, sourceKey: string, skewThresholdS = defaultClockSkewThresholdS): RowValues[] {
  const c = record.collection;
  const receivedAt = parseTime(record.received_at, 'received_at');
  const sentAt = record.sent_at === null ? null : parseTime(record.sent_at, 'sent_at');
  const received = formatUtcTimestamp(receivedAt);
  const sent = sentAt === null ? null : formatUtcTimestamp(sentAt);
  const skew = clockSkewSeconds(receivedAt, sentAt);
  const correction = skew !== null && Math.abs(skew) > skewThresholdS ? BigInt(skew) : 0n;
  const env = environments[c.env];
  if (env === undefined) throw new ParseError(`env ${c.env} is not a known environment`, { field: 'env' });
  return c.payloads.map((p, i) => {
    const at = formatEpochSeconds(p.at);
    if (at === null) throw new ParseError(`payloads[${i}].at ${p.at} is beyond year 9999`, { field: `payloads[${i}].at` });
    let corrected = at;
    if (correction !== 0n) {
      const seconds = BigInt(p.at) + correction;
      // A correction that leaves the storable range keeps the client's time rather than losing the event.
      corrected = seconds >= 0n && seconds <= maxEpochSeconds ? (formatEpochSeconds(String(seconds)) ?? at) : at;
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
    ];
  });
}
