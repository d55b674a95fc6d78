import { hash } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { Collection } from '../model/collection.js';

type SessionFields = Pick<Collection, 'device_id' | 'client_id' | 'system_version' | 'product_version' | 'env'>;

/** Hamustro's session id: `md5hex(device_id:client_id:system_version:product_version:env)`, env as its number. */
export function sessionId(c: SessionFields): string {
  return hash('md5', `${c.device_id}:${c.client_id}:${c.system_version}:${c.product_version}:${c.env}`, 'hex');
}

/** The session id over the fields as sent, where the decoder replaced characters in some (`Replacements.original`). */
function sessionIdAsSent(c: SessionFields, sent: ReadonlyMap<string, string | Uint8Array>): string {
  const part = (name: 'device_id' | 'client_id' | 'system_version' | 'product_version') => Buffer.from(sent.get(name) ?? c[name]);
  const colon = Buffer.from(':');
  return hash('md5', Buffer.concat([part('device_id'), colon, part('client_id'), colon, part('system_version'), colon, part('product_version'), colon, Buffer.from(String(c.env))]), 'hex');
}

/**
 * Refuses a collection whose `session` is not the one its fields give. The client computed it
 * over the fields as it sent them, so `sent` (fields whose unstorable characters were replaced, as
 * sent) is used when the fields as stored do not give it.
 */
export function assertSession(c: Collection, sent?: ReadonlyMap<string, string | Uint8Array>): void {
  if (c.session === sessionId(c) || (sent !== undefined && c.session === sessionIdAsSent(c, sent))) return;
  throw new InvalidInputError('session: does not match md5(device_id:client_id:system_version:product_version:env)', { field: 'session' });
}
