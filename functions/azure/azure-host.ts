import { ContainerClient } from '@azure/storage-blob';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { Collector } from '../../core/collector/collector.js';
import { readConfig, type FerryConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import type { TableDefinition } from '../../core/model/table-definition.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables, type RuleSet } from '../../core/parser/rules/rule-set.js';
import { systemClock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { createJsonLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';

/** Everything a Functions worker builds once and reuses across invocations. */
export interface AzureHost {
  config: FerryConfig;
  logger: Logger;
  container: string;
  store: AzureBlobStore;
  ruleSets: RuleSet[];
  tables: TableDefinition[];
  collector(): Collector;
  warehouse(): Warehouse;
}

let host: Promise<AzureHost> | undefined;

async function build(env: Record<string, string | undefined>): Promise<AzureHost> {
  const config = readConfig(env);
  const connection = env.FERRY_AZURE_STORAGE_CONNECTION_STRING?.trim();
  if (!connection) throw new ConfigError([{ key: 'FERRY_AZURE_STORAGE_CONNECTION_STRING', reason: 'is required on Azure (the data storage account)' }]);
  const container = env.FERRY_AZURE_CONTAINER?.trim() || 'ferry';
  const logger = createJsonLogger({ level: config.logLevel });
  const store = new AzureBlobStore({ container: new ContainerClient(connection, container) });
  const ruleSets = await loadRuleSets(config.parser.rulesFiles, config.parser);
  let collector: Collector | undefined;
  let warehouse: Warehouse | undefined;
  return {
    config,
    logger,
    container,
    store,
    ruleSets,
    tables: outputTables(ruleSets),
    collector: () => (collector ??= new Collector({ store, clock: systemClock, ids: timeSortableIds, logger, ...config.collector })),
    warehouse: () => {
      if (!config.databaseUrl) throw new ConfigError([{ key: 'DATABASE_URL', reason: 'is required on Azure (the warehouse to load into)' }]);
      return (warehouse ??= new PgWarehouse(config.databaseUrl, { max: 2 }));
    },
  };
}

/** The worker's host, built from the environment on first use. */
export function azureHost(env: Record<string, string | undefined> = process.env): Promise<AzureHost> {
  return (host ??= build(env).catch((err: unknown) => {
    host = undefined;
    throw err;
  }));
}

/** Forgets the worker's host (tests change the environment between cases). */
export function resetAzureHost(): void {
  host = undefined;
}
