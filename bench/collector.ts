// Collector benchmark (not a test). Drives `ferry serve` (filesystem store, signatures required)
// over loopback with 100 pre-generated protobuf bodies of 1–25 payloads (Hamustro's own load
// shape), then a bare node:http server with the same load generator, and prints the ratio.
// Durable acknowledgement makes each request wait for an fsync'd group commit, so at few
// connections the collector is bound by that latency (Little's law), not by CPU: the run sweeps
// the connection count, each count measured on both servers. CPU per request of each server
// (from /proc) is printed too: on two shared cores the load generator takes its own share.
//   npm run bench:collector [-- --duration 20 --connections 64,128,256 --warmup 8]
// With `--store s3` the same load goes to `ferry serve --only collector` writing to an s3rver it
// starts (loopback, disk-backed): requests/s, events/s and PUTs per request. s3rver is not S3 —
// its latency and throughput say nothing about S3's; the PUTs per request is the figure that carries over.
//   npm run bench:collector -- --store s3 [--duration 10 --connections 64]
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { hamustroSignature } from '../core/collector/signature.js';
import { hamustroBody } from './support/hamustro-load.js';
import { nodeFlags } from '../functions/local/node-flags.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const duration = option('duration', 20);
// Discarded first: JIT warm-up, and `ferry serve` opening its embedded warehouse in the
// background for a few seconds after it starts listening.
const warmup = option('warmup', 8);
const connectionCounts = (() => {
  const i = args.indexOf('--connections');
  return (i >= 0 ? args[i + 1]! : '64,128,256').split(',').map(Number);
})();
const secret = 'bench-secret';

async function start(command: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, command, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /collecting on (http:\/\/[^/]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  return { child, url };
}

/**
 * CPU seconds used so far by a process, from /proc, split into its parse work (`parse`: `ferry
 * serve` parses on a thread it lowers to nice 10; the bare server has none) and the rest (`own`);
 * undefined where there is none. Threads that exited count in `own`.
 */
function cpuSeconds(pid: number): { own: number; parse: number } | undefined {
  const ticks = 100; // USER_HZ, 100 on every Linux ABI Node runs on
  const cpuOf = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { cpu: (Number(fields[11]) + Number(fields[12])) / ticks, nice: Number(fields[16]) }; // utime, stime
  };
  try {
    const whole = cpuOf(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpu;
    let parse = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const thread = cpuOf(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8'));
      if (thread.nice >= 10) parse += thread.cpu;
    }
    return { own: whole - parse, parse };
  } catch {
    return undefined;
  }
}

async function drive(url: string, bodies: { body: Buffer; events: number }[], connections: number, seconds = duration, serverPid?: number) {
  const time = String(Math.floor(Date.now() / 1000));
  const requests = bodies.map(({ body }) => ({
    method: 'POST' as const,
    path: '/api/v1/track',
    headers: { 'content-type': 'application/protobuf', 'x-hamustro-time': time, 'x-hamustro-signature': hamustroSignature(time, body, secret) },
    body,
  }));
  const serverBefore = serverPid === undefined ? undefined : cpuSeconds(serverPid);
  const generatorBefore = process.cpuUsage();
  const result = await autocannon({ url, connections, duration: seconds, requests });
  const generator = process.cpuUsage(generatorBefore);
  const serverAfter = serverPid === undefined ? undefined : cpuSeconds(serverPid);
  const meanEvents = bodies.reduce((a, b) => a + b.events, 0) / bodies.length;
  const answered = result['2xx'] + result.non2xx;
  return {
    // CPU per answered request: steadier than req/s on a shared VM, and it separates the server's
    // work from the load generator's, which shares the same cores.
    server:
      serverBefore && serverAfter
        ? { ownUs: ((serverAfter.own - serverBefore.own) * 1e6) / answered, parseUs: ((serverAfter.parse - serverBefore.parse) * 1e6) / answered }
        : undefined,
    generatorUsPerRequest: (generator.user + generator.system) / answered,
    reqPerS: result.requests.average,
    eventsPerS: result.requests.average * meanEvents,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    other: result.non2xx + result.errors + result.timeouts,
  };
}

/** Files under `dir` (recursively) whose name ends in `suffix`. */
async function countFiles(dir: string, suffix: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) if (e.isFile() && e.name.endsWith(suffix)) n++;
  return n;
}

