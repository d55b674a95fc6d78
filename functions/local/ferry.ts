#!/usr/bin/env node
import { readConfig, settings, type FerryConfig } from '../../core/config.js';
import { ConfigError, FerryError } from '../../core/errors.js';
import { dialectFor } from '../../core/loader/dialects/dialect-for.js';
import { runLoad } from '../../core/loader/load-run.js';
import { loadStatus, type LoadStatus } from '../../core/loader/load-status.js';
import { datesBetween } from '../../core/loader/load-window.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables, ruleSetFor } from '../../core/parser/rules/rule-set.js';
import { createJsonLogger } from '../../core/support/json-logger.js';
import { createReadStream } from 'node:fs';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { replayMirror } from '../../core/collector/mirrored-store.js';
import { compareWarehouses, type CompareReport } from '../../core/loader/compare.js';
import { openStoreAt } from '../shared/open-store.js';
import { openWarehouseAt } from '../shared/open-warehouse.js';
import { queryAdminSocket } from './admin-socket.js';
import { lockDataDir } from './data-dir-lock.js';
import { formatRows } from './format-rows.js';
import { localPaths, openWarehouse, startLocalPipeline, type LocalPipeline } from './local-pipeline.js';
import type { Row, Warehouse } from '../../core/ports/warehouse.js';
import { systemClock } from '../../core/ports/clock.js';

const usage = `ferry — event pipeline (collector → object storage → parser → warehouse)

Usage:
  ferry serve                 run the whole pipeline locally (same as npm start)
  ferry query "<sql>" [--json] run SQL on the configured warehouse and print the rows
  ferry load                  run one load of parsed files into the warehouse now (every partition)
  ferry load --from DATE --to DATE
                              load (again, idempotently) the date partitions in a range, with progress
  ferry status [--json] [--older-than SECONDS]
                              unloaded parsed files older than SECONDS (default 600), last load,
                              rows per table per day, latest failure with its file keys
  ferry compare --with DATABASE_URL [--with-schema S] [--from DATE] [--to DATE] [--json]
                              per table and day, row counts and a content checksum of this
                              warehouse against another (e.g. the AWS and the Azure deployment);
                              exit 1 when any day differs
  ferry mirror-replay         copy the raw batches a failing mirror refused (FERRY_MIRROR_URL)
  ferry put <file> <key>      store a file (a server log) in the local store, e.g. under logs/nginx/;
                              a running serve parses and loads it at its next load tick
  ferry help                  this text

Configuration (environment):
${settings.map((s) => `  ${s.env.padEnd(24)} ${s.description}${s.default ? ` Default: ${s.default}.` : ''}`).join('\n')}
`;

