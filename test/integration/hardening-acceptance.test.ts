import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionId } from '../../core/collector/session.js';
import { fixtureJson } from '../support/fixtures.js';
import { ferryCli, startFerry, type FerryProcess } from '../support/ferry-process.js';

const run = promisify(execFile);
const loadIntervalS = 2;

/** A signed-off collection of `count` payloads for one device, numbered from `firstNr`. */
function collection(device: string, firstNr: number, count: number, parameter = 'ok'): Record<string, unknown> {
  const base = fixtureJson('collections/web-quoted-values.json') as Record<string, unknown>;
  const c: Record<string, unknown> = { ...base, device_id: device };
  c.session = sessionId({ ...(c as Parameters<typeof sessionId>[0]), env: 4 });
  c.payloads = Array.from({ length: count }, (_, i) => ({
    at: 1700000000 + firstNr + i,
    event: `Acceptance.${firstNr + i}`,
    nr: firstNr + i,
    parameters: [{ name: 'p', value: parameter }],
  }));
  return c;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/v1/track`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Runs SQL through `ferry query --json` beside the running serve, as a user would. */
async function query(dataDir: string, sql: string): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, [ferryCli, 'query', '--json', sql], { env: { PATH: process.env.PATH, FERRY_DATA_DIR: dataDir } });
  return JSON.parse(stdout) as Record<string, unknown>[];
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function countEvents(dataDir: string, where: string): Promise<number> {
  const [row] = await query(dataDir, `select count(*)::int as n from ferry.events where ${where}`);
  return Number(row?.n ?? 0);
}

/** Writes the whole body before reading anything, as Python's http.client and mobile stacks do. */
function sendThenRead(url: string, bodyBytes: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', (err) => (answer ? resolve(answer) : reject(err)));
    socket.on('close', () => resolve(answer));
    const head = `POST /api/v1/track HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n`;
    socket.write(head);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < bodyBytes) {
        const n = Math.min(chunk.length, bodyBytes - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe('hardening acceptance, against a running ferry serve', () => {
  const dirs: string[] = [];
  const processes: FerryProcess[] = [];
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a NUL parameter neither wedges the table nor is lost; kill -9 under load loses nothing; re-sends once, collisions kept; 413 reaches a send-then-read client', { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-accept-'));
    dirs.push(dataDir);
    const ferry = await startFerry({ FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'error', FERRY_LOAD_INTERVAL_S: String(loadIntervalS) });
    processes.push(ferry);

    // One collection with a NUL parameter, then 100 valid ones: all queryable, the bad value replaced.
    const bad = await post(ferry.url, collection('accept-nul', 1, 1, 'a\u0000b'));
    expect(bad.status).toBe(200);
    expect(bad.json.replaced).toBe(1);
    for (let i = 0; i < 100; i++) expect((await post(ferry.url, collection(`accept-${i}`, 1, 1))).status).toBe(200);
    await eventually('101 events queryable', 30_000, async () => ((await countEvents(dataDir, `device_id like 'accept-%'`)) === 101 ? true : undefined));
    const [nul] = await query(dataDir, `select parameters->>'p' as p from ferry.events where device_id = 'accept-nul'`);
    expect(nul?.p).toBe('a\uFFFDb');

    // Same (session, nr), different content: both kept; an identical re-send: stored once.
    const first = collection('accept-collide', 5, 1, 'first');
    const other = collection('accept-collide', 5, 1, 'second');
    for (const body of [first, other, first]) expect((await post(ferry.url, body)).status).toBe(200);
    await eventually('colliding events loaded', 30_000, async () => ((await countEvents(dataDir, `device_id = 'accept-collide'`)) === 2 ? true : undefined));

    // kill -9 of ferry serve under load (its parse thread with it): after a restart on the same
    // data dir, which takes over the embedded server the killed serve left, every acknowledged
    // event is queryable once.
    const acknowledged: string[] = [];
    let stop = false;
    const client = async (worker: number) => {
      for (let i = 1; !stop; i++) {
        const device = `accept-kill-${worker}`;
        try {
          if ((await post(ferry.url, collection(device, i * 3, 3))).status === 200) acknowledged.push(`${device}/${i}`);
        } catch {
          // a refused or reset request is not acknowledged
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, w) => client(w));
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 20));
    const exited = new Promise((resolve) => ferry.child.once('exit', resolve));
    ferry.child.kill('SIGKILL');
    await exited;
    stop = true;
    await Promise.all(clients);
    const again = await startFerry({ FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'error', FERRY_LOAD_INTERVAL_S: String(loadIntervalS) });
    processes.push(again);
    // Each acknowledged request's three events, none twice (a request stored but not answered may be there too).
    const missing = await eventually('every acknowledged event queryable after serve was killed and started again', 30_000, async () => {
      const rows = await query(dataDir, `select device_id, nr, count(*)::int as n from ferry.events where device_id like 'accept-kill-%' group by 1, 2`);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      const stored = new Set(rows.map((r) => `${String(r.device_id)}/${String(r.nr)}`));
      const absent = acknowledged.filter((a) => {
        const [device, i] = [a.slice(0, a.lastIndexOf('/')), Number(a.slice(a.lastIndexOf('/') + 1))];
        return [0, 1, 2].some((k) => !stored.has(`${device}/${i * 3 + k}`));
      });
      return absent.length === 0 ? absent : undefined;
    });
    expect(missing).toEqual([]);

    // A 20 MiB body: the client that sends it all before reading reads 413, not a broken pipe.
    const answer = await sendThenRead(again.url, 20 * 1024 * 1024);
    expect(answer.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 413 /);
  });
});
