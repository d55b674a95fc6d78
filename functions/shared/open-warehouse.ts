import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { connectionConfigFromUrl, TediousWarehouse } from '../../core/adapters/tedious-warehouse.js';
import type { FerryConfig } from '../../core/config.js';
import type { Warehouse } from '../../core/ports/warehouse.js';

/** Opens the warehouse `DATABASE_URL` names, with the driver its kind speaks. */
export function openWarehouseAt(config: FerryConfig, databaseUrl: string, options: { max?: number } = {}): Warehouse {
  switch (config.warehouse.kind) {
    case 'postgres':
    case 'redshift':
      return new PgWarehouse(databaseUrl, options);
    case 'azuresql':
    case 'synapse':
    case 'fabric':
      return new TediousWarehouse(connectionConfigFromUrl(databaseUrl));
  }
}
