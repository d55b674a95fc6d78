import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { Collector } from '../../core/collector/collector.js';
import { readConfig, type FerryConfig } from '../../core/config.js';
import { ConfigError, type ConfigProblem } from '../../core/errors.js';
import type { TableDefinition } from '../../core/model/table-definition.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables, type RuleSet } from '../../core/parser/rules/rule-set.js';
import { systemClock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { createJsonLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';

/** Everything a Lambda container builds once and reuses across invocations. */
export interface AwsHost {
  config: FerryConfig;
  logger: Logger;
  store: S3BlobStore;
  ruleSets: RuleSet[];
  tables: TableDefinition[];
  collector(): Collector;
  warehouse(): Warehouse;
}

let host: Promise<AwsHost> | undefined;

async function build(env: Record<string, string | undefined>): Promise<AwsHost> {
  const config = readConfig(env);
  const problems: ConfigProblem[] = [];
  const bucket = env.FERRY_S3_BUCKET?.trim();
  if (!bucket) problems.push({ key: 'FERRY_S3_BUCKET', reason: 'is required on AWS (the data bucket)' });
  if (problems.length > 0) throw new ConfigError(problems);
  const endpoint = env.FERRY_S3_ENDPOINT?.trim();
  const logger = createJsonLogger({ level: config.logLevel });
  const store = new S3BlobStore({ bucket: bucket!, client: endpoint ? { endpoint, forcePathStyle: true } : {} });
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
      if (!config.databaseUrl) throw new ConfigError([{ key: 'DATABASE_URL', reason: 'is required on AWS (the warehouse to load into)' }]);
      return (warehouse ??= new PgWarehouse(config.databaseUrl, { max: 2 }));
    },
  };
}

/** The container's host, built from the environment on first use (a bad config fails every call, naming the keys). */
export function awsHost(env: Record<string, string | undefined> = process.env): Promise<AwsHost> {
  return (host ??= build(env).catch((err: unknown) => {
    host = undefined; // let a fixed environment succeed on the next invocation
    throw err;
  }));
}

/** Forgets the container's host (tests change the environment between cases). */
export async function resetAwsHost(): Promise<void> {
  const current = host;
  host = undefined;
  const built = await current?.catch(() => undefined);
  built?.store.client.destroy();
}
