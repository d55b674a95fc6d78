// Stage CPU benchmark (not a test): the CPU each stage of the local pipeline spends per
// Hamustro-shaped request, in one process and without HTTP or fsync, so a change to one stage
// can be measured in seconds and repeated to see its noise (`npm run bench:pipeline` measures the
// whole `ferry serve` tree). Per round, --requests unique signed protobuf requests (1–25 events,
// mean 13) are
//   collect  handled by `Collector.handle` (verify, decode, raw line, group commit, gzip) into a
//            memory store, --per-object requests sharing each raw object as under load;
//   parse    `parseObject` of each raw object (gzip'd CSV outputs and summaries, memory store);
//   load     `runLoad` into PostgreSQL, --files-per-run raw objects' outputs at a time as load
//            ticks find them (a fresh FERRY_WAREHOUSE_SCHEMA, dropped after); Ferry's CPU, and
//            the server's backends serving it (from /proc/<pid>/schedstat), per request.
// CPU is `process.cpuUsage()` (every thread of this process). With --by-statement, the load's
// CPU is split by statement, in the server and in this process. With --sessions S, the requests
// come from S devices in turn (each session's requests spread over the round's load runs, as
// sessions that last), not each from its own.
//   npm run bench:stages [-- --requests 5000 --per-object 25 --files-per-run 15 --rounds 3
//                            --stages collect,parse,load --database-url postgres://… --by-statement
//                            --sessions 500]
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { MemoryBlobStore } from '../core/adapters/memory-blob-store.js';
import { PgWarehouse } from '../core/adapters/pg-warehouse.js';
import { Collector } from '../core/collector/collector.js';
import { readConfig } from '../core/config.js';
import { PostgresDialect } from '../core/loader/dialects/postgres.js';
import { runLoad } from '../core/loader/load-run.js';
import { parseObject } from '../core/parser/parse-object.js';
import { loadRuleSets } from '../core/parser/rules/load-rules.js';
import { outputTables } from '../core/parser/rules/rule-set.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import { systemClock } from '../core/ports/clock.js';
import type { Warehouse } from '../core/ports/warehouse.js';
import { silentLogger } from '../core/support/json-logger.js';
import { timeSortableIds } from '../core/support/time-sortable-id.js';
import { hamustroBody, signedTrackRequests } from './support/hamustro-load.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const requests = Number(option('requests', '5000'));
const perObject = Number(option('per-object', '25'));
const filesPerRun = Number(option('files-per-run', '15'));
const rounds = Number(option('rounds', '3'));
const sessions = Number(option('sessions', '0'));
const stages = option('stages', 'collect,parse,load').split(',');
const databaseUrl = option('database-url', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const byStatement = args.includes('--by-statement');
const secret = 'bench-secret';
const applicationName = `ferry-bench-stages-${process.pid}`;

/** CPU seconds of this process, all threads. */
function cpu(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

/** CPU seconds a process has run (ns resolution, unlike /proc/<pid>/stat's ticks). */
function runSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return 0;
  }
}

const us = (seconds: number) => ((seconds * 1e6) / requests).toFixed(1);

/** Per statement (its first words): the server's and this process's CPU seconds. */
const statements = new Map<string, { server: number; client: number }>();

/** `warehouse` with each statement's CPU, in its backend and here, added to `statements`. */
function timed(warehouse: Warehouse): Warehouse {
  const record = async <T>(pid: number, label: string, run: () => Promise<T>): Promise<T> => {
    const server = runSeconds(pid);
    const client = cpu();
    const result = await run();
    const entry = statements.get(label) ?? statements.set(label, { server: 0, client: 0 }).get(label)!;
    entry.server += runSeconds(pid) - server;
    entry.client += cpu() - client;
    return result;
  };
  const labelOf = (sql: string) => sql.replace(/\s+/g, ' ').slice(0, 64);
  const backend = async (tx: { query: Warehouse['query'] }) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
  return {
    description: warehouse.description,
    close: () => warehouse.close(),
    query: (sql, params) => warehouse.transaction(async (tx) => record(await backend(tx), labelOf(sql), () => tx.query(sql, params))),
    transaction: (fn) =>
      warehouse.transaction(async (tx) => {
        const pid = await backend(tx);
        return fn({
          query: (sql, params) => record(pid, labelOf(sql), () => tx.query(sql, params)),
          execute: (sql, params) => record(pid, labelOf(sql), () => tx.execute(sql, params)),
          copyCsv: (target, csv) => record(pid, `COPY ${target.table}`, () => tx.copyCsv(target, csv)),
        });
      }),
  };
}

