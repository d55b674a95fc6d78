// Hamustro's wire format as Ferry's collector takes it (docs/clients.md, proto/payload.proto).
import { md5Hex } from './md5.js';
import { sha256 } from './sha256.js';

/** Hamustro's `Environment` enum; the index is the number the session hash and the wire use. */
export const environments = [
  'PRODUCTION',
  'GENERAL_AVAILABILITY',
  'RELEASE_TO_MARKETING',
  'RELEASE_CANDIDATE',
  'BETA',
  'ALPHA',
  'WEEKLY',
  'NIGHTLY',
  'STAGING',
  'QUALITY_ASSURANCE',
  'TESTING',
  'DEVELOPMENT',
] as const;

export type Environment = (typeof environments)[number];

/** One event parameter. */
export interface Parameter {
  name: string;
  value: string;
}

/** One event (`Payload`). */
export interface Payload {
  /** Epoch seconds, UTC. */
  at: number;
  event: string;
  /** Sequence number within the session, from 1. */
  nr: number;
  timezone?: string;
  tenant_id?: string;
  user_id?: string;
  ip?: string;
  country?: string;
  parameters: Parameter[];
}

/** The fields a collection carries once for all its events. */
export interface CollectionHeader {
  device_id: string;
  client_id: string;
  session: string;
  system_version: string;
  product_version: string;
  /** The environment's number. */
  env: number;
  device_make?: string;
  device_model?: string;
  system?: string;
  system_language?: string;
  browser?: string;
  browser_version?: string;
  product_git_hash?: string;
  product_language?: string;
}

/** One request body (`Collection`) in its JSON form. */
export interface Collection extends CollectionHeader {
  payloads: Payload[];
}

const utf8 = new TextEncoder();

/** The number of an environment given by name or number; throws on an unknown one. */
export function environmentNumber(env: Environment | number): number {
  const number = typeof env === 'number' ? env : environments.indexOf(env);
  if (!Number.isInteger(number) || number < 0 || number >= environments.length) throw new RangeError(`unknown environment ${String(env)}`);
  return number;
}

/** Hamustro's session id: `md5hex(device_id:client_id:system_version:product_version:env)`, env as its number. */
export function sessionId(fields: Pick<CollectionHeader, 'device_id' | 'client_id' | 'system_version' | 'product_version'> & { env: Environment | number }): string {
  return md5Hex(utf8.encode(`${fields.device_id}:${fields.client_id}:${fields.system_version}:${fields.product_version}:${environmentNumber(fields.env)}`));
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Hamustro's signature: `base64(sha256(time + "|" + md5hex(body) + "|" + secret))`, over the body bytes as sent. */
export function signature(time: string, body: Uint8Array, secret: string): string {
  return base64(sha256(utf8.encode(`${time}|${md5Hex(body)}|${secret}`)));
}

/** The `X-Hamustro-Time` and `X-Hamustro-Signature` headers for a body sent now. */
export function signatureHeaders(body: Uint8Array, secret: string, nowMs: number): Record<string, string> {
  const time = String(Math.floor(nowMs / 1000));
  return { 'x-hamustro-time': time, 'x-hamustro-signature': signature(time, body, secret) };
}
