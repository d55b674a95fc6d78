import { createHash } from 'node:crypto';
import { environments } from '../../core/model/collection.js';

/** One expected `ferry.events` row, computed from a posted JSON collection independently of the parser. */
export type ExpectedRow = Record<string, unknown>;

function utc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.000Z$/, '');
}

/** Rows a posted collection must become, keyed like the warehouse returns them. */
export function expectedRows(collection: Record<string, unknown>, peerIp: string): ExpectedRow[] {
  const env = typeof collection.env === 'number' ? environments[collection.env] : collection.env;
  const payloads = (collection.payloads ?? []) as Record<string, unknown>[];
  return payloads.map((p) => ({
    device_id: collection.device_id,
    client_id: collection.client_id,
    session: collection.session,
    nr: String(p.nr),
    env,
    system_version: collection.system_version,
    product_version: collection.product_version,
    at: utc(Number(p.at)),
    timezone: p.timezone ?? null,
    event: p.event,
    device_make: collection.device_make ?? null,
    device_model: collection.device_model ?? null,
    system: collection.system ?? null,
    system_language: collection.system_language ?? null,
    browser: collection.browser ?? null,
    browser_version: collection.browser_version ?? null,
    product_git_hash: collection.product_git_hash ?? null,
    product_language: collection.product_language ?? null,
    user_id: p.user_id ?? null,
    tenant_id: p.tenant_id ?? null,
    ip: p.ip ?? peerIp,
    country: p.country ?? null,
    parameters: Object.fromEntries(((p.parameters ?? []) as { name: string; value: string }[]).map((x) => [x.name, x.value])),
  }));
}

/** Hamustro's session id, to double-check fixtures are real-shaped. */
export function sessionOf(c: Record<string, unknown>): string {
  const env = typeof c.env === 'number' ? c.env : environments.indexOf(c.env as (typeof environments)[number]);
  return createHash('md5').update(`${c.device_id}:${c.client_id}:${c.system_version}:${c.product_version}:${env}`).digest('hex');
}
