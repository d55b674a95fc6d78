import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import type { Logger } from '../../core/ports/logger.js';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-postgres.js';
import { hasLegacyWarehouse, migrateLegacyWarehouse } from './pglite-migration.js';

/** The embedded warehouse of a data dir: its server, and a connection pool on it. */
export interface EmbeddedWarehouse {
  warehouse: Warehouse;
  server: EmbeddedServer;
}

export interface EmbeddedWarehouseOptions {
  port?: number | undefined;
  logger: Logger;
  /** `always` (ferry serve: the server lives as long as it), or only when this call started it (other commands). */
  stopOnClose: 'always' | 'if-started';
}

/**
 * Opens the embedded warehouse of the data dir `root`: starts its server (or uses the running
 * one), moves a PGlite warehouse of an earlier version into it first, and returns a warehouse
 * whose `close` also stops the server as `stopOnClose` says.
 */
export async function openEmbeddedWarehouse(root: string, options: EmbeddedWarehouseOptions): Promise<EmbeddedWarehouse> {
  const server = await startEmbeddedServer(root, { ...options, supervise: options.stopOnClose === 'always' });
  const stopServer = options.stopOnClose === 'always' || server.startedHere ? () => server.stop() : async () => {};
  try {
    if (await hasLegacyWarehouse(root)) await migrateLegacyWarehouse(root, server.connectionString, options.logger);
  } catch (err) {
    await stopServer();
    throw err;
  }
  // Two connections: a load and a query or model at once; each backend costs a small box resident memory.
  const pool = new PgWarehouse(server.connectionString, { max: 2, description: `embedded PostgreSQL ${server.version} at ${server.url}` });
  const warehouse: Warehouse = {
    description: pool.description,
    transaction: (fn) => pool.transaction(fn),
    query: (sql, params) => pool.query(sql, params),
    close: async () => {
      try {
        await pool.close();
      } finally {
        await stopServer();
      }
    },
  };
  return { warehouse, server };
}
