/**
 * Ferry's one error hierarchy. Every error carries a stable `code` (match on it, never on the
 * message) and the context needed to act on it: object key, line, SQLSTATE, config key.
 */

/** Context fields an error may carry; all optional, all plain data so they log as JSON. */
export interface ErrorContext {
  key?: string;
  keys?: string[];
  line?: number;
  field?: string;
  limit?: string;
  sqlstate?: string;
  table?: string;
  [extra: string]: unknown;
}

/** Base of every error Ferry raises on purpose. */
export class FerryError extends Error {
  /** Stable machine-readable code, e.g. `invalid_input`. */
  readonly code: string;
  readonly context: ErrorContext;

  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** The client sent something Ferry will not accept (HTTP 4xx). `status` is the HTTP status to answer. */
export class InvalidInputError extends FerryError {
  readonly status: number;
  constructor(message: string, context: ErrorContext = {}, status = 400) {
    super('invalid_input', message, context);
    this.status = status;
  }
}

/** A missing, invalid, stale or replayed signature (HTTP 401). */
export class SignatureError extends FerryError {
  constructor(message: string, context: ErrorContext = {}) {
    super('invalid_signature', message, context);
  }
}

/** One input line could not be turned into rows; the parser records it as rejected. */
export class ParseError extends FerryError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('parse_failed', message, context, options);
  }
}

/** A load batch failed and was rolled back; `context.keys` lists the files of the batch. */
export class LoadError extends FerryError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('load_failed', message, context, options);
  }
}

/** Object storage failed or is unavailable; callers answer 503 and retry later. */
export class StorageError extends FerryError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('storage_unavailable', message, context, options);
  }
}

/** The requested object does not exist. */
export class NotFoundError extends FerryError {
  constructor(key: string) {
    super('not_found', `object not found: ${key}`, { key });
  }
}

/**
 * The object was replaced after the caller learnt its version (a notification's ETag): the bytes
 * now under the key belong to a newer version, which has its own notification. `context.etag` is
 * the version asked for, `context.current` the one found.
 */
export class VersionChangedError extends FerryError {
  constructor(key: string, etag: string, current: string) {
    super('version_changed', `object ${key} changed: version ${etag} was asked for, ${current} is stored`, { key, etag, current });
  }
}

/** One problem found in the configuration. */
export interface ConfigProblem {
  key: string;
  reason: string;
}

/** The configuration is invalid; `problems` names every bad or missing key at once. */
export class ConfigError extends FerryError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super('invalid_config', `invalid configuration: ${problems.map((p) => `${p.key}: ${p.reason}`).join('; ')}`, {
      keys: problems.map((p) => p.key),
    });
    this.problems = problems;
  }
}

/** Ferry is shutting down or over a resource bound; callers answer 503 with Retry-After. */
export class UnavailableError extends FerryError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('unavailable', message, context, options);
  }
}

/**
 * The invocation is about to run out of time; the work was abandoned before anything was
 * published as complete, so the platform's retry starts over cleanly.
 */
export class DeadlineError extends FerryError {
  constructor(message: string, context: ErrorContext = {}) {
    super('deadline_exceeded', message, context);
  }
}
