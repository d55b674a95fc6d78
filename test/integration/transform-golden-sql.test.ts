import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WarehouseKind } from '../../core/loader/load-dialect.js';
import { RunRecorder } from '../../core/runs/run-records.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { transformDialectFor } from '../../core/transform/dialects/transform-dialect-for.js';
import { loadProject, type Project } from '../../core/transform/project.js';
import { runTransforms, type TransformResult } from '../../core/transform/run-transforms.js';
import { modelVersions } from '../../core/transform/transform-state.js';
import { repoPath } from '../support/fixtures.js';
import { RecordingWarehouse, renderTranscript, type Answer } from '../support/recording-warehouse.js';

/**
 * The transforms on the warehouses that cannot run here, through the recording fake driver: one
 * transcript per materialization (table, view, incremental: first full build, then a run that
 * replaces one touched date) with the bookkeeping, lease and checks around it. Each is kept as a
 * golden file under `test/golden/transform/<dialect>/` (`FERRY_UPDATE_GOLDEN=1` rewrites them)
 * and parsed by sqlfluff when it is installed, like the loader's (golden-sql.test.ts).
 */
const run = promisify(execFile);
const cases: { kind: WarehouseKind; render: 'redshift' | 'tsql' }[] = [
  { kind: 'redshift', render: 'redshift' },
  { kind: 'azuresql', render: 'tsql' },
  { kind: 'synapse', render: 'tsql' },
  { kind: 'fabric', render: 'tsql' },
];
const materializations = ['table', 'view', 'incremental'] as const;
const now = new Date('2026-11-25T06:00:00.000Z');
const sqlfluff = inject('sqlfluff');
const noSqlfluff = !('version' in sqlfluff);

