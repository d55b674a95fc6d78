// Memory benchmark (not a test): resident memory of the `ferry serve` process tree idle after
// its first start (the embedded warehouse is created then), idle after a restart on the same data
// dir, and at the end of a collector load (bench:collector's signed protobuf bodies) that follows,
// per warehouse mode:
//   embedded  the embedded default: serve starts its PostgreSQL server as a child, so the tree
//             holds both;
//   postgres  DATABASE_URL at a PostgreSQL server started from the same npm binaries with the
//             embedded server's settings; its own process tree is measured beside serve's;
//   postgres-defaults  the same server with PostgreSQL's default settings.
// RSS counts shared pages once per process (PostgreSQL's backends share its buffers and code),
// PSS splits them among the processes that map them, so the tree's PSS is what it costs the box.
//   npm run bench:memory [-- --modes embedded,postgres --settle 20 --duration 15 --connections 64]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { embeddedServerSettings } from '../functions/local/embedded-postgres.js';
import { startNpmPostgres, type NpmPostgres } from '../test/support/npm-postgres.js';
import { hamustroBody, signedTrackRequests } from './support/hamustro-load.js';
import { processTree } from './support/process-tree.js';
import { serveUrl } from './support/serve-url.js';
import { nodeFlags } from '../functions/local/node-flags.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const modes = option('modes', 'embedded,postgres').split(',');
const settle = Number(option('settle', '20'));
const duration = Number(option('duration', '15'));
const connections = Number(option('connections', '64'));
const secret = 'bench-secret';


interface Sample {
  rssMiB: number;
  pssMiB: number;
  processes: number;
  /** RSS of the tree's root process alone. */
  rootRssMiB: number;
  /** RSS / PSS per role in the tree: serve (its parse thread with it), the PostgreSQL processes. */
  roles?: Map<string, { rssMiB: number; pssMiB: number }>;
}

/** What process `p` of the tree is, for the breakdown. */
function roleOf(root: number, p: number): string {
  if (p === root) return 'serve';
  const cmd = (() => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  })();
  if (cmd.startsWith('postgres') || cmd.split('\0')[0]!.endsWith('/postgres')) return 'PostgreSQL';
  return 'other';
}


function kib(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function sample(pid: number | undefined): Sample {
  if (pid === undefined) return { rssMiB: 0, pssMiB: 0, processes: 0, rootRssMiB: 0 };
  const pids = processTree(pid);
  const roles = new Map<string, { rssMiB: number; pssMiB: number }>();
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    const r = kib(`/proc/${p}/status`, 'VmRSS') / 1024;
    const s = kib(`/proc/${p}/smaps_rollup`, 'Pss') / 1024;
    rss += r;
    pss += s;
    const role = roles.get(roleOf(pid, p)) ?? roles.set(roleOf(pid, p), { rssMiB: 0, pssMiB: 0 }).get(roleOf(pid, p))!;
    role.rssMiB += r;
    role.pssMiB += s;
  }
  return { rssMiB: rss, pssMiB: pss, processes: pids.length, rootRssMiB: kib(`/proc/${pid}/status`, 'VmRSS') / 1024, roles };
}

const byRole = (s: Sample) => [...(s.roles ?? [])].map(([role, m]) => `${role} ${m.rssMiB.toFixed(0)} / ${m.pssMiB.toFixed(0)}`).join(', ');

async function startServe(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const root = fileURLToPath(new URL('../..', import.meta.url)); // this file runs as dist/bench/memory.js
  const child = spawn(process.execPath, [...nodeFlags, join(root, 'dist/local/ferry.js'), 'serve'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await serveUrl(child);
  return { child, url };
}

const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));
const mib = (s: Sample) => `RSS ${s.rssMiB.toFixed(0).padStart(4)} MiB, PSS ${s.pssMiB.toFixed(0).padStart(4)} MiB (${s.processes} processes, root ${s.rootRssMiB.toFixed(0)} MiB RSS)`;
const sum = (a: Sample, b: Sample): Sample => ({ rssMiB: a.rssMiB + b.rssMiB, pssMiB: a.pssMiB + b.pssMiB, processes: a.processes + b.processes, rootRssMiB: a.rootRssMiB });

async function stopServe(serve: { child: ChildProcess } | undefined): Promise<void> {
  if (!serve || serve.child.exitCode !== null) return;
  serve.child.kill('SIGTERM');
  await new Promise((r) => serve.child.once('exit', r));
}

async function measure(mode: string) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ferry-bench-memory-'));
  let server: NpmPostgres | undefined;
  let serve: { child: ChildProcess; url: string } | undefined;
  try {
    const env: Record<string, string> = { PORT: '0', FERRY_DATA_DIR: dataDir, FERRY_SHARED_SECRET: secret, FERRY_LOG_LEVEL: 'warn' };
    if (mode !== 'embedded') {
      const { listen_addresses: _, unix_socket_directories: __, ...settings } = embeddedServerSettings;
      server = await startNpmPostgres({ database: 'ferry', settings: mode === 'postgres' ? settings : {} });
      env.DATABASE_URL = server.url;
    }
    const both = () => ({ serve: sample(serve?.child.pid), server: sample(server?.pid) });
    // Idle: the warehouse opens in the background after `serve` listens, and load ticks run.
    serve = await startServe(env);
    await sleep(settle);
    const firstStart = both();
    await stopServe(serve);
    serve = await startServe(env);
    await sleep(settle);
    const idle = both();
    const bodies = Array.from({ length: 100 }, (_, i) => hamustroBody(i));
    let peak = idle;
    const sampler = setInterval(() => {
      const s = both();
      if (s.serve.rssMiB + s.server.rssMiB > peak.serve.rssMiB + peak.server.rssMiB) peak = s;
    }, 500);
    const result = await autocannon({ url: serve.url, connections, duration, requests: signedTrackRequests(bodies, secret) });
    clearInterval(sampler);
    const loaded = both();
    return { mode, firstStart, idle, loaded, peak, requests: result['2xx'], other: result.non2xx + result.errors + result.timeouts };
  } finally {
    await stopServe(serve);
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

console.log(`memory benchmark: ferry serve idle ${settle} s after its first start and after a restart, then ${duration} s of signed protobuf collections at ${connections} connections`);
for (const mode of modes) {
  const r = await measure(mode);
  console.log(`  ${mode}: ${r.requests} requests answered 200, ${r.other} other`);
  for (const [when, s] of [['idle, 1st start', r.firstStart], ['idle, restarted', r.idle], ['end of load', r.loaded], ['peak during load', r.peak]] as const) {
    if (mode === 'embedded') console.log(`    ${when.padEnd(16)} serve tree ${mib(s.serve)}; RSS / PSS MiB by role: ${byRole(s.serve)}`);
    else console.log(`    ${when.padEnd(16)} serve tree ${mib(s.serve)}; server tree ${mib(s.server)}; together ${mib(sum(s.serve, s.server))}`);
  }
}
console.log(`  embedded server settings: ${Object.entries(embeddedServerSettings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
