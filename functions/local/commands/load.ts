import type { FerryConfig } from '../../../core/config.js';
import { FsBlobStore } from '../../../core/adapters/fs-blob-store.js';
import { dialectFor } from '../../../core/loader/dialects/dialect-for.js';
import { runLoad } from '../../../core/loader/load-run.js';
import { datesBetween } from '../../../core/loader/load-window.js';
import { outputTables } from '../../../core/parser/rules/rule-set.js';
import { createJsonLogger } from '../../../core/support/json-logger.js';
import { announcedRules, existingDataDir, usageError, withWarehouse, type Command, type CommandArgs } from './command.js';
import { storageLayout } from '../../../core/storage-layout.js';

/** A progress line with an ETA, redrawn in place on a terminal; silent otherwise. */
function progressReporter(total: number): (done: number, rows: number) => void {
  const started = Date.now();
  return (done, rows) => {
    if (!process.stderr.isTTY || total === 0) return;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const elapsed = (Date.now() - started) / 1000;
    const eta = done > 0 ? Math.round((elapsed / done) * (total - done)) : 0;
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} files, ${rows.toLocaleString('en')} rows, ETA ${eta}s `);
    if (done >= total) process.stderr.write('\n');
  };
}

/** The date partitions `--from`/`--to` name, or undefined for every partition. */
function requestedDates(values: CommandArgs['values']): string[] | undefined {
  const from = values.from as string | undefined;
  const to = (values.to as string | undefined) ?? from;
  if (from === undefined) {
    if (values.to !== undefined) throw usageError('load', '--to needs --from');
    return undefined;
  }
  try {
    return datesBetween(from, to!);
  } catch (err) {
    throw usageError('load', (err as Error).message);
  }
}

async function loadOnce(config: FerryConfig, args: CommandArgs): Promise<void> {
  const logger = createJsonLogger({ level: config.logLevel });
  const dates = requestedDates(args.values);
  const paths = await existingDataDir(config);
  const store = new FsBlobStore(paths.store);
  const tables = outputTables((await announcedRules(config)).ruleSets);
  // Count the files in range first so the progress bar has a total (the manifest makes re-runs no-ops).
  let total = 0;
  for (const table of tables) {
    for (const prefix of dates ? dates.map((d) => storageLayout.parsedTable(table.name, d)) : [storageLayout.parsedTable(table.name)]) for await (const _ of store.list(prefix)) total++;
  }
  const report = progressReporter(total);
  let done = 0;
  let rows = 0;
  const result = await withWarehouse(config, (warehouse) =>
    runLoad({
      store, warehouse, logger, tables, schema: config.warehouseSchema, dialect: dialectFor(config), runId: `cli-${new Date().toISOString()}`,
      ...(dates ? { dates } : {}),
      ...(args.values['retry-quarantined'] ? { retryQuarantined: true } : {}),
      onBatch: (batch) => {
        if (batch.table === 'source_counts') return;
        done += batch.files;
        rows += batch.rows;
        report(done, rows);
      },
    }),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  const refused = result.tables.flatMap((t) => t.quarantined ?? []);
  if (refused.length > 0) process.stderr.write(`ferry: the warehouse refused ${refused.length} file(s), quarantined (the rest loaded): ${refused.map((q) => q.key).join(', ')}; see ferry status, and after a fix run ferry load --retry-quarantined\n`);
  if (result.tables.some((t) => t.error) || refused.length > 0) process.exitCode = 1;
}

export const loadCommand: Command = {
  name: 'load',
  synopsis: ['load [--retry-quarantined]', 'load --from DATE [--to DATE] [--retry-quarantined]'],
  summary: 'Runs one load of parsed files into the warehouse now (every partition), or loads (again,\nidempotently) the date partitions from --from to --to, with progress. Exits 1 when a table fails\nor the warehouse refuses a file (it is quarantined; the others load).',
  optionHelp: [
    ['--from YYYY-MM-DD', 'first date partition to load'],
    ['--to YYYY-MM-DD', 'last date partition to load (default: --from)'],
    ['--retry-quarantined', 'try the quarantined files again (after a fix), wherever their partition'],
  ],
  options: { from: { type: 'string' }, to: { type: 'string' }, 'retry-quarantined': { type: 'boolean' } },
  run: (args) => loadOnce(args.config(), args),
};