async function matchGolden(path: string, text: string) {
  const file = repoPath(`test/golden/transform/${path}`);
  if (process.env.FERRY_UPDATE_GOLDEN === '1') {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  expect(text).toBe(await readFile(file, 'utf8'));
}

/** Answers of a warehouse that loaded events and api_requests, holds `existing` models and `state`. */
function answers(existing: Record<string, 'BASE TABLE' | 'VIEW'>, state: Record<string, unknown>[]): (sql: string) => Answer {
  return (sql) => {
    if (/^UPDATE \S+transform_lease\S* SET run_id = /.test(sql)) return { count: 1 };
    if (/table_schema, table_name, table_type|TABLE_SCHEMA AS table_schema/.test(sql)) {
      return { rows: [{ table_schema: 'ferry', table_name: 'load_manifest', table_type: 'BASE TABLE' }, ...Object.entries(existing).map(([table_name, table_type]) => ({ table_schema: 'analytics', table_name, table_type }))] };
    }
    if (/AS files, MAX\(loaded_at\)/.test(sql)) return { rows: [{ table_name: 'events', files: '3', last_loaded_at: '2026-11-25 05:55:00' }, { table_name: 'api_requests', files: '1', last_loaded_at: '2026-11-25 05:55:00' }] };
    if (/FROM \S+transform_state/.test(sql) && /^SELECT/.test(sql)) return { rows: state };
    if (/AS \S*ferry_partition/.test(sql)) return { rows: [{ ferry_partition: '2026-11-19' }] };
    if (/AS \S*ferry_volume/.test(sql)) return { rows: ['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'].map((d) => ({ ferry_day: d, ferry_volume: 1000 })) };
    if (/AS \S*failures/.test(sql)) return { rows: [{ failures: 0 }] };
    if (/^(CREATE TABLE|SELECT \* INTO) \S+__ferry_new/.test(sql)) return { count: 42 };
    if (/^INSERT INTO \S+(daily_active_users|events_per_day)/.test(sql)) return { count: 3 };
    return undefined;
  };
}

describe.each(cases)('transforms through the $kind dialect (recording fake driver)', ({ kind, render }) => {
  let project: Project;
  const dialect = transformDialectFor(kind, 'ferry', 'analytics');
  const runOn = (warehouse: RecordingWarehouse, select: string[], runId: string): Promise<TransformResult> =>
    runTransforms({
      warehouse, dialect, project, logger: silentLogger, clock: { now: () => now }, runId, select,
      runs: new RunRecorder(warehouse, kind, 'ferry', silentLogger),
      maxAttemptsPerDay: 24, retryDelayMs: 60_000, parallelism: 1, runsRetentionDays: 90,
    });

  beforeAll(async () => {
    project = await loadProject(repoPath('examples/models'), dialect.renderTarget(), '2026-11-25');
  });

  it('rebuilds a table into a new table and swaps it in', async () => {
    const warehouse = new RecordingWarehouse(answers({ api_latency: 'BASE TABLE' }, []));
    const result = await runOn(warehouse, ['api_latency'], 'run-table');
    // Synapse runs the CTAS outside a transaction, where the driver reports no row count.
    expect(result.models).toMatchObject([{ model: 'api_latency', outcome: 'built', mode: 'table', rows: kind === 'synapse' ? null : 42 }]);
    const shapes = warehouse.shapes();
    const build = shapes.findIndex((s) => /__ferry_new/.test(s) && /^(CREATE TABLE|SELECT \* INTO)/.test(s));
    expect(build).toBeGreaterThan(-1);
    if (kind === 'synapse') {
      // No DDL in a Synapse transaction: CTAS, then two renames.
      expect(shapes.slice(build + 1, build + 3)).toEqual(['RENAME OBJECT [analytics].[api_latency] TO [api_latency__ferry_old]', 'RENAME OBJECT [analytics].[api_latency__ferry_new] TO [api_latency]']);
    } else {
      // Build, drop the old table and swap the new one in: one transaction.
      const begin = shapes.lastIndexOf('BEGIN', build);
      const commit = shapes.indexOf('COMMIT', build);
      expect(shapes.slice(begin, commit).some((s) => /RENAME|sp_rename/.test(s))).toBe(true);
      expect(shapes.slice(begin + 1, commit).every((s) => s !== 'BEGIN' && s !== 'COMMIT')).toBe(true);
    }
    await matchGolden(`${kind}/table.sql`, renderTranscript(warehouse.log, render));
  });

  it('replaces a view', async () => {
    const warehouse = new RecordingWarehouse(answers({ task_events: 'VIEW' }, []));
    const result = await runOn(warehouse, ['task_events'], 'run-view');
    expect(result.models).toMatchObject([{ model: 'task_events', outcome: 'built', mode: 'view' }]);
    expect(warehouse.shapes().some((s) => /^CREATE (OR ALTER )?VIEW \S+task_events/.test(s))).toBe(true);
    await matchGolden(`${kind}/view.sql`, renderTranscript(warehouse.log, render));
  });

  it('builds an incremental model whole at first, then replaces only the dates its new rows touch', async () => {
    const first = new RecordingWarehouse(answers({}, []));
    expect((await runOn(first, ['daily_active_users'], 'run-full')).models).toMatchObject([{ model: 'daily_active_users', outcome: 'built', mode: 'full' }]);
    // The files it read are marked consumed before the build reads them.
    const consumed = first.shapes().findIndex((s) => /^INSERT INTO \S+transform_inputs/.test(s));
    expect(consumed).toBeGreaterThan(-1);
    expect(consumed).toBeLessThan(first.shapes().findIndex((s) => /__ferry_new/.test(s) && /^(CREATE TABLE|SELECT \* INTO)/.test(s)));

    const versions = modelVersions(project, new Map([['events', `3:${new Date('2026-11-25T05:55:00Z').toISOString()}`], ['api_requests', `1:${new Date('2026-11-25T05:55:00Z').toISOString()}`]]), (m) => m.template.render({ runDate: '2026-11-25', incremental: false }));
    const v = versions.get('daily_active_users')!;
    const state = [{ model: 'daily_active_users', version: 'older', template_hash: v.templateHash, refs_version: v.refsVersion, built_at: '2026-11-25 05:00:00.000' }];
    const second = new RecordingWarehouse(answers({ daily_active_users: 'BASE TABLE' }, state));
    expect((await runOn(second, ['daily_active_users'], 'run-incremental')).models).toMatchObject([
      { model: 'daily_active_users', outcome: 'built', mode: 'incremental', partitions: ['2026-11-19'], rows: 3 },
    ]);
    const shapes = second.shapes();
    const del = shapes.findIndex((s) => /^DELETE FROM \S+daily_active_users/.test(s));
    expect(second.log[del]).toMatchObject({ inTransaction: true });
    expect(shapes[del + 1]).toMatch(/^INSERT INTO \S+daily_active_users/);
    await matchGolden(`${kind}/incremental.sql`, `${renderTranscript(first.log, render)}${renderTranscript(second.log, render)}`);
  });
});

describe('golden transform SQL parsed by sqlfluff', () => {
  let dir: string | undefined;
  let config: string;
  beforeAll(async () => {
    if (noSqlfluff) return;
    dir = await mkdtemp(join(tmpdir(), 'ferry-sqlfluff-transform-'));
    config = join(dir, '.sqlfluff');
    await writeFile(config, '[sqlfluff]\nlarge_file_skip_byte_limit = 0\n');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function parse(sql: string, dialect: string, name: string): Promise<{ code: number; problems: string[] }> {
    const file = join(dir!, name.replaceAll('/', '-'));
    await writeFile(file, sql);
    try {
      const { stdout, stderr } = await run('sqlfluff', ['parse', '--config', config, '--dialect', dialect, file], { maxBuffer: 64 * 1024 * 1024 });
      const skipped = `${stdout}\n${stderr}`.split('\n').filter((l) => /skipping/i.test(l));
      return { code: skipped.length > 0 ? 1 : 0, problems: skipped };
    } catch (err) {
      const { code, stdout } = err as { code: number; stdout: string };
      return { code, problems: stdout.split('\n').filter((l) => / PRS /.test(l)) };
    }
  }

  it('has a golden file per dialect and materialization', async () => {
    for (const { kind } of cases) expect((await readdir(repoPath(`test/golden/transform/${kind}`))).sort()).toEqual(materializations.map((m) => `${m}.sql`).sort());
  });

  it.skipIf(noSqlfluff)('parses every golden transform statement with sqlfluff', { timeout: 900_000 }, async () => {
    const results = await Promise.all(
      cases.flatMap(({ kind, render }) =>
        materializations.map(async (m) => {
          const name = `${kind}/${m}.sql`;
          const sql = await readFile(repoPath(`test/golden/transform/${name}`), 'utf8');
          return { name, ...(await parse(sql, render === 'tsql' ? 'tsql' : 'redshift', name)) };
        }),
      ),
    );
    for (const r of results) expect({ file: r.name, problems: r.problems, code: r.code }).toEqual({ file: r.name, problems: [], code: 0 });
  });
});
