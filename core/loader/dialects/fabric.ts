import type { TableDefinition } from '../../model/table-definition.js';
import type { LoadDialect } from '../load-dialect.js';
import { SynapseDialect } from './synapse.js';

/**
 * Microsoft Fabric Warehouse: Synapse's load (COPY INTO a staging table, lease rows,
 * `ROW_NUMBER()` + `NOT EXISTS`; Fabric has no MERGE, no `sp_getapplock`, no enforced keys) with
 * Fabric's differences: no distribution or index options (storage is managed Delta/Parquet), UTF-8
 * `VARCHAR` only (no `NVARCHAR`), and `COPY INTO` without a `CREDENTIAL`, so the storage is read
 * with the connecting Entra identity (the Function App's managed identity).
 */
export class FabricDialect extends SynapseDialect implements LoadDialect {
  override readonly kind = 'fabric' as const;

  protected override textType(length: number | 'MAX'): string {
    return `VARCHAR(${length === 'MAX' ? 'MAX' : Math.min(length * 2, 8000)})`;
  }

  protected override tableOptions(_use: 'target' | 'staging' | 'manifest' | 'lease', _table?: TableDefinition): string {
    return '';
  }

  protected override credentialOption(): string[] {
    return [];
  }
}
