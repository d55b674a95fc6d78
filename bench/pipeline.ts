// Pipeline CPU benchmark (not a test): the CPU time the whole local pipeline — collect, parse,
// load — spends per Hamustro-shaped request, from before the first request until every event is
// queryable and the pipeline is idle, per warehouse mode:
//   embedded  the embedded default (a PostgreSQL server `ferry serve` starts as its child, so its
//             processes are in the tree, shown apart: its backends, and the rest);
//   postgres  DATABASE_URL at the PostgreSQL on 127.0.0.1:5432 (a fresh FERRY_WAREHOUSE_SCHEMA,
//             dropped after). That server is outside Ferry's process tree: its backends serving
//             Ferry's connections (found by application_name) are measured beside it.
// CPU is utime + stime (+ reaped children's) from /proc for `ferry serve` and every descendant.
// Every request is unique (its own device, so its own session), so the loader cannot skip any.
// Also printed: the CPU until the last event was loaded (before the idle wait), per thread of
// Node process (main, the parse thread — serve's thread at nice 10 —, the busiest other thread —
// the filesystem writer thread — and the rest),
// and how many raw objects and parsed files the run made.
//   npm run bench:pipeline [-- --modes embedded,postgres --requests 20000 --connections 64
//                              --database-url postgres://postgres@127.0.0.1:5432/test --target 340
//                              --node-args "--cpu-prof --cpu-prof-dir=/tmp/prof" --idle-share 0.05
//                              --warmup 20000]
// `--warmup N` first sends N other unique requests and waits until they are loaded and serve
// idles, so the figure leaves out what a start pays once (V8 compiling the hot code).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { hamustroBody, signedTrackRequests } from './support/hamustro-load.js';
import { processTree } from './support/process-tree.js';
import { serveUrl } from './support/serve-url.js';
import { nodeFlags } from '../functions/local/node-flags.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
// `pglite`, the embedded default's name before, runs that mode too.
const modes = option('modes', 'embedded,postgres').split(',').map((m) => (m === 'pglite' ? 'embedded' : m));
const requests = Number(option('requests', '20000'));
const connections = Number(option('connections', '64'));
const databaseUrl = option('database-url', 'postgres://postgres@127.0.0.1:5432/test');
const target = Number(option('target', '340'));
const loadIntervalS = option('load-interval', '2');
// e.g. `--node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"`: profiles serve and its worker threads.
const nodeArgs = option('node-args', '').split(' ').filter((a) => a !== '');
const warmup = Number(option('warmup', '0'));
if (!Number.isSafeInteger(warmup) || warmup < 0) throw new Error(`--warmup takes a count of requests, not ${option('warmup', '0')}`);
const secret = 'bench-secret';
const applicationName = `ferry-bench-pipeline-${process.pid}`;
const root = fileURLToPath(new URL('../..', import.meta.url)); // this file runs as dist/bench/pipeline.js
const ferryJs = join(root, 'dist/local/ferry.js');
const ticksPerSecond = 100; // USER_HZ on Linux
/** A window below this share of one core counts as idle (load ticks over an unchanged store). */
const idleShare = Number(option('idle-share', '0.05'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** CPU seconds of one process: its own, and (with `reaped`) its waited-for children's. */
function cpuOf(pid: number, reaped = true): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** CPU seconds of the tree under `pid`, per process name (the root as `serve`). */
function treeCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of processTree(pid)) {
    const name = roleOf(pid, p);
    if (name !== undefined) out.set(name, (out.get(name) ?? 0) + cpuOf(p));
  }
  return out;
}

const auxiliary = /^postgres: (checkpointer|background writer|walwriter|autovacuum|logical replication|io worker|archiver|stats)/;

/** What process `p` of serve's tree (`root`) is: serve, the embedded server's backends or the rest of it. */
function roleOf(root: number, p: number): string | undefined {
  if (p === root) return 'serve';
  let cmd: string[];
  try {
    cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined; // exited while walking
  }
  if (cmd[0]?.startsWith('postgres: ') && !auxiliary.test(cmd[0])) return 'embedded server backends';
  if (cmd[0]?.startsWith('postgres: ') || cmd[0]?.endsWith('/postgres')) return 'embedded server, the rest';
  return cmd[0] ?? String(p);
}
/** Minor page faults of each process of the tree (a first touch of a page: ≈ 15 µs each on the VMs measured). */
function treeFaults(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of processTree(pid)) {
    try {
      const name = roleOf(pid, p);
      if (name === undefined) continue;
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      out.set(name, (out.get(name) ?? 0) + Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]));
    } catch {
      // exited while reading
    }
  }
  return out;
}

