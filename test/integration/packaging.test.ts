import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settings } from '../../core/config.js';
import { fixtureJson, repoPath } from '../support/fixtures.js';

const run = promisify(execFile);

/** Every entry of a zip, by name. */
async function unzip(path: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', resolve);
    zip.once('error', reject);
    zip.readEntry();
  });
  const files = new Map<string, Buffer>();
  for (const entry of entries) {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    files.set(entry.fileName, Buffer.concat(chunks));
  }
  zip.close();
  return files;
}

async function extract(files: Map<string, Buffer>, into: string): Promise<void> {
  for (const [name, body] of files) {
    await mkdir(dirname(join(into, name)), { recursive: true });
    await writeFile(join(into, name), body);
  }
}

/** Runs a script in a child Node process from `cwd`; answers its stdout parsed as JSON. */
async function nodeJson<T>(cwd: string, script: string, env: Record<string, string> = {}): Promise<T> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd, env: { PATH: process.env.PATH!, ...env } });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, string[]>> };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a template is untyped data, checked field by field below
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

const bucket = 'ferry-ci-data';
const knownSettings = new Set([...settings.map((s) => s.env), 'DATABASE_URL', 'PORT', 'NODE_OPTIONS']);

describe('npm run package:aws (osls + serverless-esbuild, offline)', () => {
  let out: string;
  let template: Template;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'ferry-sls-'));
    await run('npx', ['osls', 'package', '--stage', 'ci', '--package', out], {
      cwd: repoPath(''),
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    });
    template = JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  }, 180_000);
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  const fn = (name: string) => template.Resources[`${name}LambdaFunction`]!.Properties;
  const statementsOf = (role: string): Statement[] => template.Resources[role]!.Properties.Policies.flatMap((p: { PolicyDocument: { Statement: Statement[] } }) => p.PolicyDocument.Statement);
  const s3Grants = (role: string) =>
    statementsOf(role)
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))
      .map((s) => ({ actions: [s.Action].flat(), resources: [s.Resource].flat(), prefixes: s.Condition?.StringLike?.['s3:prefix'] }));

  it('declares four functions on Node 22 arm64, each with its own role and sized for its work', () => {
    for (const [name, handler, role] of [
      ['Collector', 'functions/aws/http.handler', 'CollectorRole'],
      ['ParserRaw', 'functions/aws/parse-queue.handler', 'ParserRole'],
      ['ParserLogs', 'functions/aws/parse-queue.handler', 'ParserRole'],
      ['Loader', 'functions/aws/load.handler', 'LoaderRole'],
    ] as const) {
      expect(fn(name)).toMatchObject({ Handler: handler, Runtime: 'nodejs22.x', Architectures: ['arm64'], Role: { 'Fn::GetAtt': [role, 'Arn'] } });
    }
    expect(fn('Collector').Timeout).toBeLessThanOrEqual(30); // HTTP API's integration limit
    expect(fn('ParserRaw')).toMatchObject({ MemorySize: 1769, Timeout: 300 });
    expect(fn('ParserLogs')).toMatchObject({ MemorySize: 1769, Timeout: 900 });
  });

  it('wires the events: HTTP API routes, the raw/ queue in batches and the logs/ queue one by one with partial batch responses, a schedule', () => {
    const routes = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey).sort();
    expect(routes).toEqual(['GET /api/health', 'GET /api/ops/{proxy+}', 'GET /api/ready', 'OPTIONS /api/v1/track', 'POST /api/v1/track']);
    // The bucket's notifications go to queues the data stack owns; no custom resource edits the bucket.
    expect(Object.values(template.Resources).filter((r) => r.Type === 'Custom::S3')).toEqual([]);
    const mappings = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping').map((r) => r.Properties);
    expect(mappings).toHaveLength(2);
    const mappingOf = (queue: string) => mappings.find((m) => m.EventSourceArn['Fn::ImportValue'] === `ferry-data-ci-${queue}`)!;
    expect(mappingOf('ParseRawQueueArn')).toMatchObject({
      FunctionName: { 'Fn::GetAtt': ['ParserRawLambdaFunction', 'Arn'] },
      BatchSize: 10000,
      MaximumBatchingWindowInSeconds: 60,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mappingOf('ParseLogsQueueArn')).toMatchObject({ FunctionName: { 'Fn::GetAtt': ['ParserLogsLambdaFunction', 'Arn'] }, BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    const schedules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(schedules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    expect(JSON.stringify(schedules[0]!.Properties.Targets)).toContain('LoaderLambdaFunction');
  });

  it('scopes each role to the bucket prefixes its stage needs, and nothing wider', () => {
    const all = ['CollectorRole', 'ParserRole', 'LoaderRole'].flatMap((role) => statementsOf(role));
    for (const s of all) {
      expect([s.Action].flat()).not.toContain('s3:*');
      expect([s.Action].flat()).not.toContain('sqs:*');
      expect([s.Resource].flat()).not.toContain('*');
    }
    // The parsers may only consume their two queues.
    const sqs = all.filter((s) => [s.Action].flat().some((a) => a.startsWith('sqs:')));
    expect(sqs).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        Resource: [{ 'Fn::ImportValue': 'ferry-data-ci-ParseRawQueueArn' }, { 'Fn::ImportValue': 'ferry-data-ci-ParseLogsQueueArn' }],
      },
    ]);
    expect(statementsOf('ParserRole')).toContain(sqs[0]);
    const object = (prefix: string) => `arn:aws:s3:::${bucket}/${prefix}*`;
    expect(s3Grants('CollectorRole')).toEqual([{ actions: ['s3:PutObject'], resources: [object('raw/events/'), object('raw/rejections/'), object('health/')], prefixes: undefined }]);
    expect(s3Grants('ParserRole')).toEqual([
      { actions: ['s3:GetObject'], resources: [object('raw/'), object('logs/'), object('summaries/')], prefixes: undefined },
      { actions: ['s3:PutObject'], resources: [object('parsed/'), object('rejected/'), object('summaries/')], prefixes: undefined },
      { actions: ['s3:ListBucket'], resources: [`arn:aws:s3:::${bucket}`], prefixes: ['raw/*', 'logs/*', 'summaries/*'] },
    ]);
    expect(s3Grants('LoaderRole')).toEqual([
      { actions: ['s3:GetObject'], resources: [object('parsed/'), object('summaries/'), object('raw/events/'), object('raw/rejections/'), object('logs/'), object('state/')], prefixes: undefined },
      { actions: ['s3:PutObject'], resources: [object('load-manifests/'), object('parsed/'), object('rejected/'), object('summaries/'), object('state/')], prefixes: undefined },
      { actions: ['s3:ListBucket'], resources: [`arn:aws:s3:::${bucket}`], prefixes: ['parsed/*', 'summaries/*', 'raw/events/*', 'raw/rejections/*', 'logs/*', 'state/*'] },
    ]);
    // Logs only to the function's own log group.
    for (const [role, name] of [['CollectorRole', 'collector'], ['ParserRole', 'parserRaw'], ['ParserRole', 'parserLogs'], ['LoaderRole', 'loader']] as const) {
      const logs = statementsOf(role).find((s) => [s.Action].flat().includes('logs:PutLogEvents'))!;
      expect(JSON.stringify(logs.Resource)).toContain(`/aws/lambda/ferry-ci-${name}:*`);
    }
  });

  it('configures every function with settings the config reader knows, secrets as deploy-time references', () => {
    for (const name of ['Collector', 'ParserRaw', 'ParserLogs', 'Loader']) {
      for (const key of Object.keys(fn(name).Environment.Variables)) expect({ name, key, known: knownSettings.has(key) }).toEqual({ name, key, known: true });
    }
    expect(fn('Loader').Environment.Variables.DATABASE_URL).toBe('{{resolve:secretsmanager:ferry/ci/database-url}}');
    expect(fn('Collector').Environment.Variables.FERRY_SHARED_SECRET).toBe('{{resolve:secretsmanager:ferry/ci/shared-secret}}');
    // The loader learns the log tables from the same rules the parser classifies by.
    for (const name of ['ParserRaw', 'ParserLogs', 'Loader']) expect(fn(name).Environment.Variables.FERRY_RULES).toBe('docs/rules/api-nginx.yml,docs/rules/app-json.yml');
    // The load timer runs the SQL models after each load; no other function reads them.
    expect(fn('Loader').Environment.Variables.FERRY_MODELS).toBe('examples/models');
    for (const name of ['Collector', 'ParserRaw', 'ParserLogs']) expect(fn(name).Environment.Variables.FERRY_MODELS).toBeUndefined();
  });

  it('packages one bundle per function, with the rules files, that runs as Lambda would load it', async () => {
    const collector = await unzip(join(out, 'collector.zip'));
    expect([...collector.keys()].sort()).toEqual(['docs/rules/api-nginx.yml', 'docs/rules/app-json.yml', 'functions/aws/http.mjs', 'functions/aws/http.mjs.map']);
    const dir = await mkdtemp(join(tmpdir(), 'ferry-lambda-'));
    try {
      await extract(collector, dir);
      const event = JSON.stringify(fixtureJson('aws/http-api-health.json'));
      const result = await nodeJson<{ statusCode: number; body: string }>(dir, `const { handler } = await import('./functions/aws/http.mjs'); console.log(JSON.stringify(await handler(${event}))); process.exit(0);`, {
        FERRY_S3_BUCKET: bucket,
        AWS_REGION: 'eu-west-1',
      });
      expect(result).toMatchObject({ statusCode: 200, body: '{"up":true}' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    for (const [name, bundle] of [['parserRaw', 'parse-queue'], ['parserLogs', 'parse-queue'], ['loader', 'load']]) expect([...(await unzip(join(out, `${name}.zip`))).keys()]).toContain(`functions/aws/${bundle}.mjs`);
  });

  it('packages the SQL models with the loader only, and its bundle (nunjucks inside) loads', async () => {
    const models = (await readdir(repoPath('examples/models'))).map((f) => `examples/models/${f}`).sort();
    const loader = await unzip(join(out, 'loader.zip'));
    expect([...loader.keys()].filter((k) => k.startsWith('examples/')).sort()).toEqual(models);
    expect([...(await unzip(join(out, 'parserRaw.zip'))).keys()].some((k) => k.startsWith('examples/'))).toBe(false);
    const dir = await mkdtemp(join(tmpdir(), 'ferry-lambda-loader-'));
    try {
      await extract(loader, dir);
      expect(await nodeJson<{ handler: string }>(dir, "const m = await import('./functions/aws/load.mjs'); console.log(JSON.stringify({ handler: typeof m.handler })); process.exit(0);", {})).toEqual({ handler: 'function' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run package:azure', () => {
  let zipPath: string;
  let files: Map<string, Buffer>;
  beforeAll(async () => {
    zipPath = join(await mkdtemp(join(tmpdir(), 'ferry-azure-')), 'ferry-azure.zip');
    await run('node', ['infra/package-azure.mjs', zipPath], { cwd: repoPath('') });
    files = await unzip(zipPath);
  }, 60_000);
  afterAll(async () => {
    if (zipPath) await rm(dirname(zipPath), { recursive: true, force: true });
  });

  it('holds host.json, a package.json whose main is the bundle, the bundle and the rules', () => {
    const models = readdirSync(repoPath('examples/models')).map((f) => `examples/models/${f}`);
    expect([...files.keys()].sort()).toEqual(['dist/azure/index.js', 'dist/azure/index.js.map', 'docs/rules/api-nginx.yml', 'docs/rules/app-json.yml', ...models, 'host.json', 'package.json'].sort());
    const manifest = JSON.parse(files.get('package.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ type: 'module', main: 'dist/azure/index.js' });
    expect(manifest.dependencies).toBeUndefined(); // everything is in the bundle
    const host = JSON.parse(files.get('host.json')!.toString('utf8'));
    expect(host).toMatchObject({ version: '2.0', extensionBundle: { id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' } });
  });

  it('registers its functions with the host when loaded as the worker loads it (the batch parser with the eventhubs trigger)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-func-'));
    try {
      await extract(files, dir);
      // A stand-in for the worker's @azure/functions-core that records what the app registers.
      await mkdir(join(dir, 'node_modules/@azure/functions-core'), { recursive: true });
      await writeFile(
        join(dir, 'node_modules/@azure/functions-core/index.js'),
        `globalThis.registered = [];
module.exports = {
  setProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  registerFunction(metadata) { globalThis.registered.push(metadata); return { dispose() {} }; },
  log() {},
};`,
      );
      type Registration = { name: string; bindings: Record<string, Record<string, unknown>> };
      const registrations = (env: Record<string, string>) => nodeJson<Registration[]>(dir, `await import('./dist/azure/index.js'); console.log(JSON.stringify(globalThis.registered)); process.exit(0);`, env);
      const registered = await registrations({ FERRY_LOAD_SCHEDULE: '0 */10 * * * *' });
      const triggers = Object.fromEntries(
        registered.map((f) => {
          const trigger = Object.values(f.bindings).find((b) => b.direction === 'in')!;
          return [f.name, { type: trigger.type, route: trigger.route, methods: trigger.methods, schedule: trigger.schedule }];
        }),
      );
      expect(triggers).toEqual({
        track: { type: 'httpTrigger', route: 'v1/track', methods: ['POST', 'OPTIONS'], schedule: undefined },
        health: { type: 'httpTrigger', route: 'health', methods: ['GET'], schedule: undefined },
        ready: { type: 'httpTrigger', route: 'ready', methods: ['GET'], schedule: undefined },
        ops: { type: 'httpTrigger', route: 'ops/{*rest}', methods: ['GET'], schedule: undefined },
        parse: { type: 'eventGridTrigger', route: undefined, methods: undefined, schedule: undefined },
        load: { type: 'timerTrigger', route: undefined, methods: undefined, schedule: '0 */10 * * * *' },
      });
      // With the eventhubs trigger (what azuredeploy.json sets): raw/ batches from the hub, logs/ still from Event Grid.
      const batched = await registrations({ FERRY_AZURE_PARSE_TRIGGER: 'eventhubs', FERRY_AZURE_EVENTHUB_NAME: 'blob-created' });
      const hub = batched.find((f) => f.name === 'parse-batch')!;
      expect(Object.values(hub.bindings).find((b) => b.direction === 'in')).toMatchObject({ type: 'eventHubTrigger', eventHubName: 'blob-created', connection: 'FERRY_AZURE_EVENTHUB', cardinality: 'many' });
      expect(batched.map((f) => f.name)).toContain('parse');
      // The polling blob trigger instead of Event Grid, on the container's raw/ and logs/.
      const polling = await registrations({ FERRY_AZURE_PARSE_TRIGGER: 'polling', FERRY_AZURE_CONTAINER: 'data' });
      const blobTriggers = polling.map((f) => [f.name, Object.values(f.bindings).find((b) => b.direction === 'in')!]).filter(([, b]) => (b as { type: string }).type === 'blobTrigger');
      expect(blobTriggers.map(([name, b]) => [name, (b as Record<string, unknown>).path, (b as Record<string, unknown>).source, (b as Record<string, unknown>).connection])).toEqual([
        ['parse-raw', 'data/raw/{name}', 'LogsAndContainerScan', 'FERRY_AZURE_STORAGE_CONNECTION_STRING'],
        ['parse-logs', 'data/logs/{name}', 'LogsAndContainerScan', 'FERRY_AZURE_STORAGE_CONNECTION_STRING'],
      ]);
      expect(polling.map((f) => f.name)).not.toContain('parse');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
