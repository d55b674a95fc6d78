import { ParseError } from '../errors.js';
import { environments } from './collection.js';
import type { RawRecord } from './raw-record.js';
import { formatEpochSeconds, formatUtcTimestamp } from './timestamps.js';

/** One CSV row: values in table column order; `null` is SQL NULL. */
export type RowValues = (string | null)[];

/** Builds the `parameters` JSON object: duplicate names collapse, the last one wins (as Hamustro). */
export function parametersJson(parameters: readonly { name: string; value: string }[]): string {
  const object: Record<string, string> = {};
  for (const p of parameters) object[p.name] = p.value;
  return JSON.stringify(object);
}

/**
 * Turns one raw record into `events` rows, one per payload, in `eventTable` column order.
 * Throws `ParseError` when a value cannot be stored (a time outside year 1–9999).
 */
export function flattenRawRecord(record: RawRecord, sourceKey: string): RowValues[] {
  const c = record.collection;
  const receivedAt = new Date(record.received_at);
  if (Number.isNaN(receivedAt.getTime())) throw new ParseError('received_at is not a valid time', { field: 'received_at' });
  const received = formatUtcTimestamp(receivedAt);
  const env = environments[c.env];
  if (env === undefined) throw new ParseError(`env ${c.env} is not a known environment`, { field: 'env' });
  return c.payloads.map((p, i) => {
    const at = formatEpochSeconds(p.at);
    if (at === null) throw new ParseError(`payloads[${i}].at ${p.at} is beyond year 9999`, { field: `payloads[${i}].at` });
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
      sourceKey,
    ];
  });
}
