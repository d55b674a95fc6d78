// Parser benchmark (not a test). Generates realistic inputs once (cached in the temp dir): an
// nginx access log and a JSON application log of --mib MiB uncompressed each, gzip'd, and a
// collector raw file of a quarter of that. Each input is parsed by `parseObject` in a fresh child
// process (filesystem store, the example rules in docs/rules/), and, as the limit measured in the
// same run, read by a plain "gunzip + split lines" pass in Node in another child. Prints MiB/s of
// uncompressed input (wall clock and per CPU-second), lines/s, peak RSS, and the ratio, beside a
// floor that does no parsing but writes the same gzip'd CSV (for JSON lines, also one with
// JSON.parse of every line); then the same for the collector's raw objects as `ferry serve` writes
// them (many small batches).
//   npm run bench:parser [-- --mib 1024] [--runs 3]
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import type { TransformOptions } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createGunzip, createGzip, type ZlibOptions } from 'node:zlib';
import { FsBlobStore } from '../core/adapters/fs-blob-store.js';
import { parseObject } from '../core/parser/parse-object.js';
import { loadRuleSets } from '../core/parser/rules/load-rules.js';
import { silentLogger } from '../core/support/json-logger.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const mib = 1024 * 1024;
const repo = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

/** A small deterministic PRNG so every run generates the same bytes. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const agents = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Wunderlist/3.19.4 (iPhone; iOS 17.1; Scale/3.00)',
  'okhttp/4.12.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 \\x22quoted\\x22 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function nginxLine(rand: () => number, i: number): string {
  const t = new Date(Date.UTC(2026, 10, 23, 0, 0, 0) + Math.floor(i / 20) * 1000);
  const time = `${String(t.getUTCDate()).padStart(2, '0')}/${months[t.getUTCMonth()]}/${t.getUTCFullYear()}:${t.toISOString().slice(11, 19)} +0000`;
  const id = Math.floor(rand() * 1e6);
  const r = rand();
  const [method, path] =
    r < 0.3 ? ['GET', `/api/v1/tasks/${id}`] :
    r < 0.4 ? ['PATCH', `/api/v1/tasks/${id}?fields=title,due_date`] :
    r < 0.48 ? ['POST', '/api/v1/tasks'] :
    r < 0.56 ? ['GET', `/api/v1/lists/${id % 5000}/tasks`] :
    r < 0.62 ? ['GET', `/api/v1/tasks?list_id=${id % 5000}&completed=false`] :
    r < 0.68 ? ['POST', `/api/v1/tasks/${id}/comments`] :
    r < 0.72 ? ['DELETE', `/api/v1/tasks/${id}`] :
    r < 0.76 ? ['GET', `/api/v1/reminders/${id}`] :
    r < 0.84 ? ['GET', `/static/app.${id.toString(16)}.js`] :
    r < 0.9 ? ['GET', '/health'] :
    r < 0.95 ? ['OPTIONS', `/api/v1/tasks/${id}`] : ['GET', '/wp-login.php'];
  const ip = rand() < 0.2 ? `2001:db8:${(id % 65536).toString(16)}::${(i % 65536).toString(16)}` : `${(id % 223) + 1}.${id % 251}.${i % 253}.${(id >> 3) % 254}`;
  const status = path === '/wp-login.php' ? 404 : method === 'POST' ? 201 : 200;
  const host = rand() < 0.03 ? 'staging-api.example.com' : 'api.example.com';
  const rt = (rand() * 0.3).toFixed(3);
  const upstream = path.startsWith('/static') || path === '/health' ? '-' : rand() < 0.05 ? `${(rand() * 0.1).toFixed(3)}, ${(rand() * 0.1).toFixed(3)}` : (Number(rt) * 0.95).toFixed(3);
  return `${ip} - - [${time}] "${method} ${path} HTTP/1.1" ${status} ${Math.floor(rand() * 20000)} "https://app.example.com/lists/${id % 5000}" "${agents[i % agents.length]}" ${rt} ${upstream} "${host}"\n`;
}

function jsonLine(rand: () => number, i: number): string {
  const r = rand();
  const level = r < 0.1 ? 'debug' : r < 0.9 ? 'info' : r < 0.97 ? 'warn' : 'error';
  const msgs = ['task saved', 'task created', 'list deleted', 'comment created', 'cache refreshed', 'slow query'];
  const id = Math.floor(rand() * 1e6);
  return `${JSON.stringify({
    ts: new Date(Date.UTC(2026, 10, 23) + i * 7).toISOString(),
    level,
    env: rand() < 0.05 ? 'staging' : 'production',
    msg: msgs[i % msgs.length],
    user: `u-${id % 100000}`,
    http: { method: i % 3 ? 'GET' : 'POST', path: `/api/v1/tasks/${id}`, status: i % 50 ? 200 : 500 },
    duration_ms: Math.round(rand() * 50000) / 100,
    trace_id: id.toString(16).padStart(16, '0'),
    ctx: { region: 'westeurope', pod: `api-${i % 12}`, retries: i % 4 },
  })}\n`;
}

function collectorLine(rand: () => number, i: number): string {
  const payloads = Array.from({ length: 1 + (i % 25) }, (_, n) => ({
    at: String(1795420000 + i + n), event: `Task.Action${n % 7}`, nr: n + 1, timezone: 'Europe/Berlin', user_id: `user-${i % 5000}`,
    parameters: Array.from({ length: n % 4 }, (_, p) => ({ name: `param${p}`, value: `value-${p}-${Math.floor(rand() * 1000)}` })),
  }));
  const collection = {
    device_id: `device-${i % 20000}`, client_id: 'bench-client', session: `s${i.toString(16).padStart(31, '0')}`, system_version: '17.1', product_version: '3.19.4',
    env: 'PRODUCTION', device_make: 'Apple', device_model: 'iPhone15,2', system: 'iOS', system_language: 'en-US', product_language: 'en', payloads,
  };
  const received = new Date(Date.UTC(2026, 10, 23, 10) + i * 3);
  const sent = new Date(received.getTime() - (i % 10 === 0 ? 3_600_000 : 800));
  return `${JSON.stringify({ received_at: received.toISOString(), sent_at: sent.toISOString(), ip: '203.0.113.9', collection })}\n`;
}

/** Writes `bytes` of generated lines (`chunkLines` at a time), gzip'd, unless the cached file exists; returns its stats. */
async function generate(path: string, bytes: number, line: (rand: () => number, i: number) => string, chunkLines = 512): Promise<{ raw: number; lines: number }> {
  const metaPath = `${path}.json`;
  if (existsSync(path) && existsSync(metaPath)) return JSON.parse(await readFile(metaPath, 'utf8')) as { raw: number; lines: number };
  const rand = prng(42);
  const gzip = createGzip({ level: 6 });
  const out = createWriteStream(`${path}.tmp`);
  gzip.pipe(out);
  let raw = 0;
  let lines = 0;
  while (raw < bytes) {
    let chunk = '';
    for (let k = 0; k < chunkLines; k++) chunk += line(rand, lines++);
    raw += Buffer.byteLength(chunk);
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  }
  gzip.end();
  await once(out, 'close');
  await rename(`${path}.tmp`, path);
  const meta = { raw, lines };
  await (await import('node:fs/promises')).writeFile(metaPath, JSON.stringify(meta));
  return meta;
}