/**
 * CPU seconds per thread of serve, keyed `serve: main`, `serve: parse <tid>` (the parse thread
 * lowers itself to nice 10) or `serve: <tid>`. Threads that exited are missed.
 */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of processTree(pid)) {
    try {
      const name = roleOf(pid, p);
      // Only Node's process: the server's are one thread each.
      if (name !== 'serve') continue;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const stat = readFileSync(`/proc/${p}/task/${task}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const thread = task === String(p) ? 'main' : Number(f[16]) >= 10 ? `parse ${task}` : task;
        out.set(`${name}: ${thread}`, (Number(f[11]) + Number(f[12])) / ticksPerSecond);
      }
    } catch {
      // exited while reading
    }
  }
  return out;
}

/** Serve's main thread, its parse thread, its busiest other thread (the filesystem writer thread, under load), the rest. */
function byThread(threads: Map<string, number>): string {
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const parse = sum([...threads].filter(([k]) => k.startsWith('serve: parse ')).map(([, v]) => v));
  const others = [...threads].filter(([k]) => k !== 'serve: main' && !k.startsWith('serve: parse ')).map(([, v]) => v).sort((a, b) => b - a);
  return `serve: main ${us(threads.get('serve: main') ?? 0, requests)}, parse thread ${us(parse, requests)}, busiest other ${us(others[0] ?? 0, requests)}, the rest ${us(sum(others.slice(1)), requests)}`;
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const minus = (a: Map<string, number>, b: Map<string, number>) => new Map([...a].map(([k, v]) => [k, v - (b.get(k) ?? 0)]));

/** Samples the PostgreSQL backends of Ferry's connections and the server's auxiliary processes. */
class ServerCpu {
  private readonly last = new Map<number, { kind: 'backends' | 'auxiliary'; cpu: number }>();
  private readonly first = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private postmaster = 0;

  constructor(private readonly client: pg.Client) {}

  async start(): Promise<void> {
    const [row] = (await this.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    const own = readFileSync(`/proc/${row!.pid}/stat`, 'utf8');
    this.postmaster = Number(own.slice(own.lastIndexOf(')') + 2).split(' ')[1]);
    await this.sample();
    for (const [pid, s] of this.last) this.first.set(pid, s.cpu);
    this.timer = setInterval(() => void this.sample().catch(() => {}), 250);
  }

  private async sample(): Promise<void> {
    const ours = new Set((await this.client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((r) => r.pid));
    for (const pid of processTree(this.postmaster)) {
      if (pid === this.postmaster) continue;
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      const kind = ours.has(pid) ? 'backends' : /checkpointer|background writer|walwriter|autovacuum|io worker/.test(cmd) ? 'auxiliary' : undefined;
      if (kind) this.last.set(pid, { kind, cpu: cpuOf(pid, false) });
    }
  }

  /** CPU seconds since start(), by kind; a process's CPU after its last sample (≤ 250 ms) is missed. */
  async stop(): Promise<{ backends: number; auxiliary: number }> {
    clearInterval(this.timer);
    await this.sample();
    const out = { backends: 0, auxiliary: 0 };
    for (const [pid, s] of this.last) out[s.kind] += s.cpu - (this.first.get(pid) ?? 0);
    return out;
  }
}

interface Serve {
  child: ChildProcess;
  url: string;
  /** Rows inserted into the events table, from the loader's `loaded` log lines. */
  eventsLoaded: () => number;
}

async function startServe(env: Record<string, string>): Promise<Serve> {
  const child = spawn(process.execPath, [...nodeFlags, ...nodeArgs, ferryJs, 'serve'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let loaded = 0;
  let pending = '';
  child.stderr!.on('data', (c: Buffer) => {
    pending += c.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.includes('"loaded"')) {
        if (/"level":"(warn|error)"/.test(line)) process.stderr.write(`    serve: ${line}\n`);
        continue;
      }
      try {
        const entry = JSON.parse(line) as { msg?: string; message?: string; table?: string; rowsInserted?: number };
        if (entry.table === 'events') loaded += entry.rowsInserted ?? 0;
      } catch {
        // not a log line
      }
    }
  });
  const url = await serveUrl(child);
  return { child, url, eventsLoaded: () => loaded };
}

async function stopServe(serve: Serve | undefined): Promise<void> {
  if (!serve || serve.child.exitCode !== null) return;
  serve.child.kill('SIGTERM');
  await new Promise((r) => serve.child.once('exit', r));
}

/** Waits for the first `windowMs` window in which the tree used less than `idleShare` of a core; returns the CPU at its start. */
async function untilIdle(pid: number, windowMs: number, limitMs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + limitMs;
  let before = treeCpu(pid);
  for (;;) {
    await sleep(windowMs);
    const now = treeCpu(pid);
    if (total(now) - total(before) < (idleShare * windowMs) / 1000) return before;
    if (Date.now() > deadline) throw new Error(`ferry serve not idle after ${limitMs / 1000} s`);
    before = now;
  }
}

/** Posts every request once, `connections` at a time; returns how many were not answered 200. */
async function send(url: string, all: ReturnType<typeof signedTrackRequests>): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(url);
  let next = 0;
  let failed = 0;
  const one = (r: (typeof all)[number]) =>
    new Promise<void>((resolve) => {
      const req = request({ agent, hostname, port, method: r.method, path: r.path, headers: { ...r.headers, 'content-length': r.body.length } }, (res) => {
        if (res.statusCode !== 200) failed++;
        res.resume().on('end', resolve);
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(r.body);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < all.length) await one(all[next++]!);
    }),
  );
  agent.destroy();
  return failed;
}

async function countEvents(mode: string, env: Record<string, string>, schema: string, client: pg.Client | undefined): Promise<number> {
  if (mode === 'embedded') {
    const { stdout } = await promisify(execFile)(process.execPath, [ferryJs, 'query', 'SELECT count(*)::int AS n FROM ferry.events', '--json'], { env: { PATH: process.env.PATH, ...env } });
    const parsed = JSON.parse(stdout) as { n: number }[] | { n: number }[][];
    const row = (Array.isArray(parsed[0]) ? (parsed[0] as { n: number }[])[0] : parsed[0]) as { n: number };
    return Number(row.n);
  }
  return Number((await client!.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.events`)).rows[0]!.n);
}

