import { hash } from 'node:crypto';
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
  return digestText(JSON.stringify([...content, sortedPairs(parameters)]));
}

function digestText(canonical: string): string {
  return hash('sha256', canonical, 'hex').slice(0, 32);
}

function sortedPairs(parameters: Iterable<[string, unknown]>): [string, unknown][] {
  return [...parameters].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A value of the canonical array as `JSON.stringify` writes it there. */
const json = (value: string | undefined): string => (value === undefined ? 'null' : JSON.stringify(value));

/**
 * The fingerprint of one payload as the client sent it, with its collection's fields: equal for
 * an identical re-send, different when any field or parameter differs. `env` is the environment's
 * name and `at` the formatted time, as the row stores them.
 */
export function eventFingerprint(c: Collection, p: Payload, env: string, at: string): string {
  return collectionFingerprints(c)(p, env, at);
}

/**
 * `eventFingerprint` for the payloads of one collection: the collection's part of the canonical
 * text is encoded once, and the text is written out piece by piece rather than as an array for
 * `JSON.stringify` (the same text: the stored-row test holds the two ways equal).
 */
export function collectionFingerprints(c: Collection): (p: Payload, env: string, at: string) => string {
  const head = `[${json(c.device_id)},${json(c.client_id)},${json(c.session)},`;
  const versions = `,${json(c.system_version)},${json(c.product_version)},`;
  const device = `,${json(c.device_make)},${json(c.device_model)},${json(c.system)},${json(c.system_language)},${json(c.browser)},${json(c.browser_version)},${json(c.product_git_hash)},${json(c.product_language)},`;
  return (p, env, at) => {
    const params = p.parameters;
    let pairs: string;
    if (params.length === 0) pairs = '[]';
    else if (params.length === 1) pairs = `[[${JSON.stringify(params[0]!.name)},${JSON.stringify(params[0]!.value)}]]`;
    else {
      const byName = new Map<string, string>();
      for (const { name, value } of params) byName.set(name, value);
      pairs = JSON.stringify(sortedPairs(byName));
    }
    return digestText(
      `${head}${JSON.stringify(String(p.nr))},${JSON.stringify(env)}${versions}${JSON.stringify(at)},${json(p.timezone)},${JSON.stringify(p.event)}${device}${json(p.user_id)},${json(p.tenant_id)},${json(p.country)},${pairs}]`,
    );
  };
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