interface ChildResult {
  lines: number;
  rows?: number;
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
}

async function childParse(storeDir: string, key: string, rulesFiles: string[]): Promise<ChildResult> {
  const store = new FsBlobStore(storeDir);
  const ruleSets = await loadRuleSets(rulesFiles, { clockSkewThresholdS: 300 });
  const cpu = process.cpuUsage();
  const start = performance.now();
  const summary = await parseObject({ store, logger: silentLogger, ruleSets }, { key });
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return {
    lines: summary.lines,
    rows: Object.values(summary.rows).reduce((a, b) => a + b, 0),
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Lines of one gzip'd file, read the fastest plain way found; with `json`, each also given to `JSON.parse`. */
async function countLines(file: string, json = false): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let lines = 0;
  let pending = '';
  let longest = 0;
  // The fastest plain reading found: 256 KiB inflate chunks decoded 64 KiB at a time (larger
  // strings land in V8's large-object space and decode ~30× slower), as the parser reads.
  for await (const whole of createReadStream(file).pipe(createGunzip({ chunkSize: 256 * 1024 })) as AsyncIterable<Buffer>) {
    for (let offset = 0; offset < whole.length; offset += 64 * 1024) {
      const text = pending + decoder.write(whole.subarray(offset, offset + 64 * 1024));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const line = text.slice(start, nl);
        if (line.length > longest) longest = line.length; // use the line so the slice is not optimised away
        if (json && JSON.parse(line) === null) longest = 0;
        lines++;
        start = nl + 1;
      }
      pending = text.slice(start);
    }
  }
  return lines;
}

