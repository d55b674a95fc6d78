import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ferryArgs, runFerry } from '../support/ferry-process.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { postTrack } from '../support/http-client.js';

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, attempts = 300): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('ferry CLI (the built bundle, as a user runs it)', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('exits non-zero naming every bad configuration key', () => {
    const result = runFerry(['serve'], { PORT: 'http', FERRY_LOAD_INTERVAL_S: '-1' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('PORT: must be a whole number');
    expect(result.stderr).toContain('FERRY_LOAD_INTERVAL_S');
  });

  it('serve → curl → query shows the events, and Ctrl-C stops cleanly after loading what it accepted', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-cli-'));
    dirs.push(dataDir);
    const env = { FERRY_DATA_DIR: dataDir, PORT: '0', FERRY_LOAD_INTERVAL_S: '1', FERRY_LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, ferryArgs('serve'), { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const url = await waitFor(async () => /collecting on (http:\/\/[^/]+)/.exec(stdout)?.[1], 'the collector to listen');

    expect(await postTrack(url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    const health = await fetch(`${url}/api/health`);
    expect(await health.json()).toEqual({ up: true });

    // While serve runs, query connects to the embedded warehouse's server that serve started.
    await waitFor(async () => {
      const q = runFerry(['query', 'select count(*)::int as n from ferry.events', '--json'], env);
      return q.status === 0 && JSON.parse(q.stdout)[0].n === 2 ? true : undefined;
    }, 'the events to be loaded');
    const table = runFerry(['query', "select event, nr from ferry.events order by nr"], env);
    expect(table.stdout).toBe(' event         | nr\n---------------+----\n Task.Create   | 41\n Task.Complete | 42\n(2 rows)\n');

    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stdout).toContain('stopping');

    // After the stop, query opens the embedded warehouse itself; nothing was lost or doubled.
    const after = runFerry(['query', 'select count(*)::int as n, count(distinct nr)::int as d from ferry.events', '--json'], env);
    expect(after.status).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual([{ n: 2, d: 2 }]);
  });

  it('refuses a second serve on a data dir in use', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-cli-'));
    dirs.push(dataDir);
    const env = { FERRY_DATA_DIR: dataDir, PORT: '0', FERRY_LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, ferryArgs('serve'), { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    await waitFor(async () => (stdout.includes('collecting on') ? true : undefined), 'the first serve');
    const second = runFerry(['serve'], env);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/in use by process \d+/);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  });

  it('parses a log stored with ferry put using the README example rules, and names a bad rules file', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-cli-'));
    dirs.push(dataDir);
    const env = { FERRY_DATA_DIR: dataDir, PORT: '0', FERRY_LOAD_INTERVAL_S: '1', FERRY_LOG_LEVEL: 'warn', FERRY_RULES: repoPath('docs/rules/api-nginx.yml') };
    const child = spawn(process.execPath, ferryArgs('serve'), { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    await waitFor(async () => (stdout.includes('collecting on') ? true : undefined), 'serve to start');

    // The README's example key: no date in it, so the partition is the day it was stored.
    const put = runFerry(['put', repoPath('test/fixtures/logs/api-nginx.log'), 'logs/nginx/api-1.log'], env);
    expect(put.status).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ key: 'logs/nginx/api-1.log' });
    await waitFor(async () => {
      const q = runFerry(['query', 'select count(*)::int as n from ferry.api_requests', '--json'], env);
      return q.status === 0 && JSON.parse(q.stdout)[0].n === 12 ? true : undefined;
    }, 'the log rows to be loaded');
    // The log's 3 rejected lines reach the rejections table one load window after its parse, by way of raw/rejections/.
    await waitFor(async () => {
      const q = runFerry(['query', "select count(*)::int as n from ferry.rejections where kind = 'row' and message like 'logs/nginx/api-1.log line %'", '--json'], env);
      return q.status === 0 && JSON.parse(q.stdout)[0].n === 3 ? true : undefined;
    }, 'the rejected lines to be loaded');
    // While serve runs, status reads the same server: everything loaded, nothing failed.
    await waitFor(async () => {
      const st = runFerry(['status', '--json', '--older-than', '0'], env);
      const report = JSON.parse(st.stdout) as { unloaded: unknown[]; tables: { table: string; rows: number }[] };
      // The log's summary and the summary of the rejections object that holds its rejected lines.
      return st.status === 0 && report.unloaded.length === 0 && report.tables.find((t) => t.table === 'source_counts')!.rows >= 2 ? report : undefined;
    }, 'status to show everything loaded');
    const text = runFerry(['status'], env);
    expect(text.stdout).toMatch(/^api_requests: 1 files, 12 rows, last load \d{4}-/m);
    // A backfill runs beside serve's own loads: everything is loaded already, so it loads nothing again.
    const today = new Date().toISOString().slice(0, 10);
    const beside = runFerry(['load', '--from', today, '--to', today], env);
    expect(beside.status, beside.stderr).toBe(0);
    expect(JSON.parse(beside.stdout).tables.every((t: { files: number }) => t.files === 0)).toBe(true);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    // A backfill over the day re-runs idempotently.
    const backfill = runFerry(['load', '--from', today, '--to', today], env);
    expect(backfill.status, backfill.stderr).toBe(0);
    expect(JSON.parse(backfill.stdout).tables.every((t: { files: number }) => t.files === 0)).toBe(true);
    expect(runFerry(['load', '--from', today, '--to', '2000-01-01'], env).stderr).toContain('is before --from');
    const nowhere = runFerry(['put', repoPath('test/fixtures/logs/api-nginx.log'), 'uploads/x.log'], env);
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toContain('no rules file in force handles uploads/x.log');

    const bad = join(dataDir, 'bad.yml');
    await (await import('node:fs/promises')).writeFile(bad, 'source: x\nprefix: logs/x/\ndialects: [nginx_combined]\nrules:\n  - match_method: GET\n    tabel: y\n');
    const refused = runFerry(['serve'], { ...env, FERRY_RULES: bad });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`${bad}: rules[0].tabel: is not a rule keyword`);
  });
});
