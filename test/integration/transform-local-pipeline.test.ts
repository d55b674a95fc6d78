import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { startLocalPipeline } from '../../functions/local/local-pipeline.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { postTrack } from '../support/http-client.js';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';

/** The local runner runs the models after its loads, on its embedded warehouse. */
describe('transforms in the local pipeline', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('builds the models after a load tick, records the load and each model in ferry.runs, and counts them on /metrics', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-local-transform-'));
    const config = readConfig({ FERRY_DATA_DIR: dir, PORT: '0', FERRY_HOST: '127.0.0.1', FERRY_LOAD_INTERVAL_S: '3600', FERRY_MODELS: repoPath('examples/models'), FERRY_RULES: repoPath('docs/rules/api-nginx.yml'), FERRY_LOG_LEVEL: 'error' });
    const pipeline = await startLocalPipeline(config, silentLogger);
    try {
      expect(await postTrack(pipeline.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
      await pipeline.parsed();
      await pipeline.loadNow();
      const w = pipeline.warehouse;
      expect(await w.query('SELECT platform, users::int AS users FROM analytics.daily_active_users')).toEqual([{ platform: 'iOS', users: 1 }]);
      expect(await w.query('SELECT created::int AS created, completed::int AS completed FROM analytics.task_funnel')).toEqual([{ created: 1, completed: 1 }]);
      const runs = await w.query<{ stage: string; n: number }>("SELECT stage, count(*)::int AS n FROM ferry.runs WHERE status = 'success' GROUP BY stage ORDER BY stage");
      expect(runs.map((r) => r.stage)).toEqual(['check', 'load', 'transform']);
      expect(runs.find((r) => r.stage === 'transform')!.n).toBe(6);
      const checks = runs.find((r) => r.stage === 'check')!.n;
      const { samples } = parseExposition(await (await fetch(`${pipeline.url}/metrics`)).text());
      expect(sampleValue(samples, 'ferry_transform_models_total', { outcome: 'built' })).toBe(6);
      expect(sampleValue(samples, 'ferry_transform_checks_total', { result: 'pass' })).toBe(checks);
      expect(sampleValue(samples, 'ferry_transform_run_seconds_count')).toBe(1);
      expect(sampleValue(samples, 'ferry_transform_model_seconds_count')).toBe(6);
    } finally {
      await pipeline.stop();
    }
  });

  it('refuses to start on a model folder with a ref() cycle, naming the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-local-transform-'));
    await mkdir(join(dir, 'models'));
    await writeFile(join(dir, 'models', 'a.sql'), "SELECT * FROM {{ ref('b') }}");
    await writeFile(join(dir, 'models', 'b.sql'), "SELECT * FROM {{ ref('a') }}");
    const config = readConfig({ FERRY_DATA_DIR: join(dir, 'data'), PORT: '0', FERRY_HOST: '127.0.0.1', FERRY_MODELS: join(dir, 'models') });
    await expect(startLocalPipeline(config, silentLogger)).rejects.toThrow(`${join(dir, 'models', 'b.sql')}: ref() cycle: a → b → a`);
  });
});
