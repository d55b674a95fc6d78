import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { FerryError } from '../../core/errors.js';
import type { Logger } from '../../core/ports/logger.js';
import { splitStatements } from './split-sql.js';

/**
 * Earlier Ferry versions kept the embedded warehouse in PGlite (PostgreSQL compiled to 32-bit
 * WASM) under `<data dir>/warehouse`; a native server cannot open those files. This moves its
 * contents into the embedded server once: PGlite's own pg_dump (`@electric-sql/pglite-tools`)
 * writes the schema and rows as SQL, which runs in one transaction on the server; the old
 * directory is then renamed, kept until its owner deletes it.
 */
export function legacyWarehousePath(root: string): string {
  return join(root, 'warehouse');
}

/** Where a migrated PGlite warehouse is kept. */
export function migratedWarehousePath(root: string): string {
  return join(root, 'warehouse.pglite-migrated');
}

/** Whether the data dir holds a PGlite warehouse not yet migrated. */
export async function hasLegacyWarehouse(root: string): Promise<boolean> {
  return (await stat(join(legacyWarehousePath(root), 'PG_VERSION')).catch(() => undefined)) !== undefined;
}

/** The PGlite warehouse as SQL statements (schema, rows, then constraints and indexes). */
async function dumpLegacy(dir: string): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  const db = await PGlite.create(dir);
  try {
    const dump = await pgDump({ pg: db, args: ['--no-owner', '--no-privileges', '--inserts'] });
    // psql meta-commands (\restrict …) are not SQL.
    const sql = (await dump.text()).split('\n').filter((line) => !line.startsWith('\\')).join('\n');
    return splitStatements(sql);
  } finally {
    await db.close();
  }
}

/** Copies the PGlite warehouse into the server at `connectionString`; the data dir keeps the old one aside. */
export async function migrateLegacyWarehouse(root: string, connectionString: string, logger: Logger): Promise<void> {
  const from = legacyWarehousePath(root);
  logger.info('moving the embedded warehouse from PGlite into the embedded PostgreSQL server', { from });
  let statements: string[];
  try {
    statements = await dumpLegacy(from);
  } catch (err) {
    throw new FerryError('migration_failed', `could not read the PGlite warehouse in ${from} to move it into the embedded PostgreSQL server; it is left as it was`, { key: from }, { cause: err });
  }
  const client = new pg.Client({ connectionString });
  await client.connect();
  let rows = 0;
  try {
    await client.query('BEGIN');
    // The dump creates the schemas it fills; the server's own public schema exists already.
    for (const sql of statements) {
      if (/^CREATE SCHEMA public\b/i.test(sql)) continue;
      const result = await client.query(sql);
      if (/^INSERT\b/i.test(sql)) rows += result.rowCount ?? 0;
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw new FerryError('migration_failed', `could not move the PGlite warehouse in ${from} into the embedded PostgreSQL server (${(err as Error).message}); the PGlite one is left as it was`, { key: from }, { cause: err });
  } finally {
    await client.end();
  }
  await rename(from, migratedWarehousePath(root));
  logger.info('moved the embedded warehouse from PGlite into the embedded PostgreSQL server; the PGlite files are kept until you delete them', { rows, kept: migratedWarehousePath(root) });
}
