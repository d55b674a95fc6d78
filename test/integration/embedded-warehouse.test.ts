import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { runLoad } from '../../core/loader/load-run.js';
import { parseObject } from '../../core/parser/parse-object.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables } from '../../core/parser/rules/rule-set.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { ferryCli, startFerry, type FerryProcess } from '../support/ferry-process.js';
import { ferryQuery, waitFor } from '../support/ferry-query.js';
import { fixtureBytes, fixtureJson } from '../support/fixtures.js';
import { postTrack } from '../support/http-client.js';
import { PgliteWarehouse } from '../support/pglite-warehouse.js';

function ferry(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [ferryCli, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 120_000 });
}

/** The postmaster of a data dir's embedded server: pid and port from its postmaster.pid, if running. */
function postmaster(dataDir: string): { pid: number; port: number } | undefined {
  const path = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n');
  const pid = Number(lines[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  return { pid, port: Number(lines[3]) };
}

const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** What a psql session would get: a PostgreSQL client given only the printed URL and PGPASSFILE (in a child, as psql is). */
function clientQuery(url: string, passfile: string, sql: string): unknown[] {
  const script = `const pg = require('pg'); const c = new pg.Client({ connectionString: process.argv[1] }); c.connect().then(() => c.query(process.argv[2])).then((r) => { console.log(JSON.stringify(r.rows)); return c.end(); }).catch((e) => { console.error(e.message); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['-e', script, url, sql], { env: { PATH: process.env.PATH, PGPASSFILE: passfile, NODE_PATH: join(process.cwd(), 'node_modules') }, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`client failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as unknown[];
}

/** Makes the warehouse an earlier Ferry left: parsed events loaded into PGlite under <data>/warehouse, and a table a user made. */
async function legacyDataDir(): Promise<{ dataDir: string; events: number; manifest: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ferry-legacy-'));
  const store = new FsBlobStore(join(dataDir, 'store'));
  const ruleSets = await loadRuleSets([], { clockSkewThresholdS: 300 });
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  for (const [i, name] of ['ios-two-events', 'web-quoted-values'].entries()) {
    const raw = JSON.stringify({ received_at: new Date().toISOString(), sent_at: null, ip: '198.51.100.7', collection: fixtureJson(`collections/${name}.json`) });
    const key = `raw/events/${day}/10/01LEGACY${i}.ndjson.gz`;
    await store.put(key, gzipSync(`${raw}\n`));
    await parseObject({ store, logger: silentLogger, ruleSets }, { key });
  }
  const warehouse = await PgliteWarehouse.open(join(dataDir, 'warehouse'));
  try {
    const result = await runLoad({ store, warehouse, logger: silentLogger, tables: outputTables(ruleSets), schema: 'ferry', runId: 'legacy' });
    expect(result.tables.every((t) => !t.error)).toBe(true);
    await warehouse.query('CREATE TABLE public.notes (id int PRIMARY KEY, note text)');
    await warehouse.query(`INSERT INTO public.notes VALUES (1, 'kept, "quoted"; and multi\nline')`);
    const [counts] = await warehouse.query<{ events: number; manifest: number }>('SELECT (SELECT count(*)::int FROM ferry.events) AS events, (SELECT count(*)::int FROM ferry.load_manifest) AS manifest');
    return { dataDir, ...counts! };
  } finally {
    await warehouse.close();
  }
}

describe('the embedded warehouse (a PostgreSQL server under the data dir)', () => {
  const dirs: string[] = [];
  const servers: FerryProcess[] = [];
  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    for (const dir of dirs) {
      const left = postmaster(dir);
      if (left) process.kill(left.pid, 'SIGQUIT');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is reachable by any PostgreSQL client at the URL serve prints while serve runs, runs unprivileged, and stops with serve', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-embedded-'));
    dirs.push(dataDir);
    const env = { FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'warn', FERRY_LOAD_INTERVAL_S: '1' };
    const serve = await startFerry(env);
    servers.push(serve);
    const printed = /warehouse for psql and BI tools: (postgres:\/\/\S+) \(password in (\S+);/.exec(serve.stdout());
    expect(printed, serve.stdout()).not.toBeNull();
    const [, url, passfile] = printed!;
    expect(passfile).toBe(join(dataDir, 'pgpass'));
    expect(url).not.toContain(readFileSync(passfile!, 'utf8').trim().split(':').at(-1)); // no password in what is printed

    expect(await postTrack(serve.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    await waitFor(() => (Number(ferryQuery(env, 'select count(*)::int as n from ferry.events')[0]!.n) === 2 ? true : undefined), 'the events to load');
    expect(clientQuery(url!, passfile!, 'select event from ferry.events order by nr')).toEqual([{ event: 'Task.Create' }, { event: 'Task.Complete' }]);
    // A second client at once, while serve keeps its own connections.
    expect(ferry(['status'], env).status).toBe(0);

    const server = postmaster(dataDir)!;
    expect(server.port).toBe(Number(new URL(url!).port));
    expect(uidOf(server.pid)).not.toBe(0); // PostgreSQL under root runs as an unprivileged account
    if (process.getuid?.() !== 0) expect(uidOf(server.pid)).toBe(process.getuid!());

    serve.child.kill('SIGTERM');
    expect(await new Promise((resolve) => serve.child.on('exit', resolve))).toBe(0);
    expect(postmaster(dataDir)).toBeUndefined();
  });

  it('starts its server again when it is killed under serve, and loads what was collected meanwhile', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-embedded-'));
    dirs.push(dataDir);
    const env = { FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'warn', FERRY_LOAD_INTERVAL_S: '1' };
    const serve = await startFerry(env);
    servers.push(serve);
    const before = postmaster(dataDir)!;
    process.kill(before.pid, 'SIGKILL');
    expect(await postTrack(serve.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    await waitFor(() => (Number(ferryQuery(env, 'select count(*)::int as n from ferry.events')[0]!.n) === 2 ? true : undefined), 'the events to load after the restart');
    const after = postmaster(dataDir)!;
    expect(after.pid).not.toBe(before.pid);
    expect(after.port).toBe(before.port);
    expect(serve.stderr()).toContain('the embedded PostgreSQL server exited; starting it again');
    serve.child.kill('SIGTERM');
    expect(await new Promise((resolve) => serve.child.on('exit', resolve))).toBe(0);
    expect(postmaster(dataDir)).toBeUndefined();
  });

  it('keeps its port across restarts, takes over a server a killed serve left and starts it again when it dies, and names FERRY_EMBEDDED_PORT when that port is taken', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-embedded-'));
    dirs.push(dataDir);
    const env = { FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'warn', FERRY_LOAD_INTERVAL_S: '3600' };
    const first = await startFerry(env);
    servers.push(first);
    const port = postmaster(dataDir)!.port;
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.on('exit', resolve));
    const orphan = postmaster(dataDir);
    expect(orphan).toBeDefined(); // a kill -9 cannot stop it

    const second = await startFerry(env);
    servers.push(second);
    expect(postmaster(dataDir)).toEqual(orphan);
    // Taken over, it is watched as serve's own: killed, it is started again on its port.
    process.kill(orphan!.pid, 'SIGKILL');
    const restarted = await waitFor(() => {
      const now = postmaster(dataDir);
      return now && now.pid !== orphan!.pid ? now : undefined;
    }, 'the server taken over to be started again');
    expect(restarted.port).toBe(orphan!.port);
    expect(second.stderr()).toContain('the embedded PostgreSQL server exited; starting it again');
    await waitFor(() => (ferry(['query', 'select 1 as a', '--json'], env).stdout === '[{"a":1}]\n' ? true : undefined), 'a query on the server started again');
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.on('exit', resolve));
    expect(postmaster(dataDir)).toBeUndefined();

    const third = await startFerry(env);
    servers.push(third);
    expect(postmaster(dataDir)!.port).toBe(port);
    third.child.kill('SIGTERM');
    await new Promise((resolve) => third.child.on('exit', resolve));

    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const refused = ferry(['query', 'select 1'], { ...env, FERRY_EMBEDDED_PORT: String(port) });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain(`FERRY_EMBEDDED_PORT ${port} is in use by another program`);
      // Without the setting, the server takes another port and says so.
      const moved = ferry(['query', 'select 1 as a', '--json'], env);
      expect(moved.status, moved.stderr).toBe(0);
      expect(moved.stdout).toBe('[{"a":1}]\n');
      expect(moved.stderr).toContain('the embedded warehouse port is in use by another program');
    } finally {
      holder.close();
    }
  });

  it("moves the PGlite warehouse an earlier version left into the server once, rows, manifest and a user's table alike, keeping the old files", async () => {
    const legacy = await legacyDataDir();
    dirs.push(legacy.dataDir);
    expect(legacy.events).toBe(3); // two events and one
    const env = { FERRY_DATA_DIR: legacy.dataDir, FERRY_LOG_LEVEL: 'info' };
    // A backfill over the day finds every file loaded already: the manifest came along.
    const today = new Date().toISOString().slice(0, 10);
    const load = ferry(['load', '--from', today], env);
    expect(load.status, load.stderr).toBe(0);
    expect(load.stderr).toContain('moved the embedded warehouse from PGlite into the embedded PostgreSQL server');
    expect(JSON.parse(load.stdout).tables.find((t: { table: string }) => t.table === 'events').files).toBe(0);
    expect(ferryQuery(env, 'select count(*)::int as events, count(distinct (session, nr))::int as keys from ferry.events')).toEqual([{ events: legacy.events, keys: legacy.events }]);
    expect(ferryQuery(env, 'select count(*)::int as n from ferry.load_manifest')).toEqual([{ n: legacy.manifest }]);
    expect(ferryQuery(env, 'select note from public.notes')).toEqual([{ note: 'kept, "quoted"; and multi\nline' }]);
    expect(existsSync(join(legacy.dataDir, 'warehouse.pglite-migrated', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(legacy.dataDir, 'warehouse'))).toBe(false);
    // Once: the next command does not move anything again.
    const again = ferry(['query', 'select 1'], env);
    expect(again.stderr).not.toContain('moved the embedded warehouse');
  }, 120_000);

  it('refuses to start over a PGlite warehouse it cannot read, naming it and leaving it as it was', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-legacy-'));
    dirs.push(dataDir);
    await mkdir(join(dataDir, 'warehouse', 'base'), { recursive: true });
    await writeFile(join(dataDir, 'warehouse', 'PG_VERSION'), '17\n');
    await writeFile(join(dataDir, 'warehouse', 'base', 'damaged'), 'not a relation');
    const result = ferry(['serve'], { FERRY_DATA_DIR: dataDir, PORT: '0', FERRY_LOG_LEVEL: 'warn' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`could not read the PGlite warehouse in ${join(dataDir, 'warehouse')}`);
    expect(readFileSync(join(dataDir, 'warehouse', 'base', 'damaged'), 'utf8')).toBe('not a relation');
    expect(postmaster(dataDir)).toBeUndefined();
  }, 120_000);
});
