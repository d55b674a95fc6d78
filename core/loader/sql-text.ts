import { ConfigError } from '../errors.js';

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a name that becomes a SQL identifier (schema, table, column). Lower case only, so it
 * means the same on every warehouse (Redshift folds case, Fabric compares it). Anything else is a
 * configuration error naming `key`, never SQL.
 */
export function checkIdentifier(name: string, key = 'identifier'): string {
  if (!identifier.test(name)) throw new ConfigError([{ key, reason: `"${name}" is not a valid identifier (${identifier})` }]);
  return name;
}

/** PostgreSQL / Redshift quoting of a checked identifier. */
export function quoteIdent(name: string, key?: string): string {
  return `"${checkIdentifier(name, key)}"`;
}

/** T-SQL quoting of a checked identifier. */
export function bracketIdent(name: string, key?: string): string {
  return `[${checkIdentifier(name, key)}]`;
}

/**
 * A string literal, for the few places a warehouse accepts no parameter (storage locations in
 * COPY). Standard SQL escaping; `prefix` is `N` for T-SQL Unicode literals.
 */
export function stringLiteral(value: string, prefix = ''): string {
  if (value.includes('\0')) throw new Error('a SQL string literal cannot hold a NUL character');
  return `${prefix}'${value.replaceAll("'", "''")}'`;
}