async function countStoredEvents(dir: string): Promise<number> {
  let events = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.ndjson.gz')) {
        for (const line of gunzipSync(await readFile(p)).toString().split('\n').filter(Boolean)) events += JSON.parse(line).collection.payloads.length;
      }
    }
  };
  await walk(join(dir, 'store', 'raw'));
  return events;
}

// This file runs as the bundle dist/bench/collector.js.
const root = fileURLToPath(new URL('../..', import.meta.url));
const bodies = Array.from({ length: 100 }, (_, i) => hamustroBody(i));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const external = args.indexOf('--url');
if (external >= 0) {
  // Drive an already running collector (e.g. one started under --cpu-prof) and stop.
  const r = await drive(args[external + 1]!, bodies, connectionCounts[0]!);
  console.log(`${fmt(r.reqPerS)} req/s, ${fmt(r.eventsPerS)} events/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.ok} 2xx, ${r.other} other`);
  process.exit(0);
}
const meanEvents = bodies.reduce((a, b) => a + b.events, 0) / bodies.length;
const storeIndex = args.indexOf('--store');
if (storeIndex >= 0) {
  if (args[storeIndex + 1] !== 's3') throw new Error(`--store takes s3, got "${args[storeIndex + 1]}"`);
  await benchS3();
  process.exit(0);
}
const dataDir = await mkdtemp(join(tmpdir(), 'ferry-bench-'));

const ferry = await start([...nodeFlags, join(root, 'dist/local/ferry.js'), 'serve'], {
  PORT: '0', FERRY_DATA_DIR: dataDir, FERRY_SHARED_SECRET: secret, FERRY_LOG_LEVEL: 'warn', FERRY_LOAD_INTERVAL_S: '3600',
});
let acknowledged = 0;
const ferryResults: Awaited<ReturnType<typeof drive>>[] = [];
for (const connections of connectionCounts) {
  if (warmup > 0) acknowledged += (await drive(ferry.url, bodies, connections, warmup)).ok;
  const result = await drive(ferry.url, bodies, connections, duration, ferry.child.pid);
  acknowledged += result.ok;
  ferryResults.push(result);
}
ferry.child.kill('SIGKILL'); // the stored count below is what was durable at the moment of the kill
await new Promise((r) => ferry.child.on('exit', r));
const stored = await countStoredEvents(dataDir);
// Only collector batches are stored here, so every summary is a parsed raw object's.
const rawObjects = await countFiles(join(dataDir, 'store', 'raw'), '.ndjson.gz');
const parsedObjects = await countFiles(join(dataDir, 'store', 'summaries'), '.json');

const bare = await start([join(root, 'dist/bench/bare-http-server.js')], {});
const bareResults: Awaited<ReturnType<typeof drive>>[] = [];
for (const connections of connectionCounts) {
  if (warmup > 0) await drive(bare.url, bodies, connections, warmup);
  bareResults.push(await drive(bare.url, bodies, connections, duration, bare.child.pid));
}
bare.child.kill('SIGTERM');
await rm(dataDir, { recursive: true, force: true });

