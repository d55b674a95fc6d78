import type { FerryConfig } from '../../config.js';
import type { LoadDialect } from '../load-dialect.js';
import { AzureSqlDialect } from './azure-sql.js';
import { FabricDialect } from './fabric.js';
import { PostgresDialect } from './postgres.js';
import { RedshiftDialect } from './redshift.js';
import { SynapseDialect } from './synapse.js';

/** The load dialect the configuration names (`FERRY_WAREHOUSE`). */
export function dialectFor(config: Pick<FerryConfig, 'warehouse' | 'warehouseSchema'>): LoadDialect {
  const { warehouse, warehouseSchema: schema } = config;
  switch (warehouse.kind) {
    case 'postgres':
      return new PostgresDialect(schema);
    case 'redshift':
      return new RedshiftDialect({ schema, iamRole: warehouse.redshiftIamRole ?? '', ...(warehouse.redshiftRegion ? { region: warehouse.redshiftRegion } : {}) });
    case 'azuresql':
      return new AzureSqlDialect(schema);
    case 'synapse':
      return new SynapseDialect({ schema });
    case 'fabric':
      return new FabricDialect({ schema });
  }
}