async function keysUnder(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

async function copyObject(from: BlobStore, to: BlobStore, key: string): Promise<void> {
  const info = await from.head(key);
  const chunks: Buffer[] = [];
  for await (const chunk of await from.get(key)) chunks.push(chunk as Buffer);
  await to.put(key, Buffer.concat(chunks), info.metadata);
}

const config = readConfig({ FERRY_SHARED_SECRET: secret });
const ruleSets = await loadRuleSets(config.parser.rulesFiles, config.parser);
const tables = outputTables(ruleSets);

console.log(`stage CPU benchmark: ${requests} unique signed protobuf requests per round (1–25 events, mean 13${sessions > 0 ? `, from ${sessions} sessions in turn` : ''}), ${perObject} per raw object, ${filesPerRun} raw objects' outputs per load run; CPU-µs per request`);
for (let round = 0; round < rounds; round++) {
  // Every round its own devices (so sessions): the loader de-duplicates nothing.
  const first = (round + 1) * 10_000_000 + (process.pid % 1000) * 10_000;
  const bodies = Array.from({ length: requests }, (_, i) => (sessions > 0 ? hamustroBody(first + (i % sessions), Math.floor(i / sessions)) : hamustroBody(first + i)));
  const events = bodies.reduce((sum, b) => sum + b.events, 0);
  const all = signedTrackRequests(bodies, secret);
  const store = new MemoryBlobStore();
  const collector = new Collector({ store, clock: systemClock, ids: timeSortableIds, logger: silentLogger, ...config.collector });
  let started = cpu();
  for (let i = 0; i < all.length; i += perObject) {
    await Promise.all(
      all.slice(i, i + perObject).map(async (r) => {
        const response = await collector.handle({ method: r.method, path: r.path, headers: r.headers, body: r.body, remoteAddress: '10.1.2.3', query: {} } as never);
        if (response.status !== 200) throw new Error(`collector answered ${response.status}: ${String(response.body)}`);
      }),
    );
  }
  const collect = cpu() - started;
  const line = [`collect ${us(collect)}`];
  const raw = await keysUnder(store, 'raw/events/');
  if (stages.includes('parse') || stages.includes('load')) {
    started = cpu();
    for (const key of raw) await parseObject({ store, logger: silentLogger, ruleSets }, { key });
    line.push(`parse ${us(cpu() - started)}`);
  }
  if (stages.includes('load')) {
    const schema = `bench_stages_${process.pid}_${round}`;
    const url = new URL(databaseUrl);
    url.searchParams.set('application_name', applicationName);
    const pgWarehouse = new PgWarehouse(url.toString());
    const warehouse = byStatement ? timed(pgWarehouse) : pgWarehouse;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    const dialect = new PostgresDialect(schema);
    try {
      await dialect.ensureSchema(warehouse, tables);
      statements.clear();
      const backends = async () => (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((r) => r.pid);
      const serverBefore = new Map((await backends()).map((pid) => [pid, runSeconds(pid)]));
      // The load sees the outputs of `filesPerRun` raw objects more each run, as ticks would.
      const parsed = await keysUnder(store, 'parsed/');
      const summaries = await keysUnder(store, 'summaries/');
      const rawOf = (key: string) => key.slice(key.lastIndexOf('/') + 1).split('-')[0]!;
      const visible = new MemoryBlobStore();
      let load = 0;
      for (let i = 0; i < raw.length; i += filesPerRun) {
        const names = new Set(raw.slice(i, i + filesPerRun).map((k) => k.slice(k.lastIndexOf('/') + 1, -'.ndjson.gz'.length)));
        for (const key of [...parsed, ...summaries]) if (names.has(rawOf(key))) await copyObject(store, visible, key);
        started = cpu();
        await runLoad({ store: visible, warehouse, logger: silentLogger, tables, schema, dialect, runId: `bench-${round}-${i}`, dates: [new Date().toISOString().slice(0, 10)] });
        load += cpu() - started;
      }
      let server = 0;
      for (const pid of await backends()) server += runSeconds(pid) - (serverBefore.get(pid) ?? 0);
      const loaded = Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.events`)).rows[0]!.n);
      if (loaded !== events) throw new Error(`${loaded} of ${events} events loaded`);
      line.push(`load ${us(load)} + server ${us(server)}`);
    } finally {
      await warehouse.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await admin.end();
    }
  }
  console.log(`  round ${round + 1}: ${raw.length} raw objects, ${events} events: ${line.join(', ')}`);
  for (const [label, { server, client }] of [...statements].sort((a, b) => b[1].server + b[1].client - a[1].server - a[1].client).slice(0, 12)) {
    console.log(`    server ${us(server).padStart(6)}  ferry ${us(client).padStart(6)}  ${label}`);
  }
}
