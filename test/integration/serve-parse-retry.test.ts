import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { postTrack } from '../support/http-client.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

/** Lines of the runner's JSON log whose message matches. */
function logLines(ferry: FerryProcess, msg: RegExp): Record<string, unknown>[] {
  return ferry.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => msg.test(String(l.msg)));
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('ferry serve retries a failed parse while it runs', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A runner loading into its own schema of the test PostgreSQL, and a client to count its rows. */
  async function serve(env: Record<string, string> = {}, prepare?: (dataDir: string) => Promise<void>) {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-parse-retry-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const schema = uniqueSchema('retry');
    cleanups.push(() => dropSchema(schema));
    await prepare?.(dataDir);
    const ferry = await startFerry({ FERRY_DATA_DIR: dataDir, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_LOAD_INTERVAL_S: '1', ...env });
    cleanups.push(async () => {
      if (ferry.child.exitCode !== null || ferry.child.signalCode !== null) return;
      const exited = new Promise((resolve) => ferry.child.once('exit', resolve));
      ferry.child.kill('SIGKILL');
      await exited;
    });
    const client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    cleanups.push(() => client.end());
    const count = async (sql: string) => {
      try {
        return Number((await client.query(sql.replaceAll('$schema', `"${schema}"`))).rows[0].n);
      } catch {
        return 0; // no load has created the table yet
      }
    };
    return { ferry, dataDir, count };
  }

  it('a parse that failed on storage is retried once storage works again', async () => {
    const { ferry, dataDir, count } = await serve({ FERRY_LOG_LEVEL: 'info' });
    // A file where the parser's output folder goes: every put of parsed output fails.
    const blocker = join(dataDir, 'store', 'parsed');
    await mkdir(join(dataDir, 'store'), { recursive: true });
    await writeFile(blocker, 'in the way');
    expect(await postTrack(ferry.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    await waitFor('the parse to fail', () => logLines(ferry, /^parse failed/).length > 0, 30_000);
    await rm(blocker);
    await waitFor('the events to load', async () => (await count(`SELECT count(*) AS n FROM $schema.events`)) === 2, 30_000);
    // One line for the failure, naming the input (not the output whose put failed); its retries' failures are not repeated.
    expect(logLines(ferry, /^parse failed/)).toEqual([
      expect.objectContaining({ msg: 'parse failed; retried while the runner runs', key: expect.stringMatching(/^raw\/events\//), object_key: expect.stringMatching(/^parsed\//) }),
    ]);
  }, 120_000);

  it('a log still being parsed when the next load tick scans its prefix is parsed once', async () => {
    const { ferry, dataDir, count } = await serve({ FERRY_RULES: repoPath('docs/rules/api-nginx.yml'), FERRY_LOG_LEVEL: 'info' });
    // Large enough that its parse outlasts several one-second ticks.
    const log = Buffer.concat(Array.from({ length: 12_000 }, () => fixtureBytes('logs/api-nginx.log')));
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const key = `logs/nginx/${today}/big.log`;
    // Put from another process's point of view: no in-process notification, the tick's scan finds it.
    await new FsBlobStore(join(dataDir, 'store')).put(key, log);
    await waitFor('the log to load', async () => (await count(`SELECT count(*) AS n FROM $schema.source_counts WHERE source_key = '${key}'`)) === 1, 120_000);
    await new Promise((r) => setTimeout(r, 2500)); // further ticks
    expect(logLines(ferry, /^parsed$/).filter((l) => l.key === key)).toHaveLength(1);
  }, 180_000);

  it('removes the temp files of puts a killed process left behind at start, and keeps those of live ones', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const { ferry, dataDir } = await serve({}, async (dir) => {
      await mkdir(join(dir, 'store', '.ferry-tmp'), { recursive: true });
      await writeFile(join(dir, 'store', '.ferry-tmp', `${dead}-1764000000000-0.data`), 'half a batch');
      await writeFile(join(dir, 'store', '.ferry-tmp', `${dead}-1764000000000-0.meta`), '{}');
      await writeFile(join(dir, 'store', '.ferry-tmp', `${process.pid}-1764000000000-1.data`), 'a put under way');
    });
    expect((await readdir(join(dataDir, 'store', '.ferry-tmp'))).sort()).toEqual([`${process.pid}-1764000000000-1.data`]);
    expect(logLines(ferry, /temp files/)).toEqual([expect.objectContaining({ files: 2 })]);
  }, 60_000);
});
