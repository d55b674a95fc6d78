import type { ConnectionConfiguration } from 'tedious';
import { ConfigError } from '../errors.js';

/**
 * Connection settings from `DATABASE_URL` for the SQL Server family:
 * `sqlserver://user:password@host[:port]/database` (SQL authentication) or
 * `sqlserver://host/database?authentication=default` (Microsoft Entra: the Function App's
 * managed identity, via `@azure/identity`'s default credential). TLS is always on.
 */
export function connectionConfigFromUrl(databaseUrl: string): ConnectionConfiguration {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new ConfigError([{ key: 'DATABASE_URL', reason: 'is not a valid URL' }]);
  }
  const problems = [];
  if (url.protocol !== 'sqlserver:' && url.protocol !== 'mssql:') problems.push({ key: 'DATABASE_URL', reason: `must be a sqlserver:// URL for this warehouse, got "${url.protocol}"` });
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) problems.push({ key: 'DATABASE_URL', reason: 'names no database (sqlserver://host/<database>)' });
  const mode = url.searchParams.get('authentication') ?? (url.username ? 'sql' : 'missing');
  if (mode !== 'sql' && mode !== 'default') problems.push({ key: 'DATABASE_URL', reason: `authentication must be "default" (managed identity) or a user and password in the URL, got "${mode}"` });
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    server: url.hostname,
    authentication:
      mode === 'default'
        ? { type: 'azure-active-directory-default', options: {} }
        : { type: 'default', options: { userName: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } },
    options: {
      database,
      port: url.port ? Number(url.port) : 1433,
      encrypt: true,
      trustServerCertificate: url.searchParams.get('trustServerCertificate') === 'true',
      // Loads of large batches outlast tedious' 15-second default.
      requestTimeout: 0,
      useUTC: true,
    },
  };
}

/** How logs and `ferry status` name a SQL Server family warehouse. */
export function sqlServerDescription(config: ConnectionConfiguration): string {
  return `sqlserver://${config.server}/${config.options?.database ?? ''}`;
}
