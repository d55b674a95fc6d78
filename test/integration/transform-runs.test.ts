import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { RunRecorder } from '../../core/runs/run-records.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { PostgresTransform } from '../../core/transform/dialects/postgres.js';
import { loadProject, type Project } from '../../core/transform/project.js';
import { runTransforms, type TransformOptions } from '../../core/transform/run-transforms.js';
import { repoPath } from '../support/fixtures.js';
import { embeddedTestWarehouse } from '../support/embedded-warehouse.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { parseAndLoad, putCollection, putNginxLog } from '../support/transform-fixtures.js';

/**
 * The transform runner on real PostgreSQL and on the embedded PGlite: the example models over
 * events the parser and loader really stored, then the behaviours the issue asks for — a re-run
 * changes nothing, late data rebuilds its own date only, a broken model is retried up to the
 * day's maximum while its descendants wait and independent models run, two overlapping runs
 * never both build a model.
 */
const warehouses: [string, () => Promise<{ warehouse: Warehouse; ferry: string; models: string; cleanup: () => Promise<void> }>][] = [
  ['PostgreSQL', async () => {
    const ferry = uniqueSchema('tf');
    const models = uniqueSchema('tm');
    const warehouse = new PgWarehouse(testDatabaseUrl());
    return { warehouse, ferry, models, cleanup: async () => { await warehouse.close(); await dropSchema(ferry); await dropSchema(models); } };
  }],
  ['the embedded warehouse', async () => {
    const { warehouse, cleanup } = await embeddedTestWarehouse();
    return { warehouse, ferry: 'ferry', models: 'analytics', cleanup };
  }],
];

