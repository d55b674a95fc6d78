import { stat } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';
import type { FerryConfig } from '../../../core/config.js';
import { ConfigError, FerryError } from '../../../core/errors.js';
import type { Warehouse } from '../../../core/ports/warehouse.js';
import { createJsonLogger } from '../../../core/support/json-logger.js';
import { embeddedPaths, hasCluster, runningServer } from '../embedded-postgres.js';
import { hasLegacyWarehouse } from '../pglite-migration.js';
import { lockDataDir } from '../data-dir-lock.js';
import { localPaths, openWarehouse } from '../local-pipeline.js';
import { rulesInForce } from '../rules-in-force.js';

/** What `parseArgs` made of a command's arguments, and the configuration, read on first use. */
export interface CommandArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Reads and validates the environment (a `ConfigError` names every bad key); help never calls it. */
  config(): FerryConfig;
}

/**
 * One `ferry` command: its options (read with `node:util` `parseArgs`; `--help` is added to
 * every command) and what it does. `ferry help` and `ferry <command> --help` derive from it.
 */
export interface Command {
  name: string;
  /** One usage line per form, without the leading `ferry`. */
  synopsis: readonly string[];
  /** What it does, a few lines; shown by `ferry help` and `--help`. */
  summary: string;
  /** Option descriptions for `--help`, e.g. `['--json', 'print JSON']`. */
  optionHelp?: readonly (readonly [string, string])[];
  options?: ParseArgsConfig['options'];
  /** Whether it takes positional arguments. */
  positionals?: boolean;
  run(args: CommandArgs): Promise<void>;
}

/** A mistake in the command line: printed with a hint to `--help`, exit status 2. */
export function usageError(command: string, message: string): FerryError {
  return new FerryError('usage', `${message} (see ferry ${command} --help)`, { command });
}

/** The `--help` text of one command. */
export function commandHelp(command: Command): string {
  const lines = [`Usage:`, ...command.synopsis.map((s) => `  ferry ${s}`), '', command.summary];
  const options = [...(command.optionHelp ?? []), ['--help, -h', 'this text'] as const];
  lines.push('', 'Options:', ...options.map(([flag, what]) => `  ${flag.padEnd(26)} ${what}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `fn` with the configured warehouse. The embedded one is used through its running server
 * (a `ferry serve`'s) when there is one; otherwise this command starts it, holding the data dir
 * meanwhile, and stops it after.
 */
export async function withWarehouse<T>(config: FerryConfig, fn: (warehouse: Warehouse) => Promise<T>): Promise<T> {
  const logger = createJsonLogger({ level: config.logLevel });
  const root = localPaths(config.dataDir).root;
  const serving = !config.databaseUrl && (await runningServer(embeddedPaths(root).cluster)) !== undefined;
  const unlock = config.databaseUrl || serving ? async () => {} : await lockDataDir(root);
  try {
    const { warehouse } = await openWarehouse(config, logger, 'command');
    try {
      return await fn(warehouse);
    } finally {
      await warehouse.close();
    }
  } finally {
    await unlock();
  }
}

const announced = new Set<string>();

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * The data dir a command reads, which must already exist: run from another directory, the default
 * `./data` would otherwise be a new empty one, silently. Says on stderr which one is used.
 */
export async function existingDataDir(config: FerryConfig): Promise<ReturnType<typeof localPaths>> {
  const paths = localPaths(config.dataDir);
  const where = process.env.FERRY_DATA_DIR?.trim() ? `is ${config.dataDir}` : 'is unset, so the data dir is ./data in the current directory';
  if (!(await isDirectory(paths.root))) {
    throw new ConfigError([{ key: 'FERRY_DATA_DIR', reason: `${where}: ${paths.root} does not exist; set FERRY_DATA_DIR to the data dir ferry serve uses` }]);
  }
  if (!(await isDirectory(paths.store)) && !(await hasEmbeddedWarehouse(config))) {
    throw new ConfigError([{ key: 'FERRY_DATA_DIR', reason: `${where}: ${paths.root} is not a Ferry data dir (it has no store/ and no postgres/); set FERRY_DATA_DIR to the data dir ferry serve uses` }]);
  }
  if (!announced.has(paths.root)) process.stderr.write(`ferry: data dir ${paths.root}\n`);
  announced.add(paths.root);
  return paths;
}

/** Whether the embedded warehouse has been created (by a serve or a load) in the data dir, by this version or as PGlite by an earlier one. */
export async function hasEmbeddedWarehouse(config: FerryConfig): Promise<boolean> {
  const root = localPaths(config.dataDir).root;
  return (await hasCluster(root)) || (await hasLegacyWarehouse(root));
}

/** The rules in force for a command (see `rulesInForce`), announced on stderr. */
export async function announcedRules(config: FerryConfig): ReturnType<typeof rulesInForce> {
  const rules = await rulesInForce(config);
  process.stderr.write(`ferry: rules: ${rules.origin}\n`);
  return rules;
}

/**
 * Runs `fn` with queries on the configured warehouse. Reads only: the embedded warehouse of a
 * data dir where nothing was ever loaded is not created.
 */
export async function withWarehouseQueries<T>(config: FerryConfig, fn: (warehouse: Pick<Warehouse, 'query'>) => Promise<T>): Promise<T> {
  if (!config.databaseUrl) {
    const paths = await existingDataDir(config);
    if (!(await hasEmbeddedWarehouse(config))) {
      throw new FerryError('no_load_yet', `no load has run yet in ${paths.root}: its embedded warehouse is created by the first ferry serve or ferry load`);
    }
  }
  return withWarehouse(config, fn);
}
