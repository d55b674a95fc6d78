import { LazyWarehouse } from '../../core/adapters/lazy-warehouse.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { connectionConfigFromUrl, sqlServerDescription } from '../../core/adapters/sqlserver-url.js';
import type { FerryConfig } from '../../core/config.js';
import type { Warehouse } from '../../core/ports/warehouse.js';

/**
 * Opens the warehouse `DATABASE_URL` names, with the driver its kind speaks. The URL is checked
 * now; the SQL Server driver is loaded on first use (PostgreSQL users never load it).
 */
export function openWarehouseAt(config: FerryConfig, databaseUrl: string, options: { max?: number } = {}): Warehouse {
  switch (config.warehouse.kind) {
    case 'postgres':
    case 'redshift':
      return new PgWarehouse(databaseUrl, options);
    case 'azuresql':
    case 'synapse':
    case 'fabric': {
      const connection = connectionConfigFromUrl(databaseUrl);
      return new LazyWarehouse(sqlServerDescription(connection), async () => new (await import('../../core/adapters/tedious-warehouse.js')).TediousWarehouse(connection));
    }
  }
}