const day = (offset: number, from = new Date()) => new Date(Date.parse(`${from.toISOString().slice(0, 10)}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
const num = (v: unknown) => Number(v);

describe.each(warehouses)('example models on %s', (_name, open) => {
  let dir: string;
  let store: FsBlobStore;
  let warehouse: Warehouse;
  let ferry: string;
  let models: string;
  let cleanup: () => Promise<void>;
  let project: Project;
  let dialect: PostgresTransform;
  let runs = 0;
  const clock = { now: () => new Date() };
  const options = (overrides: Partial<TransformOptions> = {}): TransformOptions => ({
    warehouse, dialect, project, logger: silentLogger, clock, runId: `run-${++runs}`,
    runs: new RunRecorder(warehouse, 'postgres', ferry, silentLogger),
    maxAttemptsPerDay: 3, retryDelayMs: 0, parallelism: 3, runsRetentionDays: 30, ...overrides,
  });
  const rows = (sql: string) => warehouse.query(sql);
  const table = (name: string, order: string) => rows(`SELECT * FROM "${models}"."${name}" ORDER BY ${order}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-transform-'));
    store = new FsBlobStore(dir);
    ({ warehouse, ferry, models, cleanup } = await open());
    dialect = new PostgresTransform(ferry, models);
    project = await loadProject(repoPath('examples/models'), dialect.renderTarget(), day(0));
    // Eight days of an iOS, an Android and a web device (a steady volume); all received now.
    const keys: string[] = [];
    const now = new Date();
    for (let d = -8; d <= -1; d++) {
      keys.push(await putCollection(store, 'ios-two-events', { receivedAt: now, eventDay: day(d), device: `ios-${d}`, id: `01IOS${-d}` }));
      keys.push(await putCollection(store, 'android-env-number', { receivedAt: now, eventDay: day(d), device: `android-${d}`, id: `01AND${-d}` }));
      keys.push(await putCollection(store, 'web-quoted-values', { receivedAt: now, eventDay: day(d), device: `web-${d}`, id: `01WEB${-d}` }));
    }
    await putNginxLog(store, 'logs/nginx/2026/11/23/api-1.log.gz');
    keys.push('logs/nginx/2026/11/23/api-1.log.gz');
    const load = await parseAndLoad(store, warehouse, ferry, keys, 'load-1');
    expect(load.tables.every((t) => !t.error)).toBe(true);
  });
  afterAll(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds every example model in dependency order from the loaded events and logs, and checks them', async () => {
    const result = await runTransforms(options());
    expect(Object.fromEntries(result.models.map((m) => [m.model, m.outcome]))).toEqual({
      api_latency: 'built', daily_active_users: 'built', events_per_day: 'built', platform_share: 'built', task_events: 'built', task_funnel: 'built',
    });
    const order = result.models.map((m) => m.model);
    expect(order.indexOf('task_funnel')).toBeGreaterThan(order.indexOf('task_events'));
    expect(order.indexOf('platform_share')).toBeGreaterThan(order.indexOf('daily_active_users'));

    const dau = await table('daily_active_users', 'day, platform');
    expect(dau).toHaveLength(8 * 3);
    expect(dau.filter((r) => String(r.day) === day(-1)).map((r) => [r.platform, num(r.users)])).toEqual([['Android', 1], ['Windows', 1], ['iOS', 1]]);
    const perDay = await table('events_per_day', 'day, event');
    expect(perDay.filter((r) => String(r.day) === day(-2)).map((r) => [r.event, num(r.events)])).toEqual([['App.Close', 1], ['App.Open', 1], ['List.Share', 1], ['Task.Complete', 1], ['Task.Create', 1]]);
    const funnel = await table('task_funnel', 'day');
    expect(funnel.map((r) => [String(r.day), num(r.created), num(r.completed)])).toEqual(Array.from({ length: 8 }, (_, i) => [day(i - 8), 1, 1]));
    const share = await rows(`SELECT platform, share FROM "${models}".platform_share WHERE day = '${day(-1)}' ORDER BY platform`);
    expect(share.map((r) => [r.platform, Math.round(num(r.share) * 1000) / 1000])).toEqual([['Android', 0.333], ['Windows', 0.333], ['iOS', 0.333]]);
    // 12 api_requests rows from the nginx fixture, grouped by endpoint; Task.Read had 0.012 s.
    const latency = await table('api_latency', 'endpoint');
    expect(latency.reduce((n, r) => n + num(r.requests), 0)).toBeGreaterThan(0);
    expect(latency.find((r) => r.endpoint === 'Task.Read')).toMatchObject({ p50: expect.anything() });
    expect(num(latency.find((r) => r.endpoint === 'Task.Read')!.p50)).toBeCloseTo(0.012, 6);

    // Each model and check is a run record; the volume rule had 7 days of history for yesterday.
    const records = await rows(`SELECT stage, target, status, attempt FROM "${ferry}".runs WHERE run_id = '${result.runId}' ORDER BY stage, target`);
    expect(records.filter((r) => r.stage === 'transform').map((r) => [r.target, r.status])).toEqual(order.slice().sort().map((m) => [m, 'success']));
    expect(records.filter((r) => r.stage === 'check').every((r) => r.status === 'success')).toBe(true);
    expect(records.map((r) => r.target)).toContain('events_per_day.row_count_anomaly(day)');
  });

  it('changes nothing when run again on the same input', async () => {
    const before = await Promise.all(['daily_active_users', 'events_per_day', 'task_funnel', 'api_latency'].map((m) => table(m, '1, 2')));
    const again = await runTransforms(options());
    expect(again.models).toEqual([]);
    const after = await Promise.all(['daily_active_users', 'events_per_day', 'task_funnel', 'api_latency'].map((m) => table(m, '1, 2')));
    expect(after).toEqual(before);
  });

  it('rebuilds only the date late data touches in an incremental model', async () => {
    // Mark a day the late batch does not touch: a rebuild of it would restore the true count.
    await rows(`UPDATE "${models}".daily_active_users SET users = 999 WHERE day = '${day(-3)}' AND platform = 'iOS'`);
    const late = await putCollection(store, 'ios-two-events', { receivedAt: new Date(), eventDay: day(-6), device: 'ios-late', id: '01LATE' });
    await parseAndLoad(store, warehouse, ferry, [late], 'load-late');
    const result = await runTransforms(options());
    const byModel = Object.fromEntries(result.models.map((m) => [m.model, m]));
    expect(byModel.daily_active_users).toMatchObject({ outcome: 'built', mode: 'incremental', partitions: [day(-6)] });
    expect(byModel.events_per_day).toMatchObject({ outcome: 'built', mode: 'incremental', partitions: [day(-6)] });
    // api_latency reads only the nginx log, which did not change.
    expect(byModel.api_latency).toBeUndefined();
    const dau = await table('daily_active_users', 'day, platform');
    expect(dau.filter((r) => String(r.day) === day(-6) && r.platform === 'iOS').map((r) => num(r.users))).toEqual([2]);
    expect(dau.filter((r) => String(r.day) === day(-3) && r.platform === 'iOS').map((r) => num(r.users))).toEqual([999]);
    expect(dau).toHaveLength(8 * 3);
    // The funnel (a table over a view) was rebuilt whole: the late device created and completed.
    expect((await table('task_funnel', 'day')).find((r) => String(r.day) === day(-6))).toMatchObject({ created: expect.anything() });
    expect(num((await table('task_funnel', 'day')).find((r) => String(r.day) === day(-6))!.created)).toBe(2);
    // The same late batch loaded again changes nothing: its file is consumed.
    expect((await runTransforms(options())).models).toEqual([]);
  });

  it('lets one of two overlapping runs build, the other finds the lease taken', async () => {
    const [a, b] = await Promise.all([runTransforms(options({ fullRefresh: true })), runTransforms(options({ fullRefresh: true }))]);
    expect([a.skipped, b.skipped].filter((s) => s === 'locked')).toHaveLength(1);
    const ran = a.skipped ? b : a;
    expect(ran.models.every((m) => m.outcome === 'built')).toBe(true);
    const built = await rows(`SELECT target, count(*)::int AS n FROM "${ferry}".runs WHERE stage = 'transform' AND run_id IN ('${a.runId}', '${b.runId}') GROUP BY target`);
    expect(built.every((r) => r.n === 1)).toBe(true);
    expect(built).toHaveLength(6);
  });
});

