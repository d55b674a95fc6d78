import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { EmfMetrics, type EmfDocument } from '../../core/metrics/emf-metrics.js';
import { PrometheusMetrics } from '../../core/metrics/prometheus-metrics.js';
import { RunRecorder } from '../../core/runs/run-records.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { PostgresTransform } from '../../core/transform/dialects/postgres.js';
import { loadProject, type Project } from '../../core/transform/project.js';
import { runTransforms, type TransformOptions } from '../../core/transform/run-transforms.js';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

/**
 * Transform runs through the metrics port: models by outcome, checks by result and the
 * durations, on real PostgreSQL, read back from the Prometheus text `/metrics` serves and from
 * the EMF documents Lambda's load function writes.
 */
describe('transform metrics', () => {
  const ferry = uniqueSchema('tmf');
  const models = uniqueSchema('tmm');
  const warehouse = new PgWarehouse(testDatabaseUrl());
  let dir: string;
  let project: Project;
  let dialect: PostgresTransform;
  let runs = 0;
  const options = (metrics: TransformOptions['metrics'], overrides: Partial<TransformOptions> = {}): TransformOptions => ({
    warehouse, dialect, project, logger: silentLogger, clock: { now: () => new Date() }, runId: `metrics-${++runs}`,
    runs: new RunRecorder(warehouse, 'postgres', ferry, silentLogger),
    maxAttemptsPerDay: 3, retryDelayMs: 0, parallelism: 2, runsRetentionDays: 30, metrics, ...overrides,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-transform-metrics-'));
    await mkdir(join(dir, 'models'));
    const write = (name: string, sql: string) => writeFile(join(dir, 'models', name), sql);
    await write('broken.sql', 'SELECT no_such_column FROM (SELECT 1 AS x) AS t\n');
    await write('broken_child.sql', "{{ config(materialized='view') }}\nSELECT * FROM {{ ref('broken') }}\n");
    await write('fine.sql', "SELECT 1 AS one, 'a' AS letter\n");
    await write('fine.yml', 'columns:\n  - name: one\n    tests: [not_null, unique]\n');
    await write('checked.sql', "SELECT 'x' AS letter UNION ALL SELECT 'z'\n");
    await write('checked.yml', 'columns:\n  - name: letter\n    tests:\n      - accepted_values: { values: [x, y] }\n');
    dialect = new PostgresTransform(ferry, models);
    project = await loadProject(join(dir, 'models'), dialect.renderTarget(), new Date().toISOString().slice(0, 10));
  });
  afterAll(async () => {
    await warehouse.close();
    await Promise.all([dropSchema(ferry), dropSchema(models)]);
    await rm(dir, { recursive: true, force: true });
  });

  it('counts models by outcome and checks by result, and times the run and each model built', async () => {
    const metrics = new PrometheusMetrics();
    const result = await runTransforms(options(metrics));
    expect(Object.fromEntries(result.models.map((m) => [m.model, m.outcome]))).toEqual({ broken: 'failed', broken_child: 'skipped', checked: 'failed', fine: 'built' });
    const { samples } = parseExposition((await metrics.render()).text);
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);
    expect([value('ferry_transform_models_total', { outcome: 'built' }), value('ferry_transform_models_total', { outcome: 'failed' }), value('ferry_transform_models_total', { outcome: 'skipped' })]).toEqual([1, 2, 1]);
    // fine's not_null and unique pass; checked's accepted_values fails.
    expect([value('ferry_transform_checks_total', { result: 'pass' }), value('ferry_transform_checks_total', { result: 'fail' })]).toEqual([2, 1]);
    expect(value('ferry_transform_run_seconds_count')).toBe(1);
    // broken, checked and fine were built (or tried); broken_child was skipped without a build.
    expect(value('ferry_transform_model_seconds_count')).toBe(3);

    // A run that finds the lease taken is timed, with no model counted.
    const emf: EmfDocument[] = [];
    const cloud = new EmfMetrics('Ferry', (line) => emf.push(JSON.parse(line) as EmfDocument));
    const holder = `holder-${runs}`;
    await warehouse.transaction((tx) => tx.execute(dialect.takeLease(), [holder, 300]));
    try {
      expect(await runTransforms(options(cloud))).toMatchObject({ skipped: 'locked', models: [] });
    } finally {
      await warehouse.transaction((tx) => tx.execute(dialect.releaseLease(), [holder]));
    }
    cloud.flush();
    expect(emf.flatMap((d) => d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name))).toEqual(['ferry_transform_run_seconds']);

    // The second attempt: fine is current, so only the two failed models are due, and broken_child is skipped again.
    await runTransforms(options(cloud));
    cloud.flush();
    const counted = emf.filter((d) => 'ferry_transform_models_total' in d).map((d) => [d.outcome, d.ferry_transform_models_total]);
    expect(counted.sort()).toEqual([['failed', 2], ['skipped', 1]]);
    expect(emf.find((d) => 'ferry_transform_checks_total' in d)).toMatchObject({ result: 'fail', ferry_transform_checks_total: 1 });
  });
});
