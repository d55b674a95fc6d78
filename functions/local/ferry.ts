#!/usr/bin/env node
import { readConfig, settings, type FerryConfig } from '../../core/config.js';
import { ConfigError, FerryError } from '../../core/errors.js';
import { runLoad } from '../../core/loader/load-run.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables, ruleSetFor } from '../../core/parser/rules/rule-set.js';
import { createJsonLogger } from '../../core/support/json-logger.js';
import { createReadStream } from 'node:fs';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { queryAdminSocket } from './admin-socket.js';
import { lockDataDir } from './data-dir-lock.js';
import { formatRows } from './format-rows.js';
import { localPaths, openWarehouse, startLocalPipeline, type LocalPipeline } from './local-pipeline.js';
import type { Row, Warehouse } from '../../core/ports/warehouse.js';

const usage = `ferry — event pipeline (collector → object storage → parser → warehouse)

Usage:
  ferry serve                 run the whole pipeline locally (same as npm start)
  ferry query "<sql>" [--json] run SQL on the configured warehouse and print the rows
  ferry load                  run one load of parsed files into the warehouse now
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
  const ready: Promise<LocalPipeline> = startLocalPipeline(config, logger);
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

async function loadOnce(config: FerryConfig): Promise<void> {
  const logger = createJsonLogger({ level: config.logLevel });
  const store = new FsBlobStore(localPaths(config.dataDir).store);
  const tables = outputTables(await loadRuleSets(config.parser.rulesFiles, config.parser));
  const result = await withWarehouse(config, (warehouse) =>
    runLoad({ store, warehouse, logger, tables, schema: config.warehouseSchema, runId: `cli-${new Date().toISOString()}` }),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (result.tables.some((t) => t.error)) process.exitCode = 1;
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
      return loadOnce(config);
    case 'put':
      return putFile(config, rest);
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
