import type { FerryConfig } from '../../../core/config.js';
import { compareWarehouses, type CompareReport } from '../../../core/loader/compare.js';
import { datesBetween } from '../../../core/loader/load-window.js';
import { outputTables } from '../../../core/parser/rules/rule-set.js';
import { openWarehouseAt } from '../../shared/open-warehouse.js';
import { announcedRules, existingDataDir, usageError, withWarehouseQueries, type Command, type CommandArgs } from './command.js';

function formatComparison(report: CompareReport): string {
  const lines = [report.same ? 'same: every table and day agrees' : 'DIFFERENT'];
  for (const m of report.missingTables) lines.push(`  ${m.table}: missing on ${m.side === 'a' ? 'this side' : 'the other side'}`);
  for (const d of report.days) lines.push(`  ${d.table.padEnd(16)} ${d.day}  ${String(d.rows[0]).padStart(10)} ${String(d.rows[1]).padStart(10)}  ${d.same ? 'same' : 'DIFFERENT'}`);
  return `${lines.join('\n')}\n`;
}

async function compare(config: FerryConfig, { values }: CommandArgs): Promise<void> {
  const other = values.with as string | undefined;
  if (!other) throw usageError('compare', 'ferry compare needs --with <DATABASE_URL of the other warehouse>');
  const otherSchema = (values['with-schema'] as string | undefined) ?? config.warehouseSchema;
  const from = values.from as string | undefined;
  const to = values.to as string | undefined;
  if (from !== undefined || to !== undefined) {
    try {
      datesBetween(from ?? to!, to ?? from!);
    } catch (err) {
      throw usageError('compare', (err as Error).message);
    }
  }
  if (!config.databaseUrl) await existingDataDir(config);
  const tables = outputTables((await announcedRules(config)).ruleSets);
  const kind = config.warehouse.kind;
  const report = await withWarehouseQueries(config, async (warehouse) => {
    const otherWarehouse = openWarehouseAt(config, other);
    try {
      return await compareWarehouses({ warehouse, kind, schema: config.warehouseSchema }, { warehouse: otherWarehouse, kind, schema: otherSchema }, tables, { ...(from ? { from } : {}), ...(to ? { to } : {}) });
    } finally {
      await otherWarehouse.close();
    }
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatComparison(report));
  if (!report.same) process.exitCode = 1;
}

export const compareCommand: Command = {
  name: 'compare',
  synopsis: ['compare --with DATABASE_URL [--with-schema S] [--from DATE] [--to DATE] [--json]'],
  summary: 'Per table and day, row counts and a content checksum of this warehouse against another\n(e.g. the AWS and the Azure deployment). Exits 1 when any day differs.',
  optionHelp: [
    ['--with DATABASE_URL', 'the other warehouse (required)'],
    ['--with-schema S', "the other warehouse's schema (default: FERRY_WAREHOUSE_SCHEMA)"],
    ['--from YYYY-MM-DD', 'first day compared'],
    ['--to YYYY-MM-DD', 'last day compared'],
    ['--json', 'print the report as JSON'],
  ],
  options: { with: { type: 'string' }, 'with-schema': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } },
  run: (args) => compare(args.config(), args),
};
