import { hash } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { Collection } from '../model/collection.js';

/** Hamustro's session id: `md5hex(device_id:client_id:system_version:product_version:env)`, env as its number. */
export function sessionId(c: Pick<Collection, 'device_id' | 'client_id' | 'system_version' | 'product_version' | 'env'>): string {
  return hash('md5', `${c.device_id}:${c.client_id}:${c.system_version}:${c.product_version}:${c.env}`, 'hex');
}

/** Refuses a collection whose `session` is not the one its fields give. */
export function assertSession(c: Collection): void {
  if (c.session !== sessionId(c)) throw new InvalidInputError('session: does not match md5(device_id:client_id:system_version:product_version:env)', { field: 'session' });
}
