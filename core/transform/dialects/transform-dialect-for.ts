import type { WarehouseKind } from '../../loader/load-dialect.js';
import { PostgresTransform, RedshiftTransform } from './postgres.js';
import type { TransformDialect } from './transform-dialect.js';
import { AzureSqlTransform, FabricTransform, SynapseTransform } from './tsql.js';

/** The transform dialect of a warehouse kind. */
export function transformDialectFor(kind: WarehouseKind, ferrySchema: string, modelsSchema: string): TransformDialect {
  switch (kind) {
    case 'postgres':
      return new PostgresTransform(ferrySchema, modelsSchema);
    case 'redshift':
      return new RedshiftTransform(ferrySchema, modelsSchema);
    case 'azuresql':
      return new AzureSqlTransform(ferrySchema, modelsSchema);
    case 'synapse':
      return new SynapseTransform(ferrySchema, modelsSchema);
    case 'fabric':
      return new FabricTransform(ferrySchema, modelsSchema);
  }
}
