import type { FerryConfig } from '../../../core/config.js';
import { FsBlobStore } from '../../../core/adapters/fs-blob-store.js';
import { dialectFor } from '../../../core/loader/dialects/dialect-for.js';
import { loadStatus, type LoadStatus } from '../../../core/loader/load-status.js';
import { outputTables } from '../../../core/parser/rules/rule-set.js';
import { announcedRules, existingDataDir, usageError, withWarehouseQueries, type Command, type CommandArgs } from './command.js';

function formatStatus(status: LoadStatus): string {
  const lines = [`ferry status at ${status.generated_at}`];
  lines.push(status.unloaded.length === 0 ? `unloaded: none (pending, younger: ${status.pending})` : `unloaded (older than the threshold): ${status.unloaded.length}; pending: ${status.pending}`);
  for (const u of status.unloaded.slice(0, 20)) lines.push(`  ${u.key}  (${u.age_s} s old)`);
  if (status.unloaded.length > 20) lines.push(`  … and ${status.unloaded.length - 20} more (--json lists all)`);
  for (const t of status.tables) {
    lines.push(`${t.table}: ${t.files} files, ${t.rows.toLocaleString('en')} rows, last load ${t.last_loaded_at ?? 'never'}`);
    for (const d of t.days) lines.push(`  ${d.date}  ${d.files} files  ${d.rows.toLocaleString('en')} rows`);
    if (t.latest_failure) lines.push(`  latest failure ${t.latest_failure.failed_at} (${t.latest_failure.code}): ${t.latest_failure.message}\n    files: ${t.latest_failure.keys.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

async function status(config: FerryConfig, { values }: CommandArgs): Promise<void> {
  const olderThanS = Number(values['older-than'] ?? '600');
  if (!Number.isInteger(olderThanS) || olderThanS < 0) throw usageError('status', '--older-than takes whole seconds');
  const store = new FsBlobStore((await existingDataDir(config)).store);
  const tables = outputTables((await announcedRules(config)).ruleSets);
  const report = await withWarehouseQueries(config, (warehouse) => loadStatus({ store, warehouse, schema: config.warehouseSchema, dialect: dialectFor(config), tables, now: new Date(), olderThanS }));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  if (report.unloaded.length > 0 || report.tables.some((t) => t.latest_failure && (!t.last_loaded_at || t.latest_failure.failed_at > t.last_loaded_at))) process.exitCode = 1;
}

export const statusCommand: Command = {
  name: 'status',
  synopsis: ['status [--json] [--older-than SECONDS]'],
  summary: 'Unloaded parsed files older than SECONDS, last load, rows per table per day, latest failure\nwith its file keys. Exits 1 when something is stuck or failing.',
  optionHelp: [
    ['--json', 'print the report as JSON'],
    ['--older-than SECONDS', 'age from which an unloaded file counts as stuck (default 600)'],
  ],
  options: { json: { type: 'boolean' }, 'older-than': { type: 'string' } },
  run: (args) => status(args.config(), args),
};
