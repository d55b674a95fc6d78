import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ferryArgs, runFerry } from '../support/ferry-process.js';
import { repoPath } from '../support/fixtures.js';

function query<T>(sql: string, env: Record<string, string>): T[] | undefined {
  const result = runFerry(['query', sql, '--json'], env);
  return result.status === 0 ? (JSON.parse(result.stdout) as T[]) : undefined;
}

async function waitFor<T>(probe: () => T | undefined, what: string, attempts = 300): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('log lines as nginx 1.22 and application loggers write them, through ferry serve into the warehouse', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loads every accepted line: leading zeros, a hostile user, surplus spaces, NUL replaced, "" apart from NULL', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ferry-log-lines-'));
    const env = {
      FERRY_DATA_DIR: dataDir, PORT: '0', FERRY_LOAD_INTERVAL_S: '1', FERRY_LOG_LEVEL: 'warn',
      FERRY_RULES: `${repoPath('docs/rules/api-nginx.yml')},${repoPath('docs/rules/app-json.yml')}`,
    };
    child = spawn(process.execPath, ferryArgs('serve'), { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    await waitFor(() => (stdout.includes('collecting on') ? true : undefined), 'serve to start');
    expect(runFerry(['put', repoPath('test/fixtures/logs/api-nginx-edge-cases.log'), 'logs/nginx/2026/11/23/edges.log'], env).status).toBe(0);
    expect(runFerry(['put', repoPath('test/fixtures/logs/app-json-edge-cases.log'), 'logs/app/2026/11/23/edges.log'], env).status).toBe(0);

    // Both inputs parsed (their summaries are in ferry.source_counts) and every parsed file loaded,
    // or a load failed: a value the warehouse refuses holds its table back at every tick.
    const report = await waitFor(() => {
      const st = runFerry(['status', '--json', '--older-than', '0'], env);
      const status = JSON.parse(st.stdout || '{}') as { unloaded?: unknown[]; tables?: { table: string; rows: number; latest_failure: { message: string } | null }[] };
      // Both logs loaded (the rejected lines' own records, under raw/rejections/, add a third summary).
      if (!status.tables || !['api_requests', 'app_events'].every((name) => (status.tables!.find((t) => t.table === name)?.rows ?? 0) > 0)) return undefined;
      return status.unloaded?.length === 0 || status.tables.some((t) => t.latest_failure) ? status : undefined;
    }, 'both inputs to be parsed and loaded', 120);
    expect(report.tables!.map((t) => t.latest_failure?.message ?? null)).toEqual(report.tables!.map(() => null));
    const counts = query<{ api: number; app: number }>('select (select count(*)::int from ferry.api_requests) as api, (select count(*)::int from ferry.app_events) as app', env);
    expect(counts).toEqual([{ api: 16, app: 4 }]);

    const api = query<Record<string, unknown>>(
      `select object_id::text as object_id, path, user_agent from ferry.api_requests where line_number in (1, 4, 5, 7, 8, 10, 15, 17) order by line_number`,
      env,
    );
    expect(api).toEqual([
      { object_id: '42', path: '/api/v1/tasks/00000000000000000042', user_agent: 'okhttp/4.12.0' },
      { object_id: '51', path: '/api/v1/tasks/51', user_agent: 'curl/8.5.0' },
      { object_id: '52', path: '/api/v1/tasks/52', user_agent: 'curl/8.5.0' },
      { object_id: '7', path: '/api/v1/lists/7', user_agent: '' },
      { object_id: '8', path: '/api/v1/lists/8', user_agent: null },
      { object_id: null, path: '/api/v1/tasks/55\uFFFD\uFFFD', user_agent: null },
      { object_id: '9223372036854775807', path: '/api/v1/tasks/000009223372036854775807', user_agent: 'curl/8.5.0' },
      { object_id: null, path: '/api/v1/tasks', user_agent: '' },
    ]);
    const app = query<Record<string, unknown>>(`select user_id, status::text as status, context->>'title' as title, context->>'note' as note from ferry.app_events order by line_number`, env);
    expect(app).toEqual([
      { user_id: 'u-\uFFFD-7', status: '200', title: 'a\uFFFDb', note: null },
      { user_id: 'u-8', status: null, title: null, note: '\uFFFD cut emoji' },
      { user_id: '', status: null, title: null, note: null },
      { user_id: null, status: '200', title: null, note: null },
    ]);

    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child!.on('exit', resolve))).toBe(0);
  });
});
