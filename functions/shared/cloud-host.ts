import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { Collector } from '../../core/collector/collector.js';
import type { FerryConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import type { TableDefinition } from '../../core/model/table-definition.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables, type RuleSet } from '../../core/parser/rules/rule-set.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { systemClock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { createJsonLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';

/** What a cloud function instance builds once and reuses across invocations, over its store. */
export interface CloudHost<S extends BlobStore> {
  config: FerryConfig;
  logger: Logger;
  store: S;
  ruleSets: RuleSet[];
  tables: TableDefinition[];
  /** Built on first use: only the HTTP function needs it. */
  collector(): Collector;
  /** Opened on first use: only the load function needs it; a missing DATABASE_URL fails there. */
  warehouse(): Warehouse;
}

/** Assembles a cloud host from the config and the platform's store (same on AWS and Azure). */
export async function createCloudHost<S extends BlobStore>(config: FerryConfig, store: S, platform: string): Promise<CloudHost<S>> {
  const logger = createJsonLogger({ level: config.logLevel });
  const ruleSets = await loadRuleSets(config.parser.rulesFiles, config.parser);
  let collector: Collector | undefined;
  let warehouse: Warehouse | undefined;
  return {
    config,
    logger,
    store,
    ruleSets,
    tables: outputTables(ruleSets),
    collector: () => (collector ??= new Collector({ store, clock: systemClock, ids: timeSortableIds, logger, ...config.collector })),
    warehouse: () => {
      if (!config.databaseUrl) throw new ConfigError([{ key: 'DATABASE_URL', reason: `is required on ${platform} (the warehouse to load into)` }]);
      return (warehouse ??= new PgWarehouse(config.databaseUrl, { max: 2 }));
    },
  };
}

/** A lazily built, cached host whose failed build is retried on the next call. */
export function cachedHost<T>(build: () => Promise<T>): { get(): Promise<T>; reset(): Promise<T | undefined> } {
  let host: Promise<T> | undefined;
  return {
    get: () =>
      (host ??= build().catch((err: unknown) => {
        host = undefined; // a fixed environment succeeds on the next invocation
        throw err;
      })),
    reset: async () => {
      const current = host;
      host = undefined;
      return current?.catch(() => undefined);
    },
  };
}
