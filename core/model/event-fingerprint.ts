import { createHash } from 'node:crypto';
import type { Collection, Payload } from './collection.js';

/**
 * The `events` columns that are what the client sent, in the order they are hashed; `parameters`
 * comes after them. Left out: what the server adds (`received_at`, `sent_at`, `clock_skew_s`,
 * `at_corrected`, `source_key`) and `ip`, which holds the payload's ip or else the address the
 * server saw: the two cannot be told apart in a stored row, and a re-send from another network
 * must fingerprint the same.
 */
export const fingerprintColumns = [
  'device_id',
  'client_id',
  'session',
  'nr',
  'env',
  'system_version',
  'product_version',
  'at',
  'timezone',
  'event',
  'device_make',
  'device_model',
  'system',
  'system_language',
  'browser',
  'browser_version',
  'product_git_hash',
  'product_language',
  'user_id',
  'tenant_id',
  'country',
] as const;

/** Columns a stored row's fingerprint is computed from (`storedEventFingerprint`). */
export const fingerprintReads: readonly string[] = [...fingerprintColumns, 'parameters'];

/**
 * Hex of the first 16 bytes of SHA-256 over one canonical text: the content values as a JSON
 * array (null for absent), then the parameters as `[name, value]` pairs sorted by name — the
 * parameters object as stored (duplicate names collapsed, the last one kept), whatever order
 * the client sent or the warehouse keeps them in.
 */
function digest(content: readonly (string | null)[], parameters: Iterable<[string, unknown]>): string {
  const pairs = [...parameters].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify([...content, pairs]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The fingerprint of one payload as the client sent it, with its collection's fields: equal for
 * an identical re-send, different when any field or parameter differs. `env` is the environment's
 * name and `at` the formatted time, as the row stores them.
 */
export function eventFingerprint(c: Collection, p: Payload, env: string, at: string): string {
  const parameters = new Map<string, string>();
  for (const { name, value } of p.parameters) parameters.set(name, value);
  return digest(
    [
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
      p.country ?? null,
    ],
    parameters,
  );
}

/**
 * The same fingerprint from a stored `events` row, each of `fingerprintReads` as text (`at` as
 * `YYYY-MM-DD HH:MM:SS`, `parameters` as JSON): what fills the column for rows loaded before it
 * existed, so a later re-send of such an event is recognised as one.
 */
export function storedEventFingerprint(row: Readonly<Record<string, string | null>>): string {
  const parameters = JSON.parse(row.parameters ?? '{}') as Record<string, unknown>;
  return digest(
    fingerprintColumns.map((c) => row[c] ?? null),
    Object.entries(parameters),
  );
}
