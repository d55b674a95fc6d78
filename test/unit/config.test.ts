import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readConfig, settings, unknownSettings } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.key);
    throw err;
  }
  return [];
}

describe('readConfig', () => {
  it('needs no configuration at all', () => {
    expect(readConfig({})).toMatchObject({
      port: 8080, dataDir: './data', loadIntervalS: 10, databaseUrl: undefined, warehouseSchema: 'ferry', logLevel: 'info',
      collector: {
        signature: { mode: 'off', secret: undefined, replayWindowS: 900 },
        maskIp: false,
        limits: { maxBodyBytes: 1048576, maxDecompressedBytes: 4194304, maxPayloads: 1000, maxParameters: 100, maxFieldBytes: 8192 },
        batch: { windowMs: 20, maxBatchBytes: 4194304, maxPendingBytes: 67108864 },
      },
    });
  });

  it('reads every setting', () => {
    const config = readConfig({
      PORT: '9000', FERRY_DATA_DIR: '/srv/ferry', FERRY_LOAD_INTERVAL_S: '30', DATABASE_URL: 'postgres://u@db:5432/w',
      FERRY_WAREHOUSE_SCHEMA: 'events_v2', FERRY_MAX_BODY_BYTES: '2048', FERRY_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({ port: 9000, dataDir: '/srv/ferry', loadIntervalS: 30, databaseUrl: 'postgres://u@db:5432/w', warehouseSchema: 'events_v2', logLevel: 'debug' });
    expect(config.collector.limits.maxBodyBytes).toBe(2048);
  });

  it.each([
    [{ PORT: 'eighty' }, ['PORT']],
    [{ PORT: '70000' }, ['PORT']],
    [{ FERRY_LOAD_INTERVAL_S: '0' }, ['FERRY_LOAD_INTERVAL_S']],
    [{ FERRY_LOAD_INTERVAL_S: '1.5' }, ['FERRY_LOAD_INTERVAL_S']],
    [{ DATABASE_URL: 'mysql://x/y' }, ['DATABASE_URL']],
    [{ DATABASE_URL: 'not a url' }, ['DATABASE_URL']],
    [{ FERRY_WAREHOUSE_SCHEMA: 'Robert"); drop' }, ['FERRY_WAREHOUSE_SCHEMA']],
    [{ FERRY_LOG_LEVEL: 'loud' }, ['FERRY_LOG_LEVEL']],
    [{ FERRY_MAX_BODY_BYTES: '10' }, ['FERRY_MAX_BODY_BYTES']],
    [{ FERRY_SIGNATURE: 'required' }, ['FERRY_SHARED_SECRET']],
    [{ FERRY_SIGNATURE: 'sometimes', FERRY_SHARED_SECRET: 'x' }, ['FERRY_SIGNATURE']],
    [{ FERRY_MASK_IP: 'maybe' }, ['FERRY_MASK_IP']],
    [{ FERRY_REPLAY_WINDOW_S: '-5' }, ['FERRY_REPLAY_WINDOW_S']],
    [{ FERRY_WAREHOUSE: 'snowflake' }, ['FERRY_WAREHOUSE']],
    [{ FERRY_WAREHOUSE: 'redshift' }, ['DATABASE_URL', 'FERRY_REDSHIFT_IAM_ROLE', 'FERRY_S3_BUCKET']],
    [{ FERRY_WAREHOUSE: 'redshift', DATABASE_URL: 'postgres://u@cluster:5439/dev', FERRY_S3_BUCKET: 'b' }, ['FERRY_REDSHIFT_IAM_ROLE']],
    [{ FERRY_WAREHOUSE: 'azuresql', DATABASE_URL: 'postgres://u@h/d' }, ['DATABASE_URL']],
    [{ FERRY_WAREHOUSE: 'synapse', DATABASE_URL: 'sqlserver://ws.sql.azuresynapse.net/pool?authentication=default' }, ['FERRY_AZURE_STORAGE_ACCOUNT_URL']],
    [{ FERRY_WAREHOUSE: 'postgres', DATABASE_URL: 'sqlserver://h/d' }, ['DATABASE_URL']],
    [{ FERRY_MIRROR_URL: 'ftp://host/dir' }, ['FERRY_MIRROR_URL']],
    [{ FERRY_AZURE_PARSE_TRIGGER: 'timer' }, ['FERRY_AZURE_PARSE_TRIGGER']],
    [{ FERRY_AZURE_STORAGE_ACCOUNT_URL: 'http://ferrydata.blob.core.windows.net' }, ['FERRY_AZURE_STORAGE_ACCOUNT_URL']],
  ])('names the bad key in %j', (env, keys) => {
    expect(problemsOf(env)).toEqual(keys);
  });

  it.each([
    [{}, { kind: 'postgres' }],
    [{ DATABASE_URL: 'postgresql://u@h/d' }, { kind: 'postgres' }],
    [{ DATABASE_URL: 'sqlserver://srv.database.windows.net/ferry?authentication=default' }, { kind: 'azuresql' }],
    [
      { FERRY_WAREHOUSE: 'redshift', DATABASE_URL: 'postgres://u:p@c.redshift.amazonaws.com:5439/dev', FERRY_S3_BUCKET: 'b', FERRY_REDSHIFT_IAM_ROLE: 'arn:aws:iam::123456789012:role/load', FERRY_REDSHIFT_REGION: 'eu-west-1' },
      { kind: 'redshift', redshiftIamRole: 'arn:aws:iam::123456789012:role/load', redshiftRegion: 'eu-west-1' },
    ],
  ])('reads the warehouse kind from %j', (env, warehouse) => {
    expect(readConfig(env).warehouse).toEqual(warehouse);
  });

  it('requires signatures by default once a secret is set', () => {
    expect(readConfig({ FERRY_SHARED_SECRET: 'k' }).collector.signature).toEqual({ mode: 'required', secret: 'k', replayWindowS: 900 });
  });

  it('names every bad key at once', () => {
    expect(problemsOf({ PORT: 'x', FERRY_LOG_LEVEL: 'loud', DATABASE_URL: 'ftp://a' }).sort()).toEqual(['DATABASE_URL', 'FERRY_LOG_LEVEL', 'PORT']);
  });

  it('reads the cloud settings into the aws and azure sections, with their defaults', () => {
    expect(readConfig({})).toMatchObject({
      aws: { bucket: undefined, s3Endpoint: undefined },
      azure: { connectionString: undefined, accountUrl: undefined, container: 'ferry', parseTrigger: 'eventgrid', eventHubName: 'blob-created', loadSchedule: '0 */5 * * * *' },
    });
    const config = readConfig({
      FERRY_S3_BUCKET: ' data ', FERRY_S3_ENDPOINT: 'http://127.0.0.1:4569', FERRY_AZURE_STORAGE_ACCOUNT_URL: 'https://ferrydata.blob.core.windows.net/',
      FERRY_AZURE_CONTAINER: 'events', FERRY_AZURE_PARSE_TRIGGER: 'eventhubs', FERRY_AZURE_EVENTHUB_NAME: 'raw-created', FERRY_LOAD_SCHEDULE: '0 */10 * * * *',
    });
    expect(config.aws).toEqual({ bucket: 'data', s3Endpoint: 'http://127.0.0.1:4569' });
    expect(config.azure).toEqual({ connectionString: undefined, accountUrl: 'https://ferrydata.blob.core.windows.net/', container: 'events', parseTrigger: 'eventhubs', eventHubName: 'raw-created', loadSchedule: '0 */10 * * * *' });
  });

  it('reads every declared setting and no undeclared one', () => {
    const read = new Set<string>();
    const recording = (env: Record<string, string>) => new Proxy(env, { get: (target, key) => (typeof key === 'string' && read.add(key), target[key as string]) });
    // The settings some readers look at only in a given mode (Redshift, Synapse, a mirror, a secret).
    const modes: Record<string, string>[] = [{}, { FERRY_WAREHOUSE: 'redshift' }, { FERRY_WAREHOUSE: 'synapse' }, { FERRY_MIRROR_URL: 'file:///m' }, { FERRY_SHARED_SECRET: 'k' }];
    for (const env of modes) problemsOf(recording(env));
    expect([...read].sort()).toEqual(settings.map((s) => s.env).sort());
  });

  it('is the only reader of the FERRY_ settings: hosts and core take them from the config', () => {
    const root = new URL('../../', import.meta.url);
    const direct: string[] = [];
    for (const dir of ['core', 'functions']) {
      for (const file of readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
        const path = `${dir}/${file}`;
        if (path === 'core/config.ts') continue;
        for (const [, name] of readFileSync(new URL(path, root), 'utf8').matchAll(/\benv(?:\.|\[['"])(FERRY_[A-Z0-9_]+)/g)) direct.push(`${path}: ${name}`);
      }
    }
    // A command's error message says whether FERRY_DATA_DIR was set at all, which the config's value cannot tell.
    expect(direct).toEqual(['functions/local/commands/command.ts: FERRY_DATA_DIR']);
  });

  it('documents every setting in the table of docs/configuration.md', () => {
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const s of settings) expect(page).toContain(`| \`${s.env}\``);
  });
});

describe('unknownSettings', () => {
  it('names a mistyped FERRY_ variable with the closest setting', () => {
    expect(unknownSettings({ FERRY_LOAD_INTERVAL: '5', FERRY_MAX_PAYLOAD: '10', PATH: '/usr/bin' })).toEqual([
      { key: 'FERRY_LOAD_INTERVAL', reason: 'is not a Ferry setting and is ignored; did you mean FERRY_LOAD_INTERVAL_S?' },
      { key: 'FERRY_MAX_PAYLOAD', reason: 'is not a Ferry setting and is ignored; did you mean FERRY_MAX_PAYLOADS?' },
    ]);
  });

  it('passes every declared setting, other variables and the test harness variables', () => {
    const env = Object.fromEntries([...settings.map((s) => [s.env, 'x']), ['HOME', '/root'], ['FERRY_TEST_DATABASE_URL', 'postgres://x']]);
    expect(unknownSettings(env)).toEqual([]);
  });
});