/** The limit: every file read by `countLines`, one after another. */
async function childBaseline(files: string[]): Promise<ChildResult> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let lines = 0;
  for (const file of files) lines += await countLines(file);
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { lines, wallMs, cpuMs: (used.user + used.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

/**
 * The floor: what any parser meeting the issue's output rules must do at least — the limit's
 * gunzip + split of the input, plus gzip (level 1, as the parser writes) of the very CSV bytes
 * Ferry wrote, read from plain files. No parsing at all; `limit / floor` bounds the ratio.
 */
async function childFloor(input: string, json: boolean, plainOutputs: string[]): Promise<ChildResult> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const lines = await countLines(input, json);
  for (const file of plainOutputs) {
    // The parser's own stream settings (core/parser/gzip-spool.ts).
    const options: ZlibOptions & TransformOptions = { level: 1, chunkSize: 128 * 1024, writableHighWaterMark: 1024 * 1024 };
    const gzip = createGzip(options);
    gzip.resume(); // the compressed bytes are only counted by zlib, not kept
    for await (const piece of createReadStream(file, { highWaterMark: 256 * 1024 })) {
      if (!gzip.write(piece)) await once(gzip, 'drain');
    }
    gzip.end();
    await once(gzip, 'end');
  }
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { lines, wallMs, cpuMs: (used.user + used.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

function floorBytes(files: string[]): number {
  return files.reduce((sum, file) => sum + statSync(file).size, 0);
}

/** Ferry's gzip'd CSV outputs under `storeDir` (parsed/ and rejected/) written out as plain files in `into`. */
async function plainOutputs(storeDir: string, into: string): Promise<string[]> {
  const found: string[] = [];
  for (const top of ['parsed', 'rejected']) {
    const root = join(storeDir, top);
    if (!existsSync(root)) continue;
    for (const entry of await readdir(root, { recursive: true })) if (entry.endsWith('.csv.gz')) found.push(join(root, entry));
  }
  await mkdir(into, { recursive: true });
  const plain: string[] = [];
  for (const [i, file] of found.entries()) {
    const path = join(into, `${i}.csv`);
    await pipeline(createReadStream(file), createGunzip(), createWriteStream(path));
    plain.push(path);
  }
  return plain;
}

/** Every object under `prefix` parsed, `width` at a time, as `ferry serve`'s parse thread does. */
async function childParseMany(storeDir: string, prefix: string, width: number): Promise<ChildResult> {
  const store = new FsBlobStore(storeDir);
  const ruleSets = await loadRuleSets([], { clockSkewThresholdS: 300 });
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let lines = 0;
  let rows = 0;
  let next = 0;
  const lane = async () => {
    while (next < keys.length) {
      const summary = await parseObject({ store, logger: silentLogger, ruleSets }, { key: keys[next++]! });
      lines += summary.lines;
      rows += Object.values(summary.rows).reduce((a, b) => a + b, 0);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { lines, rows, wallMs, cpuMs: (used.user + used.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

/**
 * `--runs N`: each measurement is repeated N times, the limit and Ferry interleaved, and the run
 * with the median CPU time reported (this VM's timings swing 10–30 % within an hour).
 */
const runs = Math.max(1, Number(option('runs', '1')));

function medianByCpu(results: ChildResult[]): ChildResult {
  return [...results].sort((a, b) => a.cpuMs - b.cpuMs)[Math.floor((results.length - 1) / 2)]!;
}

/** The limit and Ferry, each `runs` times, interleaved; the median of each. */
async function runPair(limit: string[], ferry: string[], between: () => Promise<void>): Promise<{ base: ChildResult; ferry: ChildResult; spread: string }> {
  const bases: ChildResult[] = [];
  const ferries: ChildResult[] = [];
  for (let r = 0; r < runs; r++) {
    bases.push(runChild(limit));
    ferries.push(runChild(ferry));
    await between();
  }
  const cpu = ferries.map((f) => f.cpuMs).sort((a, b) => a - b);
  const spread = runs > 1 ? ` (median of ${runs}; Ferry's CPU ${(cpu[0]! / 1000).toFixed(2)}–${(cpu[cpu.length - 1]! / 1000).toFixed(2)} s)` : '';
  return { base: medianByCpu(bases), ferry: medianByCpu(ferries), spread };
}

function runChild(mode: string[]): ChildResult {
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', ...mode], { encoding: 'utf8', maxBuffer: 16 * mib });
  if (result.status !== 0) throw new Error(`child ${mode.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function main(): Promise<void> {
  if (args[0] === '--child') {
    const result =
      args[1] === 'parse' ? await childParse(args[2]!, args[3]!, args.slice(4)) :
      args[1] === 'parse-many' ? await childParseMany(args[2]!, args[3]!, Number(args[4])) :
      args[1] === 'floor' ? await childFloor(args[2]!, args[3] === 'json', args.slice(4)) :
      await childBaseline(args.slice(2));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const size = Number(option('mib', '1024')) * mib;
  const cache = join(tmpdir(), `ferry-bench-parser-v1-${size / mib}`);
  await mkdir(cache, { recursive: true });
  const inputs = [
    { name: 'nginx access log', file: 'nginx.log.gz', key: 'logs/nginx/2026/11/23/api-1.log.gz', bytes: size, line: nginxLine, rules: ['docs/rules/api-nginx.yml'], json: false },
    { name: 'JSON app log', file: 'app.log.gz', key: 'logs/app/2026/11/23/api-1.log.gz', bytes: size, line: jsonLine, rules: ['docs/rules/app-json.yml'], json: true },
    { name: 'collector raw', file: 'raw.ndjson.gz', key: 'raw/events/2026/11/23/10/01BENCH.ndjson.gz', bytes: size / 4, line: collectorLine, rules: [], json: true },
  ];
  console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} CPUs; inputs cached in ${cache}`);
  const storeDir = await mkdtemp(join(tmpdir(), 'ferry-bench-store-'));
  try {
    const store = new FsBlobStore(storeDir);
    for (const input of inputs) {
      const path = join(cache, input.file);
      const meta = await generate(path, input.bytes, input.line);
      await store.put(input.key, createReadStream(path));
      const gz = (await stat(path)).size;
      const plainDir = join(storeDir, 'plain');
      let plain: string[] | undefined;
      const { base, ferry, spread } = await runPair(['baseline', path], ['parse', storeDir, input.key, ...input.rules.map((r) => join(repo, r))], async () => {
        plain ??= await plainOutputs(storeDir, plainDir);
        for (const dir of ['parsed', 'rejected']) await rm(join(storeDir, dir), { recursive: true, force: true });
      });
      // Interleaved like the pairs: the floor, and for JSON lines the floor plus JSON.parse of every line.
      const floors: ChildResult[] = [];
      const jsonFloors: ChildResult[] = [];
      for (let r = 0; r < runs; r++) {
        floors.push(runChild(['floor', path, 'plain', ...plain!]));
        if (input.json) jsonFloors.push(runChild(['floor', path, 'json', ...plain!]));
      }
      const floor = medianByCpu(floors);
      const csvMiB = floorBytes(plain!) / mib;
      await rm(plainDir, { recursive: true, force: true });
      const rawMiB = meta.raw / mib;
      const wall = (r: ChildResult) => rawMiB / (r.wallMs / 1000);
      const perCore = (r: ChildResult) => rawMiB / (r.cpuMs / 1000);
      console.log(`\n${input.name}: ${rawMiB.toFixed(0)} MiB uncompressed (${(gz / mib).toFixed(0)} MiB gzip'd), ${meta.lines.toLocaleString('en')} lines${spread}`);
      console.log(`  gunzip + split lines: ${wall(base).toFixed(1)} MiB/s wall, ${perCore(base).toFixed(1)} MiB/s per CPU-second, ${(base.lines / (base.wallMs / 1000) / 1000).toFixed(0)}k lines/s, peak RSS ${base.maxRssMiB.toFixed(0)} MiB`);
      console.log(`  ferry parseObject:    ${wall(ferry).toFixed(1)} MiB/s wall, ${perCore(ferry).toFixed(1)} MiB/s per CPU-second, ${(ferry.lines / (ferry.wallMs / 1000) / 1000).toFixed(0)}k lines/s (${(ferry.lines / (ferry.cpuMs / 1000) / 1000).toFixed(0)}k per CPU-second), ${ferry.rows?.toLocaleString('en')} rows, peak RSS ${ferry.maxRssMiB.toFixed(0)} MiB`);
      console.log(`  ratio (wall): ${(wall(ferry) / wall(base)).toFixed(2)}×   ratio (per CPU-second): ${(perCore(ferry) / perCore(base)).toFixed(2)}×   peak RSS within 256 MiB: ${ferry.maxRssMiB <= 256 ? 'yes' : 'NO'}`);
      console.log(`  floor (gunzip + split, plus gzip level 1 of Ferry's ${csvMiB.toFixed(0)} MiB of CSV, no parsing): ${perCore(floor).toFixed(1)} MiB/s per CPU-second — the best ratio a parser writing these outputs through Node's zlib could reach: ${(perCore(floor) / perCore(base)).toFixed(2)}×`);
      if (jsonFloors.length > 0) {
        const withParse = medianByCpu(jsonFloors);
        console.log(`  floor plus JSON.parse of every line: ${perCore(withParse).toFixed(1)} MiB/s per CPU-second, ratio ${(perCore(withParse) / perCore(base)).toFixed(2)}×`);
      }
      if (ferry.lines !== meta.lines || base.lines !== meta.lines) throw new Error(`line counts differ: generated ${meta.lines}, baseline ${base.lines}, ferry ${ferry.lines}`);
      await rm(join(storeDir, 'parsed'), { recursive: true, force: true });
    }
    await benchBatches(cache, store, storeDir, size);
  } finally {
    await rm(storeDir, { recursive: true, force: true });
  }
}

/**
 * The collector's raw objects as `ferry serve` writes them under load: many small batches (60
 * collections each, ≈ 150 KB), where the cost of each object (its reads, puts and compression
 * jobs) counts beside the cost of each line. One object per 2 MiB of --mib.
 */
async function benchBatches(cache: string, store: FsBlobStore, storeDir: string, size: number): Promise<void> {
  const count = Math.max(16, Math.round(size / mib / 2));
  const dir = join(cache, 'batches');
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  let raw = 0;
  let lines = 0;
  for (let b = 0; b < count; b++) {
    const file = join(dir, `${String(b).padStart(5, '0')}.ndjson.gz`);
    const meta = await generate(file, 1, (rand, i) => collectorLine(rand, b * 60 + i), 60);
    raw += meta.raw;
    lines += meta.lines;
    files.push(file);
    await store.put(`raw/events/2026/11/23/11/BATCH${String(b).padStart(5, '0')}.ndjson.gz`, createReadStream(file));
  }
  const rawMiB = raw / mib;
  console.log(`\ncollector batches: ${count} objects of 60 lines (${rawMiB.toFixed(0)} MiB uncompressed, ${lines.toLocaleString('en')} lines), as \`ferry serve\` writes them`);
  const clear = async () => {
    await rm(join(storeDir, 'parsed'), { recursive: true, force: true });
    await rm(join(storeDir, 'summaries'), { recursive: true, force: true });
  };
  for (const width of [1, 2]) {
    const { base, ferry, spread } = await runPair(['baseline', ...files], ['parse-many', storeDir, 'raw/events/2026/11/23/11/', String(width)], clear);
    if (ferry.lines !== lines) throw new Error(`line counts differ: generated ${lines}, ferry ${ferry.lines}`);
    if (width === 1) console.log(`  gunzip + split lines: ${(rawMiB / (base.wallMs / 1000)).toFixed(1)} MiB/s wall, ${(rawMiB / (base.cpuMs / 1000)).toFixed(1)} MiB/s per CPU-second`);
    console.log(`  ferry, ${width} at a time:   ${(rawMiB / (ferry.wallMs / 1000)).toFixed(1)} MiB/s wall, ${(rawMiB / (ferry.cpuMs / 1000)).toFixed(1)} MiB/s per CPU-second, ${((ferry.cpuMs * 1000) / ferry.rows!).toFixed(1)} µs of CPU per event, ${(ferry.cpuMs / count).toFixed(1)} ms per object; ratio per CPU-second ${(base.cpuMs / ferry.cpuMs).toFixed(2)}×, peak RSS ${ferry.maxRssMiB.toFixed(0)} MiB${spread}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
