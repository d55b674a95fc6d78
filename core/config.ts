import { ConfigError, type ConfigProblem } from './errors.js';
import type { LogLevel } from './ports/logger.js';

/** Ferry's configuration, read once from the environment at start-up. */
export interface FerryConfig {
  /** HTTP port of the local runner's collector. */
  port: number;
  /** Root of the local object store and the embedded warehouse. */
  dataDir: string;
  /** Seconds between load runs. */
  loadIntervalS: number;
  /** PostgreSQL URL; when unset the embedded warehouse (PGlite) under the data dir is used. */
  databaseUrl: string | undefined;
  /** Warehouse schema for Ferry's tables and manifest. */
  warehouseSchema: string;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  logLevel: LogLevel;
}

/** One documented setting: its variable, default and reader. The README's table lists them all. */
export interface SettingSpec {
  env: string;
  default: string | undefined;
  description: string;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number, problems: ConfigProblem[]): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    problems.push({ key: name, reason: `must be a whole number, got "${raw}"` });
    return fallback;
  }
  const value = Number(raw.trim());
  if (value < min || value > max) problems.push({ key: name, reason: `must be between ${min} and ${max}, got ${value}` });
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, problems: ConfigProblem[]): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if ((allowed as readonly string[]).includes(raw.trim())) return raw.trim() as T;
  problems.push({ key: name, reason: `must be one of ${allowed.join(', ')}, got "${raw}"` });
  return fallback;
}

/** Every setting Ferry reads, with its default; the same names on every host. */
export const settings: readonly SettingSpec[] = [
  { env: 'PORT', default: '8080', description: 'HTTP port of the local collector.' },
  { env: 'FERRY_DATA_DIR', default: './data', description: 'Local object store and embedded warehouse directory.' },
  { env: 'FERRY_LOAD_INTERVAL_S', default: '10', description: 'Seconds between load runs of the local runner.' },
  { env: 'DATABASE_URL', default: undefined, description: 'PostgreSQL connection URL; unset = embedded PostgreSQL (PGlite) under the data dir.' },
  { env: 'FERRY_WAREHOUSE_SCHEMA', default: 'ferry', description: 'Warehouse schema for the tables and the load manifest.' },
  { env: 'FERRY_MAX_BODY_BYTES', default: '1048576', description: 'Largest accepted request body, in bytes (413 above).' },
  { env: 'FERRY_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error; logs are JSON lines on stderr.' },
];

/**
 * Reads and validates the configuration. Fails fast with a `ConfigError` naming every bad key at
 * once, so one start-up attempt shows everything to fix.
 */
export function readConfig(env: Env = process.env): FerryConfig {
  const problems: ConfigProblem[] = [];
  const config: FerryConfig = {
    port: integer(env, 'PORT', 8080, 0, 65535, problems),
    dataDir: env.FERRY_DATA_DIR?.trim() || './data',
    loadIntervalS: integer(env, 'FERRY_LOAD_INTERVAL_S', 10, 1, 86400, problems),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    warehouseSchema: env.FERRY_WAREHOUSE_SCHEMA?.trim() || 'ferry',
    maxBodyBytes: integer(env, 'FERRY_MAX_BODY_BYTES', 1048576, 1024, 64 * 1024 * 1024, problems),
    logLevel: oneOf(env, 'FERRY_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info', problems),
  };
  if (config.databaseUrl !== undefined) {
    try {
      const url = new URL(config.databaseUrl);
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        problems.push({ key: 'DATABASE_URL', reason: `must be a postgres:// or postgresql:// URL, got "${url.protocol}"` });
      }
    } catch {
      problems.push({ key: 'DATABASE_URL', reason: 'is not a valid URL' });
    }
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.warehouseSchema)) {
    problems.push({ key: 'FERRY_WAREHOUSE_SCHEMA', reason: `must be a lower-case SQL identifier, got "${config.warehouseSchema}"` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
