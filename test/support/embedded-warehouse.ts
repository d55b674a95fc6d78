import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { openEmbeddedWarehouse } from '../../functions/local/embedded-warehouse.js';

/**
 * The local runner's embedded warehouse (its own PostgreSQL server, as `ferry serve` starts it)
 * in a temp data dir; `cleanup` stops the server and removes the dir.
 */
export async function embeddedTestWarehouse(): Promise<{ warehouse: Warehouse; root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'ferry-embedded-'));
  try {
    const { warehouse } = await openEmbeddedWarehouse(root, { logger: silentLogger, stopOnClose: 'always' });
    return { warehouse, root, cleanup: async () => { try { await warehouse.close(); } finally { await rm(root, { recursive: true, force: true }); } } };
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}
