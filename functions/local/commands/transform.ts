import type { FerryConfig } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { warehouseKinds, type WarehouseKind } from '../../../core/loader/load-dialect.js';
import { systemClock } from '../../../core/ports/clock.js';
import { createJsonLogger } from '../../../core/support/json-logger.js';
import { transformDialectFor } from '../../../core/transform/dialects/transform-dialect-for.js';
import { dryRunSql } from '../../../core/transform/dry-run.js';
import { loadProject } from '../../../core/transform/project.js';
import { prepareTransforms } from '../../../core/transform/transforms.js';
import { existingDataDir, usageError, withWarehouse, type Command, type CommandArgs } from './command.js';

function modelsDir(config: FerryConfig): string {
  if (!config.transform.modelsDir) throw new ConfigError([{ key: 'FERRY_MODELS', reason: 'is not set: name the folder of SQL models (e.g. examples/models)' }]);
  return config.transform.modelsDir;
}

/** Prints the SQL of a full build of the selected models in dependency order; the warehouse is not touched. */
async function dryRun(config: FerryConfig, select: string[], warehouse: string | undefined): Promise<void> {
  if (warehouse !== undefined && !(warehouseKinds as readonly string[]).includes(warehouse)) throw usageError('transform', `--warehouse must be one of ${warehouseKinds.join(', ')}`);
  const kind = (warehouse ?? config.warehouse.kind) as WarehouseKind;
  const dialect = transformDialectFor(kind, config.warehouseSchema, config.transform.modelsSchema);
  const runDate = systemClock.now().toISOString().slice(0, 10);
  const project = await loadProject(modelsDir(config), dialect.renderTarget(), runDate);
  process.stdout.write(dryRunSql(project, dialect, runDate, select));
}

async function transform(config: FerryConfig, args: CommandArgs): Promise<void> {
  const select = (args.values.select as string[] | undefined) ?? [];
  if (args.values['dry-run']) return dryRun(config, select, args.values.warehouse as string | undefined);
  if (args.values.warehouse !== undefined) throw usageError('transform', '--warehouse goes with --dry-run; a run uses FERRY_WAREHOUSE');
  modelsDir(config);
  const logger = createJsonLogger({ level: config.logLevel });
  const transforms = (await prepareTransforms(config, logger, systemClock))!;
  if (!config.databaseUrl) await existingDataDir(config);
  const result = await withWarehouse(config, (warehouse) =>
    transforms.run({ warehouse, runId: `cli-${systemClock.now().toISOString()}`, select, manual: true, ...(args.values['full-refresh'] ? { fullRefresh: true } : {}) }),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (result.skipped === 'locked') {
    process.stderr.write('ferry: another transform run holds the lease; nothing ran\n');
    process.exitCode = 1;
  }
  if (result.models.some((m) => m.outcome === 'failed' || m.outcome === 'skipped')) process.exitCode = 1;
}

export const transformCommand: Command = {
  name: 'transform',
  synopsis: ['transform [--select MODEL[+]]... [--full-refresh]', 'transform --dry-run [--select MODEL[+]]... [--warehouse KIND]'],
  summary:
    'Builds the SQL models of FERRY_MODELS whose inputs changed, in dependency order, now (no backoff\n' +
    'wait, no daily maximum: an operator asked), and prints what each did. Exits 1 when a model or\n' +
    'a check failed. --dry-run prints the SQL of a full build in order without touching the warehouse.',
  optionHelp: [
    ['--select MODEL', 'only MODEL; MODEL+ adds what reads it, +MODEL what it reads (repeatable, or comma-separated)'],
    ['--full-refresh', 'rebuild the selected models whole, incremental ones too, changed or not'],
    ['--dry-run', 'print the compiled SQL in dependency order, run nothing'],
    ['--warehouse KIND', `with --dry-run: the SQL for ${warehouseKinds.join(', ')} (default: FERRY_WAREHOUSE)`],
  ],
  options: { select: { type: 'string', multiple: true }, 'full-refresh': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, warehouse: { type: 'string' } },
  run: (args) => transform(args.config(), args),
};
