import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureBytes } from '../support/fixtures.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { postTrack } from '../support/http-client.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { switchableProxy } from '../support/tcp-proxy.js';

/** What a raw client read back: the status line, the headers (lower case) and the body. */
interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseResponse(raw: string): RawResponse {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** Connects to a `http://host:port` URL. */
async function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Writes `data` and waits until the kernel took it; rejects with the write's error (EPIPE, ECONNRESET). */
function write(socket: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Reads what the server sends until it closes the connection. */
function readToClose(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.once('error', reject);
    socket.once('end', () => resolve(text));
  });
}

/** Lines of the child's JSON log whose message matches. */
function logLines(ferry: FerryProcess, msg: RegExp): Record<string, unknown>[] {
  return ferry.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => msg.test(String(l.msg)));
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(ferry: FerryProcess): Promise<number | null> {
  if (ferry.child.exitCode !== null) return Promise.resolve(ferry.child.exitCode);
  return new Promise((resolve) => ferry.child.once('exit', (code) => resolve(code)));
}


describe('ferry serve at the HTTP edges', () => {
  // Each test's runner and helpers go when the test ends: runners left alive slow the others down.
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  /** A runner loading into its own schema of the test PostgreSQL (quicker to start than the embedded one), unless `env` says otherwise. */
  async function serve(env: Record<string, string> = {}): Promise<FerryProcess> {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-http-edges-'));
    const schema = uniqueSchema('edges');
    cleanups.push(() => dropSchema(schema));
    const ferry = await startFerry({ FERRY_DATA_DIR: dataDir, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, ...env });
    cleanups.push(async () => {
      if (ferry.child.exitCode === null && ferry.child.signalCode === null) {
        ferry.child.kill('SIGKILL');
        await exited(ferry);
      }
      await rm(dataDir, { recursive: true, force: true });
    });
    return ferry;
  }

  it('answers a 20 MiB body 413 to a client that sends it whole before reading (Python http.client, mobile stacks)', async () => {
    const ferry = await serve();
    const body = Buffer.alloc(20 * 1024 * 1024, 'x');
    const socket = await open(ferry.url);
    // The whole request first, as such clients do; a connection the server reset fails a write here.
    await write(socket, `POST /api/v1/track HTTP/1.1\r\nHost: ferry\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let offset = 0; offset < body.length; offset += 64 * 1024) await write(socket, body.subarray(offset, offset + 64 * 1024));
    const response = parseResponse(await readToClose(socket));
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(response.body)).toEqual({ error: expect.stringMatching(/FERRY_MAX_BODY_BYTES=1048576/) });
    // The server is none the worse for it.
    expect(await postTrack(ferry.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
  }, 60_000);

  it('while stopping, answers new requests 503 with Retry-After and finishes the one in flight', async () => {
    const ferry = await serve({ FERRY_LOG_LEVEL: 'error' });
    const collection = fixtureBytes('collections/ios-two-events.json');
    // A request whose body is still arriving when the stop begins.
    const inFlight = await open(ferry.url);
    await write(inFlight, `POST /api/v1/track HTTP/1.1\r\nHost: ferry\r\nContent-Type: application/json\r\nContent-Length: ${collection.length}\r\n\r\n`);
    await write(inFlight, collection.subarray(0, 10));
    const inFlightResponse = readToClose(inFlight);
    await new Promise((r) => setTimeout(r, 200));

    ferry.child.kill('SIGTERM');
    await waitFor('the stop to begin', () => ferry.stdout().includes('stopping'));
    const late = await fetch(`${ferry.url}/api/v1/track`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(collection) });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('5');
    expect(late.headers.get('connection')).toBe('close');
    expect(await late.json()).toEqual({ error: 'shutting down' });

    await write(inFlight, collection.subarray(10));
    const answered = parseResponse(await inFlightResponse);
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toEqual({ stored: 2 });
    expect(await exited(ferry)).toBe(0);
  }, 60_000);

  it('prints the address it really listens on, set by FERRY_HOST', async () => {
    const everywhere = await serve();
    expect(everywhere.stdout()).toMatch(/listening on 0\.0\.0\.0:\d+ \(every IPv4 interface\)/);
    const local = await serve({ FERRY_HOST: '127.0.0.1' });
    expect(local.stdout()).toMatch(/listening on 127\.0\.0\.1:\d+ \(this machine only\)/);
    expect(await postTrack(local.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
  }, 60_000);

  it.each([
    ['a missing database', { pathname: '/ferry_no_such_database' }, /database "ferry_no_such_database" does not exist/],
    ['a role that does not exist', { username: 'ferry_no_such_role' }, /role "ferry_no_such_role" does not exist/],
    ['a port nothing listens on', { port: '1' }, /ECONNREFUSED/],
  ])('with DATABASE_URL to %s: warns naming the problem, is not ready, keeps collecting and logs it once', async (_name, change, problem) => {
    const url = Object.assign(new URL(testDatabaseUrl()), change).toString();
    const ferry = await serve({ DATABASE_URL: url, FERRY_LOAD_INTERVAL_S: '1' });
    const warnings = logLines(ferry, /warehouse unreachable/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'error', error: expect.stringMatching(problem) });

    const ready = await fetch(`${ferry.url}/api/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: string }).error).toMatch(problem);
    expect(await postTrack(ferry.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    // Several load ticks later: still the one line, and no failed load per tick.
    await new Promise((r) => setTimeout(r, 3500));
    expect(logLines(ferry, /warehouse unreachable/)).toHaveLength(1);
    expect(logLines(ferry, /^load/).filter((l) => l.level === 'error')).toEqual([]);
  }, 60_000);

  it('loads what it collected during a warehouse outage once the warehouse answers, with one line when it recovers', async () => {
    const database = new URL(testDatabaseUrl());
    const proxy = await switchableProxy(database.hostname, Number(database.port || 5432), false);
    cleanups.push(() => proxy.close());
    const schema = uniqueSchema('outage');
    cleanups.push(() => dropSchema(schema));
    const url = new URL(testDatabaseUrl());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const ferry = await serve({ DATABASE_URL: url.toString(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_LOAD_INTERVAL_S: '1' });
    expect((await fetch(`${ferry.url}/api/ready`)).status).toBe(503);
    expect(await postTrack(ferry.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));

    proxy.up = true;
    const client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    cleanups.push(() => client.end());
    const loaded = async () => {
      try {
        return Number((await client.query(`SELECT count(*) AS n FROM "${schema}".events`)).rows[0].n);
      } catch {
        return 0; // not created yet
      }
    };
    await waitFor('the events to load', async () => (await loaded()) === 2);
    expect((await fetch(`${ferry.url}/api/ready`)).status).toBe(200);
    expect(logLines(ferry, /warehouse unreachable/)).toHaveLength(1);
    expect(logLines(ferry, /warehouse reachable again/)).toHaveLength(1);
  }, 60_000);
});