/** Sends the `--warmup` requests and waits until their events are loaded; answers how many events they held. */
async function warmUp(serve: Serve): Promise<number> {
  if (warmup === 0) return 0;
  const bodies = Array.from({ length: warmup }, (_, i) => hamustroBody(i));
  const events = bodies.reduce((sum, b) => sum + b.events, 0);
  const started = Date.now();
  const failed = await send(serve.url, signedTrackRequests(bodies, secret));
  if (failed > 0) throw new Error(`${failed} warm-up requests were not answered 200`);
  while (serve.eventsLoaded() < events) {
    if (serve.child.exitCode !== null) throw new Error('ferry serve exited');
    if (Date.now() - started > 900_000) throw new Error(`only ${serve.eventsLoaded()} of ${events} warm-up events loaded after 15 minutes`);
    await sleep(200);
  }
  return events;
}

/** Raw objects and parsed events files in the store. */
async function filesMade(dataDir: string): Promise<{ raw: number; parsed: number }> {
  return { raw: await filesUnder(join(dataDir, 'store/raw/events')), parsed: await filesUnder(join(dataDir, 'store/parsed/events')) };
}

async function filesUnder(dir: string): Promise<number> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
  } catch {
    return 0;
  }
}

async function measure(mode: string) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ferry-bench-pipeline-'));
  const schema = `bench_pipeline_${process.pid}_${Date.now()}`;
  const env: Record<string, string> = { PORT: '0', FERRY_DATA_DIR: dataDir, FERRY_SHARED_SECRET: secret, FERRY_LOAD_INTERVAL_S: loadIntervalS, FERRY_LOG_LEVEL: 'info' };
  let client: pg.Client | undefined;
  let serve: Serve | undefined;
  try {
    if (mode === 'postgres') {
      const url = new URL(databaseUrl);
      url.searchParams.set('application_name', applicationName);
      env.DATABASE_URL = url.toString();
      env.FERRY_WAREHOUSE_SCHEMA = schema;
      client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
    }
    const bodies = Array.from({ length: requests }, (_, i) => hamustroBody(warmup + i));
    const events = bodies.reduce((sum, b) => sum + b.events, 0);
    serve = await startServe(env);
    const pid = serve.child.pid!;
    // Start-up (creating the embedded warehouse, the first load tick) is not the pipeline's work.
    await untilIdle(pid, 2000, 180_000);
    const warmed = await warmUp(serve);
    if (warmed > 0) await untilIdle(pid, 2000, 300_000);
    const filesBefore = await filesMade(dataDir);
    const server = client ? new ServerCpu(client) : undefined;
    await server?.start();
    const before = treeCpu(pid);
    const threadsBefore = threadCpu(pid);
    const faultsBefore = treeFaults(pid);
    const started = Date.now();
    const failed = await send(serve.url, signedTrackRequests(bodies, secret));
    const collected = treeCpu(pid);
    const loadSeconds = (Date.now() - started) / 1000;
    while (serve.eventsLoaded() < warmed + events) {
      if (serve.child.exitCode !== null) throw new Error('ferry serve exited');
      if (Date.now() - started > 900_000) throw new Error(`only ${serve.eventsLoaded() - warmed} of ${events} events loaded after 15 minutes`);
      await sleep(200);
    }
    const loaded = treeCpu(pid);
    const loadedSeconds = (Date.now() - started) / 1000;
    const idle = await untilIdle(pid, 2000, 300_000);
    const threads = minus(threadCpu(pid), threadsBefore);
    const faults = minus(treeFaults(pid), faultsBefore);
    const idleSeconds = (Date.now() - started) / 1000;
    const serverCpu = await server?.stop();
    // A tick over the unchanged store, for the idle cost beside the work.
    const idleBefore = treeCpu(pid);
    await sleep(10_000);
    const idleRate = (total(treeCpu(pid)) - total(idleBefore)) / 10;
    const queryable = (await countEvents(mode, env, schema, client)) - warmed;
    const filesAfter = await filesMade(dataDir);
    const files = { raw: filesAfter.raw - filesBefore.raw, parsed: filesAfter.parsed - filesBefore.parsed };
    return { mode, events, failed, loadSeconds, loadedSeconds, idleSeconds, collect: minus(collected, before), loaded: minus(loaded, before), all: minus(idle, before), serverCpu, idleRate, queryable, files, threads, faults };
  } finally {
    await stopServe(serve);
    if (client) {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await client.end();
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

const us = (seconds: number, n: number) => ((seconds * 1e6) / n).toFixed(0);
const parts = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${us(v, requests)}`).join(' + ');

console.log(`pipeline CPU benchmark: ${requests} unique signed protobuf requests (1–25 events, mean 13) at ${connections} connections, load ticks every ${loadIntervalS} s; CPU of ferry serve's process tree until every event is loaded and the tree idles (< ${idleShare * 100} % of a core over 2 s)${warmup > 0 ? `, after a warm-up of ${warmup} other requests` : ''}`);
for (const mode of modes) {
  const r = await measure(mode);
  const all = total(r.all);
  console.log(`  ${mode}: ${requests - r.failed} requests answered 200 (${r.failed} other) in ${r.loadSeconds.toFixed(1)} s; ${r.events} events, ${r.queryable} queryable, idle ${r.idleSeconds.toFixed(1)} s after the first request`);
  console.log(`    collect (during the requests): ${us(total(r.collect), requests)} CPU-µs per request (${parts(r.collect)})`);
  console.log(`    until every event was loaded (${r.loadedSeconds.toFixed(1)} s): ${us(total(r.loaded), requests)} CPU-µs per request (${parts(r.loaded)}); ${r.files.raw} raw objects, ${r.files.parsed} parsed events files`);
  console.log(`    by thread: ${byThread(r.threads)}; minor page faults per request: ${[...r.faults].map(([k, v]) => `${k} ${(v / requests).toFixed(1)}`).join(', ')}`);
  console.log(`    collect + parse + load until idle: ${us(all, requests)} CPU-µs per request (${parts(r.all)}), ${us(all, r.events)} per event`);
  if (mode === 'embedded') console.log(`    against the target ≤ ${target} CPU-µs per request: ${((all * 1e6) / requests / target).toFixed(2)}×`);
  if (r.serverCpu) {
    const withServer = all + r.serverCpu.backends;
    console.log(`    PostgreSQL (outside Ferry's tree): its backends for Ferry's connections ${us(r.serverCpu.backends, requests)} CPU-µs per request, its auxiliary processes ${us(r.serverCpu.auxiliary, requests)} (server-wide, shared with other clients)`);
    console.log(`    ferry serve + its backends: ${us(withServer, requests)} CPU-µs per request, ${us(withServer, r.events)} per event (${((withServer * 1e6) / requests / target).toFixed(2)}× the embedded default's target)`);
  }
  console.log(`    idle afterwards: ${(r.idleRate * 100).toFixed(1)} % of a core`);
  if (r.queryable !== r.events) {
    console.error(`    ${r.events - r.queryable} events not queryable`);
    process.exitCode = 1;
  }
}
