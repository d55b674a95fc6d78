import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { binaryPackage, startNpmPostgres } from './npm-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** Which PostgreSQL the suite runs on and where it came from, for the checks summary. */
    postgres: string;
  }
}

function urlFromEnvironment(): string {
  if (process.env.FERRY_TEST_DATABASE_URL) return process.env.FERRY_TEST_DATABASE_URL;
  const host = process.env.PGHOST ?? '127.0.0.1';
  const port = process.env.PGPORT ?? '5432';
  const user = process.env.PGUSER ?? 'postgres';
  const database = process.env.PGDATABASE ?? 'test';
  const password = process.env.PGPASSWORD ? `:${encodeURIComponent(process.env.PGPASSWORD)}` : '';
  return `postgres://${encodeURIComponent(user)}${password}@${host}:${port}/${database}`;
}

/** The server's version when `url` answers a query, else undefined. */
async function serverVersion(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version.replace(/ .*/, '');
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * PostgreSQL for the integration tests: the `PG*` variables / 127.0.0.1:5432 database `test`
 * when it answers; otherwise a throw-away server from the npm package's binaries, stopped and
 * removed at the end. Never skips.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = urlFromEnvironment();
  const where = new URL(url).host;
  const version = await serverVersion(url);
  if (version) {
    project.provide('databaseUrl', url);
    project.provide('postgres', `PostgreSQL ${version} found at ${where}`);
    return async () => {};
  }
  const server = await startNpmPostgres({ database: 'test', settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  const origin = `PostgreSQL ${server.version} from ${binaryPackage} on 127.0.0.1:${server.port} as ${server.account} (nothing answered at ${where})`;
  process.stderr.write(`[test] started ${origin}\n`);
  project.provide('databaseUrl', server.url);
  project.provide('postgres', origin);
  return () => server.stop();
}
