import type { LogLevel, Logger } from '../ports/logger.js';
import { FerryError } from '../errors.js';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Turns an error (and its cause chain) into plain JSON fields for a log line. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const out: Record<string, unknown> = { error: err.message, error_name: err.name };
  if (err instanceof FerryError) Object.assign(out, { error_code: err.code, ...err.context });
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && !(err instanceof FerryError)) out.error_code = code;
  if (err.cause !== undefined) out.cause = errorFields(err.cause);
  return out;
}

/**
 * A `Logger` writing one JSON object per line to `write` (stderr by default), so logs are
 * machine-readable on every host (CloudWatch, Application Insights, a terminal).
 */
export function createJsonLogger(options: {
  level?: LogLevel;
  write?: (line: string) => void;
  base?: Record<string, unknown>;
  now?: () => Date;
} = {}): Logger {
  const min = rank[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[level] < min) return;
    write(`${JSON.stringify({ time: now().toISOString(), level, msg, ...options.base, ...fields })}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/**
 * `logger` with `fields` on every line it writes (a request's `request_id`); a line's own fields
 * of the same name win.
 */
export function childLogger(logger: Logger, fields: Record<string, unknown>): Logger {
  return {
    debug: (m, f) => logger.debug(m, { ...fields, ...f }),
    info: (m, f) => logger.info(m, { ...fields, ...f }),
    warn: (m, f) => logger.warn(m, { ...fields, ...f }),
    error: (m, f) => logger.error(m, { ...fields, ...f }),
  };
}

/** A logger that drops everything (tests that do not inspect logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
