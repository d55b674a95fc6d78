/**
 * Hamustro's wire model (proto2, `proto/payload.proto`, schema of Feb 2017) as plain types.
 * A `Collection` carries the per-device/session fields once; each `Payload` is one event.
 */

/** Hamustro's `Environment` enum, by number. */
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

/** An environment's name. */
export type EnvironmentName = (typeof environments)[number];

/** `Parameter`: both fields required strings. */
export interface Parameter {
  name: string;
  value: string;
}

/** `Payload`: one event. `at` is epoch seconds (uint64) kept as a decimal string so no bit is lost. */
export interface Payload {
  at: string;
  event: string;
  nr: number;
  timezone?: string;
  tenant_id?: string;
  user_id?: string;
  ip?: string;
  country?: string;
  parameters: Parameter[];
}

/** `Collection`: one client request. `env` is the enum number. */
export interface Collection {
  device_id: string;
  client_id: string;
  session: string;
  system_version: string;
  product_version: string;
  env: number;
  device_make?: string;
  device_model?: string;
  system?: string;
  system_language?: string;
  browser?: string;
  browser_version?: string;
  product_git_hash?: string;
  product_language?: string;
  payloads: Payload[];
}

/** Optional string fields of `Collection`, in proto field order. */
export const collectionOptionalFields = [
  'device_make',
  'device_model',
  'system',
  'system_language',
  'browser',
  'browser_version',
  'product_git_hash',
  'product_language',
] as const;

/** Required string fields of `Collection`, in proto field order (`env` is separate). */
export const collectionRequiredStrings = ['device_id', 'client_id', 'session', 'system_version', 'product_version'] as const;

/** Optional string fields of `Payload`, in proto field order. */
export const payloadOptionalFields = ['timezone', 'tenant_id', 'user_id', 'ip', 'country'] as const;

/** Largest value of proto `uint64`. */
export const maxUint64 = 18446744073709551615n;
/** Largest value of proto `uint32`. */
export const maxUint32 = 4294967295;