console.log(`collector benchmark: ${duration} s after ${warmup} s of warm-up per point, protobuf bodies of 1–25 payloads (mean ${meanEvents.toFixed(1)}), signed`);
connectionCounts.forEach((connections, i) => {
  const f = ferryResults[i]!;
  const b = bareResults[i]!;
  console.log(`  ${connections} connections:`);
  console.log(`    ferry serve : ${fmt(f.reqPerS)} req/s, ${fmt(f.eventsPerS)} events/s, p50 ${f.p50} ms, p99 ${f.p99} ms, ${f.ok} 2xx, ${f.other} other`);
  console.log(`    bare node:http: ${fmt(b.reqPerS)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms`);
  console.log(`    ratio ferry/bare req/s: ${(f.reqPerS / b.reqPerS).toFixed(2)}`);
  if (f.server && b.server) {
    const ferryUs = f.server.ownUs + f.server.parseUs;
    const bareUs = b.server.ownUs + b.server.parseUs;
    console.log(`    CPU per request: ferry serve ${fmt(ferryUs)} µs (collector ${fmt(f.server.ownUs)}, parse thread ${fmt(f.server.parseUs)}), bare ${fmt(bareUs)} µs; load generator ${fmt(f.generatorUsPerRequest)} / ${fmt(b.generatorUsPerRequest)} µs`);
    console.log(`    ratio bare/ferry CPU per request (each server's own work, load generator aside): ${(bareUs / ferryUs).toFixed(2)}`);
  }
});
console.log(`  parsed by the end: ${fmt(parsedObjects)} of ${fmt(rawObjects)} raw objects (the parse thread runs at a lower priority and catches up after a burst; its CPU above is what it got, not what the whole backlog needs)`);
console.log(`  on disk after kill -9: ${fmt(stored)} events (acknowledged, warm-ups included: about ${fmt(acknowledged * meanEvents)}, from the mean payload count; the exact check is test/integration/collector-crash.test.ts)`);

/** A free loopback port (s3rver takes no port 0). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** s3rver on a free port with a fresh bucket, as test/support/storage-emulators.ts starts it. */
async function startS3rver(directory: string): Promise<{ child: ChildProcess; endpoint: string; client: S3Client; bucket: string }> {
  const port = await freePort();
  // Its list continuation tokens use DES, which OpenSSL 3 only offers with the legacy provider.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', join(root, 'node_modules/s3rver/bin/s3rver.js'), '-d', directory, '-a', '127.0.0.1', '-p', String(port), '--silent'], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const bucket = 'ferry-bench';
  for (let attempt = 0; ; attempt++) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return { child, endpoint, client, bucket };
    } catch (err) {
      if (attempt >= 50 || child.exitCode !== null) throw new Error(`s3rver did not start: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function countObjects(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    n += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  return n;
}

/** The container collector in front of s3rver: the same load, and how many PUTs it took. */
async function benchS3(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'ferry-bench-s3rver-'));
  const s3 = await startS3rver(directory);
  const collector = await start([...nodeFlags, join(root, 'dist/local/ferry.js'), 'serve', '--only', 'collector'], {
    PORT: '0', FERRY_SHARED_SECRET: secret, FERRY_LOG_LEVEL: 'warn', FERRY_STORE_URL: `s3://${s3.bucket}`, FERRY_S3_ENDPOINT: s3.endpoint,
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  let requests = 0;
  const results: Awaited<ReturnType<typeof drive>>[] = [];
  for (const connections of connectionCounts) {
    if (warmup > 0) requests += (await drive(collector.url, bodies, connections, warmup)).ok;
    const result = await drive(collector.url, bodies, connections, duration, collector.child.pid);
    requests += result.ok;
    results.push(result);
  }
  // SIGTERM writes what was accepted, so every acknowledged request is in an object counted below.
  const exited = new Promise((r) => collector.child.on('exit', r));
  collector.child.kill('SIGTERM');
  await exited;
  const objects = await countObjects(s3.client, s3.bucket, 'raw/events/');
  s3.client.destroy();
  s3.child.kill('SIGTERM');
  await rm(directory, { recursive: true, force: true });

  console.log(`collector benchmark, --store s3: ferry serve --only collector writing to s3rver on loopback (s3rver is not S3: its latency and throughput are not S3's), ${duration} s after ${warmup} s of warm-up per point, protobuf bodies of 1–25 payloads (mean ${meanEvents.toFixed(1)}), signed`);
  connectionCounts.forEach((connections, i) => {
    const r = results[i]!;
    const cpu = r.server ? `, collector CPU ${fmt(r.server.ownUs + r.server.parseUs)} µs per request` : '';
    console.log(`  ${connections} connections: ${fmt(r.reqPerS)} req/s, ${fmt(r.eventsPerS)} events/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.ok} 2xx, ${r.other} other${cpu}`);
  });
  console.log(`  PUTs per request: ${(objects / requests).toFixed(4)} (${fmt(objects)} raw objects for ${fmt(requests)} acknowledged requests, warm-ups included)`);
}
