import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../support/fixtures.js';
import { ferryCli } from '../support/ferry-process.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

/** `ferry transform` as users run it: the built CLI in a child process (`npm test` builds it first). */
const ferry = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [ferryCli, 'transform', ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });

describe('ferry transform', () => {
  let dir: string;
  const ferrySchema = uniqueSchema('clif');
  const models = uniqueSchema('clim');
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-transform-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await dropSchema(ferrySchema);
    await dropSchema(models);
  });

  it('--dry-run prints the compiled SQL of every model in dependency order, touching no warehouse', () => {
    const out = ferry(['--dry-run'], { FERRY_MODELS: repoPath('examples/models') });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const headers = [...out.stdout.matchAll(/^-- (\w+): (\w+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(headers).toEqual(['api_latency:table', 'daily_active_users:incremental', 'events_per_day:incremental', 'platform_share:view', 'task_events:view', 'task_funnel:table']);
    expect(out.stdout).toContain('-- task_funnel: table (');
    expect(out.stdout).toContain('; after task_events)');
    expect(out.stdout).toContain(`CREATE TABLE "analytics"."daily_active_users__ferry_new" AS`);
    expect(out.stdout).toContain(`FROM "ferry"."events" e`);
    expect(out.stdout).toContain('ALTER TABLE "analytics"."task_funnel__ferry_new" RENAME TO "task_funnel";');
    // The PostgreSQL branch of the latency model, not the T-SQL one.
    expect(out.stdout).toMatch(/PERCENTILE_CONT\(0\.5\) WITHIN GROUP \(ORDER BY r\.request_time\) AS p50/);
  });

  it('--dry-run --select and --warehouse print a selection in another warehouse\'s SQL', () => {
    const out = ferry(['--dry-run', '--select', 'task_events+', '--warehouse', 'synapse'], { FERRY_MODELS: repoPath('examples/models'), FERRY_MODELS_SCHEMA: 'bi' });
    expect(out.status).toBe(0);
    expect([...out.stdout.matchAll(/^-- (\w+):/gm)].map((m) => m[1])).toEqual(['task_events', 'task_funnel']);
    expect(out.stdout).toContain('CREATE VIEW [bi].[task_events] AS');
    expect(out.stdout).toContain('RENAME OBJECT [bi].[task_funnel__ferry_new] TO [task_funnel];');
    expect(out.stdout).not.toMatch(/^BEGIN/m); // Synapse takes no DDL in a transaction
  });

  it.each([
    ['a ref() cycle', { 'a.sql': "SELECT * FROM {{ ref('b') }}", 'b.sql': "SELECT * FROM {{ ref('a') }}" }, 'b.sql: ref() cycle: a → b → a'],
    ['an unknown ref()', { 'a.sql': 'SELECT 1 AS x', 'b.sql': "SELECT * FROM {{ ref('c') }}" }, "b.sql: ref('c') names no model (models: a, b)"],
  ])('fails at start on %s, naming the file (exit 2)', async (name, files, message) => {
    const folder = join(dir, name.replace(/\W+/g, '-'));
    await mkdir(folder, { recursive: true });
    for (const [file, sql] of Object.entries(files)) await writeFile(join(folder, file), sql);
    for (const args of [['--dry-run'], []]) {
      const out = ferry(args, { FERRY_MODELS: folder, DATABASE_URL: testDatabaseUrl() });
      expect(out.status).toBe(2);
      expect(out.stderr).toBe(`ferry: invalid configuration\n  ${join(folder, message)}\n`);
    }
  });

  it('asks for FERRY_MODELS when it is not set', () => {
    const out = ferry(['--dry-run'], {});
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('FERRY_MODELS: is not set');
  });

  it('runs the selected models on the warehouse and prints what each did; a failing model exits 1', async () => {
    const folder = join(dir, 'run');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'one.sql'), 'SELECT 1 AS x');
    await writeFile(join(folder, 'two.sql'), "{{ config(materialized='view') }}SELECT x + 1 AS y FROM {{ ref('one') }}");
    await writeFile(join(folder, 'bad.sql'), 'SELECT nope FROM {{ ref(\'one\') }}');
    const env = { FERRY_MODELS: folder, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: ferrySchema, FERRY_MODELS_SCHEMA: models, FERRY_LOG_LEVEL: 'error' };
    const first = ferry(['--select', 'one+'], env);
    expect(first.status).toBe(1);
    const result = JSON.parse(first.stdout) as { models: { model: string; outcome: string }[] };
    expect(result.models.map((m) => [m.model, m.outcome]).sort()).toEqual([['bad', 'failed'], ['one', 'built'], ['two', 'built']]);
    const again = ferry(['--select', 'two'], env);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ models: [] });
    const refresh = ferry(['--select', 'two', '--full-refresh'], env);
    expect(JSON.parse(refresh.stdout)).toMatchObject({ models: [{ model: 'two', outcome: 'built', mode: 'view' }] });
  });
});