async function serve(config: FerryConfig): Promise<void> {
  const logger = createJsonLogger({ level: config.logLevel });
  // Signal handlers go in before anything is announced, so a Ctrl-C at any moment stops cleanly.
  let signals = 0;
  const stop = () => {
    if (++signals > 1) {
      process.stderr.write('ferry: forced exit\n');
      process.exit(130);
    }
    process.stdout.write('ferry: stopping (finishing in-flight work; Ctrl-C again to force)\n');
    // A signal during start-up waits for the start to finish, then stops.
    ready.then((pipeline) => pipeline.stop()).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`ferry: stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const ready: Promise<LocalPipeline> = startLocalPipeline(config, logger, systemClock, { parseWorker: new URL('./parse-worker.js', import.meta.url) });
  const pipeline = await ready;
  if (signals > 0) return;
  process.stdout.write(`ferry: collecting on ${pipeline.url}/api/v1/track, loading into ${pipeline.warehouse.description} (Ctrl-C to stop)\n`);
}

/**
 * Runs `fn` with the configured warehouse; the embedded one is locked to this process meanwhile,
 * since PGlite admits one process at a time.
 */
async function withWarehouse<T>(config: FerryConfig, fn: (warehouse: Warehouse) => Promise<T>): Promise<T> {
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

/** Runs SQL, going through a running `ferry serve` when it owns the embedded warehouse. */
async function query(config: FerryConfig, sql: string): Promise<Row[]> {
  if (!config.databaseUrl) {
    const viaServer = await queryAdminSocket(localPaths(config.dataDir).socket, sql);
    if (viaServer !== undefined) return viaServer;
  }
  return withWarehouse(config, (warehouse) => warehouse.query(sql));
}

function flagValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new FerryError('usage', `${name} needs a value`);
  return value;
}

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

async function loadOnce(config: FerryConfig, args: string[]): Promise<void> {
  const logger = createJsonLogger({ level: config.logLevel });
  const store = new FsBlobStore(localPaths(config.dataDir).store);
  const tables = outputTables(await loadRuleSets(config.parser.rulesFiles, config.parser));
  if (!config.databaseUrl && (await queryAdminSocket(localPaths(config.dataDir).socket, 'SELECT 1')) !== undefined) {
    throw new FerryError('usage', 'ferry serve owns the embedded warehouse and loads every FERRY_LOAD_INTERVAL_S; stop it to run a load or backfill here');
  }
  const from = flagValue(args, '--from');
  const to = flagValue(args, '--to') ?? from;
  let dates: string[] | undefined;
  if (from !== undefined && to !== undefined) {
    try {
      dates = datesBetween(from, to);
    } catch (err) {
      throw new FerryError('usage', (err as Error).message);
    }
  } else if (args.includes('--to')) throw new FerryError('usage', '--to needs --from');
  // Count the files in range first so the progress bar has a total (the manifest makes re-runs no-ops).
  let total = 0;
  for (const table of tables) {
    for (const prefix of dates ? dates.map((d) => `parsed/${table.name}/${d}/`) : [`parsed/${table.name}/`]) for await (const _ of store.list(prefix)) total++;
  }
  const report = progressReporter(total);
  let done = 0;
  let rows = 0;
  const result = await withWarehouse(config, (warehouse) =>
    runLoad({
      store, warehouse, logger, tables, schema: config.warehouseSchema, dialect: dialectFor(config), runId: `cli-${new Date().toISOString()}`,
      ...(dates ? { dates } : {}),
      onBatch: (batch) => {
        if (batch.table === 'source_counts') return;
        done += batch.files;
        rows += batch.rows;
        report(done, rows);
      },
    }),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (result.tables.some((t) => t.error)) process.exitCode = 1;
}

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

async function status(config: FerryConfig, args: string[]): Promise<void> {
  const olderThanS = Number(flagValue(args, '--older-than') ?? '600');
  if (!Number.isInteger(olderThanS) || olderThanS < 0) throw new FerryError('usage', '--older-than takes whole seconds');
  const store = new FsBlobStore(localPaths(config.dataDir).store);
  const tables = outputTables(await loadRuleSets(config.parser.rulesFiles, config.parser));
  const build = (warehouse: Pick<Warehouse, 'query'>) => loadStatus({ store, warehouse, schema: config.warehouseSchema, dialect: dialectFor(config), tables, now: new Date(), olderThanS });
  let report: LoadStatus | undefined;
  // While serve owns the embedded warehouse, the report's queries go through its admin socket.
  const socket = localPaths(config.dataDir).socket;
  if (!config.databaseUrl && (await queryAdminSocket(socket, 'SELECT 1')) !== undefined) {
    report = await build({ query: async <R extends Row = Row>(sql: string, params?: readonly unknown[]) => ((await queryAdminSocket(socket, sql, params)) ?? []) as R[] });
  } else report = await withWarehouse(config, build);
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  if (report.unloaded.length > 0 || report.tables.some((t) => t.latest_failure && (!t.last_loaded_at || t.latest_failure.failed_at > t.last_loaded_at))) process.exitCode = 1;
}

function formatComparison(report: CompareReport): string {
  const lines = [report.same ? 'same: every table and day agrees' : 'DIFFERENT'];
  for (const m of report.missingTables) lines.push(`  ${m.table}: missing on ${m.side === 'a' ? 'this side' : 'the other side'}`);
  for (const d of report.days) lines.push(`  ${d.table.padEnd(16)} ${d.day}  ${String(d.rows[0]).padStart(10)} ${String(d.rows[1]).padStart(10)}  ${d.same ? 'same' : 'DIFFERENT'}`);
  return `${lines.join('\n')}\n`;
}

async function compare(config: FerryConfig, args: string[]): Promise<void> {
  const other = flagValue(args, '--with');
  if (!other) throw new FerryError('usage', 'ferry compare needs --with <DATABASE_URL of the other warehouse>');
  const otherSchema = flagValue(args, '--with-schema') ?? config.warehouseSchema;
  const from = flagValue(args, '--from');
  const to = flagValue(args, '--to');
  const tables = outputTables(await loadRuleSets(config.parser.rulesFiles, config.parser));
  const kind = config.warehouse.kind;
  const report = await withWarehouse(config, async (warehouse) => {
    const otherWarehouse = openWarehouseAt(config, other);
    try {
      return await compareWarehouses({ warehouse, kind, schema: config.warehouseSchema }, { warehouse: otherWarehouse, kind, schema: otherSchema }, tables, { ...(from ? { from } : {}), ...(to ? { to } : {}) });
    } finally {
      await otherWarehouse.close();
    }
  });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatComparison(report));
  if (!report.same) process.exitCode = 1;
}

async function mirrorReplay(config: FerryConfig): Promise<void> {
  if (!config.mirror) throw new ConfigError([{ key: 'FERRY_MIRROR_URL', reason: 'is not set: there is no mirror to replay to' }]);
  const logger = createJsonLogger({ level: config.logLevel });
  const result = await replayMirror(new FsBlobStore(localPaths(config.dataDir).store), openStoreAt(config.mirror.url, 'FERRY_MIRROR_URL', config.mirror.azureConnectionString), logger);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (result.failed.length > 0) process.exitCode = 1;
}

/** Stores a file atomically (temp file, fsync, rename), so a running serve never reads half of it. */
async function putFile(config: FerryConfig, args: string[]): Promise<void> {
  const [file, key] = args;
  if (!file || !key) throw new FerryError('usage', 'ferry put needs a file and a key, e.g. ferry put access.log.gz logs/nginx/2026/11/23/web-1.log.gz');
  const ruleSets = await loadRuleSets(config.parser.rulesFiles, config.parser);
  if (!ruleSetFor(ruleSets, key)) {
    throw new FerryError('usage', `no rules file handles ${key} (prefixes: ${ruleSets.map((r) => r.prefix).join(', ')}); set FERRY_RULES, e.g. FERRY_RULES=docs/rules/api-nginx.yml`);
  }
  const store = new FsBlobStore(localPaths(config.dataDir).store);
  const info = await store.put(key, createReadStream(file));
  process.stdout.write(`${JSON.stringify({ key: info.key, size: info.size, etag: info.etag })}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command = 'help', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return;
  }
  const config = readConfig(process.env);
  switch (command) {
    case 'serve':
      return serve(config);
    case 'query': {
      const json = rest.includes('--json');
      const sql = rest.filter((a) => a !== '--json').join(' ');
      if (sql.trim() === '') throw new FerryError('usage', 'ferry query needs SQL, e.g. ferry query "select count(*) from ferry.events"');
      const rows = await query(config, sql);
      process.stdout.write(json ? `${JSON.stringify(rows)}\n` : formatRows(rows));
      return;
    }
    case 'load':
      return loadOnce(config, rest);
    case 'status':
      return status(config, rest);
    case 'put':
      return putFile(config, rest);
    case 'compare':
      return compare(config, rest);
    case 'mirror-replay':
      return mirrorReplay(config);
    default:
      throw new FerryError('usage', `unknown command "${command}"; try ferry help`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`ferry: invalid configuration\n${err.problems.map((p) => `  ${p.key}: ${p.reason}`).join('\n')}\n`);
    process.exit(2);
  }
  process.stderr.write(`ferry: ${(err as Error).message}\n`);
  process.exit(1);
});
