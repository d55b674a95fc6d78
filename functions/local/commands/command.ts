import type { ParseArgsConfig } from 'node:util';
import type { FerryConfig } from '../../../core/config.js';
import { FerryError } from '../../../core/errors.js';
import type { Warehouse } from '../../../core/ports/warehouse.js';
import { lockDataDir } from '../data-dir-lock.js';
import { localPaths, openWarehouse } from '../local-pipeline.js';

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
 * Runs `fn` with the configured warehouse; the embedded one is locked to this process meanwhile,
 * since PGlite admits one process at a time.
 */
export async function withWarehouse<T>(config: FerryConfig, fn: (warehouse: Warehouse) => Promise<T>): Promise<T> {
  const unlock = config.databaseUrl ? async () => {} : await lockDataDir(localPaths(config.dataDir).root);
  try {
    const warehouse = await openWarehouse(config);
    try {
      return await fn(warehouse);
    } finally {
      await warehouse.close();
    }
  } finally {
    await unlock();
  }
}