describe.each(warehouses)('a failing model on %s', (_name, open) => {
  let dir: string;
  let warehouse: Warehouse;
  let ferry: string;
  let models: string;
  let cleanup: () => Promise<void>;
  let project: Project;
  let dialect: PostgresTransform;
  let now = new Date();
  let runs = 0;
  const clock = { now: () => now };
  const options = (overrides: Partial<TransformOptions> = {}): TransformOptions => ({
    warehouse, dialect, project, logger: silentLogger, clock, runId: `fail-${++runs}`,
    runs: new RunRecorder(warehouse, 'postgres', ferry, silentLogger),
    maxAttemptsPerDay: 3, retryDelayMs: 0, parallelism: 2, runsRetentionDays: 30, ...overrides,
  });
  const outcomes = (r: Awaited<ReturnType<typeof runTransforms>>) => Object.fromEntries(r.models.map((m) => [m.model, `${m.outcome}${m.attempt ? `#${m.attempt}` : ''}`]));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-models-'));
    await mkdir(join(dir, 'models'));
    const write = (name: string, sql: string) => writeFile(join(dir, 'models', name), sql);
    await write('broken.sql', "SELECT no_such_column FROM (SELECT 1 AS x) AS t\n");
    await write('broken_child.sql', "{{ config(materialized='view') }}\nSELECT * FROM {{ ref('broken') }}\n");
    await write('fine.sql', "SELECT 1 AS one, 'a' AS letter\n");
    await write('checked.sql', "SELECT 'x' AS letter UNION ALL SELECT 'z'\n");
    await write('checked.yml', 'columns:\n  - name: letter\n    tests:\n      - accepted_values: { values: [x, y] }\n');
    ({ warehouse, ferry, models, cleanup } = await open());
    dialect = new PostgresTransform(ferry, models);
    project = await loadProject(join(dir, 'models'), dialect.renderTarget(), day(0));
  });
  afterAll(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries a broken model at later runs up to the daily maximum; its descendants wait, independent models run', async () => {
    const first = await runTransforms(options());
    expect(outcomes(first)).toEqual({ broken: 'failed#1', broken_child: 'skipped', checked: 'failed#1', fine: 'built#1' });
    expect(first.models.find((m) => m.model === 'broken')!.error).toMatch(/no_such_column/);
    expect(outcomes(await runTransforms(options()))).toEqual({ broken: 'failed#2', broken_child: 'skipped', checked: 'failed#2' });
    expect(outcomes(await runTransforms(options()))).toEqual({ broken: 'failed#3', broken_child: 'skipped', checked: 'failed#3' });
    const fourth = await runTransforms(options());
    expect(outcomes(fourth)).toEqual({ broken: 'exhausted', broken_child: 'waiting', checked: 'exhausted' });

    const records = await warehouse.query(`SELECT target, status, attempt, error, log_excerpt FROM "${ferry}".runs WHERE stage = 'transform' ORDER BY started_at, target`);
    expect(records.filter((r) => r.target === 'broken').map((r) => [r.status, num(r.attempt)])).toEqual([['failed', 1], ['failed', 2], ['failed', 3]]);
    expect(records.find((r) => r.target === 'broken')!.log_excerpt).toMatch(/CREATE TABLE .*broken__ferry_new/);
    expect(records.filter((r) => r.target === 'broken_child').map((r) => [r.status, r.error])).toEqual(Array(3).fill(['skipped', 'upstream model broken failed']));
    expect(records.filter((r) => r.target === 'fine').map((r) => r.status)).toEqual(['success']);
    expect(await warehouse.query(`SELECT one FROM "${models}".fine`)).toEqual([{ one: 1 }]);
  });

  it('keeps the data of a model whose check fails, and records the check', async () => {
    expect((await warehouse.query(`SELECT letter FROM "${models}".checked ORDER BY letter`)).map((r) => r.letter)).toEqual(['x', 'z']);
    const checks = await warehouse.query(`SELECT target, status, rows::int AS n, error FROM "${ferry}".runs WHERE stage = 'check' AND target = 'checked.accepted_values(letter)' ORDER BY started_at`);
    expect(checks[0]).toEqual({ target: 'checked.accepted_values(letter)', status: 'failed', n: 1, error: '1 row fails accepted_values(letter)' });
  });

  it('waits out a doubling delay between attempts, and runs a repaired model at once when an operator asks', async () => {
    now = new Date(now.getTime() + 86_400_000); // a new day: the attempt count starts again
    const delayed = (o: Partial<TransformOptions> = {}) => options({ retryDelayMs: 60_000, select: ['broken'], ...o });
    expect(outcomes(await runTransforms(delayed()))).toEqual({ broken: 'failed#1' });
    now = new Date(now.getTime() + 30_000);
    expect(outcomes(await runTransforms(delayed()))).toEqual({ broken: 'waiting' });
    now = new Date(now.getTime() + 31_000);
    expect(outcomes(await runTransforms(delayed()))).toEqual({ broken: 'failed#2' });
    now = new Date(now.getTime() + 100_000); // the second wait is 120 s
    expect(outcomes(await runTransforms(delayed()))).toEqual({ broken: 'waiting' });
    expect(outcomes(await runTransforms(delayed({ manual: true })))).toEqual({ broken: 'failed#3' });
  });
});
