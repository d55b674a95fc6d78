import type { FerryConfig } from '../../../core/config.js';
import { FsBlobStore } from '../../../core/adapters/fs-blob-store.js';
import { dialectFor } from '../../../core/loader/dialects/dialect-for.js';
import { loadStatus, type LoadStatus } from '../../../core/loader/load-status.js';
import { parseBacklog, type ParseBacklog } from '../../../core/parser/parse-backlog.js';
import { outputTables } from '../../../core/parser/rules/rule-set.js';
import { announcedRules, existingDataDir, usageError, withWarehouseQueries, type Command, type CommandArgs } from './command.js';

/** The load status plus the parse backlog: inputs stored but not parsed are not loaded either. */
type StatusReport = LoadStatus & { parse_backlog: ParseBacklog };

function formatStatus(status: StatusReport, olderThanS: number): string {
  const lines = [`ferry status at ${status.generated_at}`];
  const backlog = status.parse_backlog;
  lines.push(backlog.count === 0 ? 'unparsed: none' : `unparsed (stored, no parse summary): ${backlog.count}, oldest ${backlog.oldest_age_s} s${(backlog.oldest_age_s ?? 0) >= olderThanS ? ' (older than the threshold)' : ''}`);
  for (const p of backlog.prefixes) if (p.count > 0) lines.push(`  ${p.prefix}  ${p.count} inputs, oldest ${p.oldest_key} (${p.oldest_age_s} s old)`);
  lines.push(status.unloaded.length === 0 ? `unloaded: none (pending, younger: ${status.pending})` : `unloaded (older than the threshold): ${status.unloaded.length}; pending: ${status.pending}`);
  for (const u of status.unloaded.slice(0, 20)) lines.push(`  ${u.key}  (${u.age_s} s old)`);
  if (status.unloaded.length > 20) lines.push(`  … and ${status.unloaded.length - 20} more (--json lists all)`);
  lines.push(status.quarantined.length === 0 ? 'quarantined: none' : `quarantined (refused by the warehouse; after a fix, ferry load --retry-quarantined): ${status.quarantined.length}`);
  for (const q of status.quarantined.slice(0, 20)) lines.push(`  ${q.key}  ${q.quarantined_at} (${q.sqlstate ?? q.code}): ${q.message}`);
  if (status.quarantined.length > 20) lines.push(`  … and ${status.quarantined.length - 20} more (--json lists all)`);
  for (const t of status.tables) {
    lines.push(`${t.table}: ${t.files} files, ${t.rows.toLocaleString('en')} rows, last load ${t.last_loaded_at ?? 'never'}`);
    for (const d of t.days) lines.push(`  ${d.date}  ${d.files} files  ${d.rows.toLocaleString('en')} rows`);
    if (t.latest_failure) lines.push(`  latest failure ${t.latest_failure.failed_at} (${t.latest_failure.code}): ${t.latest_failure.message}\n    files: ${t.latest_failure.keys.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Whether the report shows something stuck or failing: what makes `ferry status` exit 1. */
function needsAttention(status: StatusReport, olderThanS: number): boolean {
  return (
    status.unloaded.length > 0 ||
    status.quarantined.length > 0 ||
    (status.parse_backlog.count > 0 && (status.parse_backlog.oldest_age_s ?? 0) >= olderThanS) ||
    status.tables.some((t) => t.latest_failure && (!t.last_loaded_at || t.latest_failure.failed_at > t.last_loaded_at))
  );
}

async function status(config: FerryConfig, { values }: CommandArgs): Promise<void> {
  const olderThanS = Number(values['older-than'] ?? '600');
  if (!Number.isInteger(olderThanS) || olderThanS < 0) throw usageError('status', '--older-than takes whole seconds');
  const store = new FsBlobStore((await existingDataDir(config)).store);
  const { ruleSets } = await announcedRules(config);
  const now = new Date();
  const backlog = await parseBacklog(store, ruleSets.map((s) => s.prefix), now);
  const load = await withWarehouseQueries(config, (warehouse) => loadStatus({ store, warehouse, schema: config.warehouseSchema, dialect: dialectFor(config), tables: outputTables(ruleSets), now, olderThanS }));
  const report: StatusReport = { ...load, parse_backlog: backlog };
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, olderThanS));
  if (needsAttention(report, olderThanS)) process.exitCode = 1;
}

export const statusCommand: Command = {
  name: 'status',
  synopsis: ['status [--json] [--older-than SECONDS]'],
  summary: 'Inputs stored but not parsed (the parse backlog), parsed files not loaded older than SECONDS,\nfiles the warehouse refused (quarantined), last load, rows per table per day, latest failure with\nits file keys. Exits 1 when an input waits longer than SECONDS to be parsed or loaded, a file is\nquarantined, or a table\'s latest load failed.',
  optionHelp: [
    ['--json', 'print the report as JSON'],
    ['--older-than SECONDS', 'age from which an unparsed input or unloaded file counts as stuck (default 600)'],
  ],
  options: { json: { type: 'boolean' }, 'older-than': { type: 'string' } },
  run: (args) => status(args.config(), args),
};
