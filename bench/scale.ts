// Scale benchmark (not a test): what each deployment shape costs in storage requests, function
// invocations and files per million events, and the request-fee bill that projects to at the
// seeds' volume (bench/prices.ts). Replays --requests Hamustro-shaped requests (1–25 events, mean
// 13) through each shape in process — the hosts' converters, the collector, parser and loader —
// over an in-memory store wrapped in a request counter, loading into real PostgreSQL; then runs
// one load tick over a store pre-filled with 1 day and with 365 days of parsed history and prints
// the tick's LIST requests for each.
// PostgreSQL: DATABASE_URL, else postgres@127.0.0.1:5432/test.
//   npm run bench:scale [-- --requests 20000] [--history-raw-per-day 2740] [--parse-batch N] [--json]
import azureFunctions from '@azure/functions';
import { buffer } from 'node:stream/consumers';
import pg from 'pg';
import { MemoryBlobStore } from '../core/adapters/memory-blob-store.js';
import { Collector } from '../core/collector/collector.js';
import { sessionId } from '../core/collector/session.js';
import { readConfig, type FerryConfig } from '../core/config.js';
import { runLoad } from '../core/loader/load-run.js';
import { dialectFor } from '../core/loader/dialects/dialect-for.js';
import { lookbackDates } from '../core/loader/load-window.js';
import { rawEventsPrefix, rawObjectKey } from '../core/model/raw-record.js';
import type { BlobInfo } from '../core/ports/blob-store.js';
import { systemClock } from '../core/ports/clock.js';
import { silentLogger } from '../core/support/json-logger.js';
import { timeSortableIds } from '../core/support/time-sortable-id.js';
import { fromApiGatewayEvent } from '../functions/aws/api-gateway.js';
import { fromSqsEvent, toBatchResponse } from '../functions/aws/sqs-event.js';
import { fromAzureHttpRequest } from '../functions/azure/azure-http.js';
import { fromEventHubMessages } from '../functions/azure/event-hubs.js';
import { parseThreadBatchInputs } from '../functions/local/parse-thread.js';
import { createCloudHost, queuedParse, scheduledLoad, type CloudHost } from '../functions/shared/cloud-host.js';
import { openWarehouseAt } from '../functions/shared/open-warehouse.js';
import type { HttpRequestMessage } from '../core/http/http-message.js';
import { parseBatch } from '../core/parser/parse-batch.js';
import { loadRuleSets } from '../core/parser/rules/load-rules.js';
import { outputTables } from '../core/parser/rules/rule-set.js';
import { CountingBlobStore, type RequestCounts } from './support/counting-blob-store.js';
import { prices, seedVolume } from './prices.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const requestCount = option('requests', 20_000);
const historyFilesPerDay = option('history-raw-per-day', 2_740);
const asJson = args.includes('--json');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Lambda and Functions run one request per instance at a time; this many instances at once. */
const instances = 64;

/** One shape's figures, per the issue's JSON contract. */
interface ShapeFigures {
  shape: string;
  events: number;
  requests: number;
  puts: number;
  gets: number;
  heads: number;
  lists: number;
  deletes: number;
  invocations: Record<string, number>;
  /** Files loaded by the tick after the replay. */
  filesPerTick: number;
  /** Keys listed by that tick per file it loaded. */
  keysListedPerTickPerFile: number;
  tickLists1d: number;
  tickLists365d: number;
  usdPerDaySeedVolume: number;
  /** The bill's parts, per day at the seeds' volume. */
  usdBreakdown: Record<string, number>;
}

// ——— requests ———

/** A deterministic generator (mulberry32), so every shape replays the same requests. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` Hamustro-shaped JSON bodies: 1–25 events each (mean 13), unique (session, nr). */
function hamustroBodies(count: number): { body: string; events: number }[] {
  const next = random(42);
  const names = ['Task.Create', 'Task.Complete', 'Task.Read', 'List.Open', 'Comment.Create', 'Reminder.Set'];
  const nrs = new Map<number, number>();
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, () => {
    const device = Math.floor(next() * 5000);
    const c = {
      device_id: `bench-device-${device}`,
      client_id: 'wunderlist-ios',
      system_version: '17.1',
      product_version: '3.19.4',
      env: 'PRODUCTION',
      device_make: 'Apple',
      device_model: 'iPhone15,2',
      system: 'iOS',
      system_language: 'en-US',
      session: '',
      payloads: [] as unknown[],
    };
    c.session = sessionId({ ...c, env: 0 }); // the hash takes env as its number: PRODUCTION is 0
    const events = 1 + Math.floor(next() * 25);
    let nr = nrs.get(device) ?? 0;
    for (let i = 0; i < events; i++) {
      nr++;
      c.payloads.push({ at: now - 60 + i, event: names[nr % names.length], nr, user_id: `u-${device}`, parameters: [{ name: 'task_id', value: `tsk-${nr}` }] });
    }
    nrs.set(device, nr);
    return { body: JSON.stringify(c), events };
  });
}

// ——— shapes ———

interface Replay {
  bodies: { body: string; events: number }[];
  events: number;
}

interface Run {
  counts: RequestCounts;
  /** Inputs the parser summarised. */
  parsedInputs: number;
  invocations: Record<string, number>;
  filesPerTick: number;
  keysListedPerTickPerFile: number;
}

/** A cloud platform as the benchmark drives it: how a request and blob-created notifications reach core. */
interface Platform {
  name: string;
  toRequest(body: string): Promise<HttpRequestMessage>;
  /** Raw objects delivered to one parse invocation at sustained load (the queue's batch filled). */
  parseBatch: number;
  /** One delivery of notifications, as the platform hands it over, → the parse invocation. */
  parse(host: CloudHost<CountingBlobStore>, created: readonly BlobInfo[]): Promise<void>;
}

/**
 * Raw objects an SQS batch holds at the seeds' volume: ≈ 111 objects/s over the 60 s window
 * shared by Lambda's 5 initial pollers (≈ 1,330), under the 10,000-record and 6 MB
 * (≈ 4,600 S3 notifications) limits.
 */
const sqsBatch = Math.min(10_000, Math.floor((6 * 1024 * 1024) / 1400), Math.floor(((seedVolume.eventsPerDay / seedVolume.eventsPerRequest / 86_400) * 60) / 5));
/** host.json: an Event Hubs batch of up to 1,000 events, waiting for at least 500. */
const eventHubsBatch = 1000;

const aws: Platform = {
  name: 'aws-lambda',
  toRequest: async (body) =>
    fromApiGatewayEvent({
      version: '2.0',
      routeKey: 'POST /api/v1/track',
      rawPath: '/api/v1/track',
      rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      requestContext: { http: { method: 'POST', path: '/api/v1/track', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' } },
      body,
      isBase64Encoded: false,
    } as unknown as Parameters<typeof fromApiGatewayEvent>[0]),
  parseBatch: option('parse-batch', sqsBatch),
  parse: async (host, created) => {
    const event = {
      Records: created.map((c, i) => ({
        messageId: `m-${i}`,
        body: JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: encodeURIComponent(c.key).replaceAll('%2F', '/'), eTag: c.etag, size: c.size } } }] }),
      })),
    };
    const queued = fromSqsEvent(event as unknown as Parameters<typeof fromSqsEvent>[0]);
    const result = await queuedParse(host, queued.inputs.map((q) => q.input));
    if (toBatchResponse(queued, result.failed.map((f) => f.key)).batchItemFailures.length > 0) throw new Error(`parse failed: ${JSON.stringify(result.failed)}`);
  },
};

const azure: Platform = {
  name: 'azure-functions',
  toRequest: async (body) =>
    fromAzureHttpRequest(new azureFunctions.HttpRequest({ method: 'POST', url: 'https://ferry.azurewebsites.net/api/v1/track', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' }, body: { string: body } })),
  parseBatch: option('parse-batch', eventHubsBatch),
  parse: async (host, created) => {
    // Event Grid writes each forwarded event as a JSON array of one.
    const messages = created.map((c) => [
      {
        id: c.key,
        eventType: 'Microsoft.Storage.BlobCreated',
        subject: `/blobServices/default/containers/ferry/blobs/${c.key}`,
        eventTime: new Date().toISOString(),
        dataVersion: '',
        data: { url: `https://ferrydata.blob.core.windows.net/ferry/${c.key}`, eTag: `"${c.etag}"`, contentLength: c.size },
      },
    ]);
    const result = await queuedParse(host, fromEventHubMessages(messages, 'ferry').inputs);
    if (result.failed.length > 0) throw new Error(`parse failed: ${JSON.stringify(result.failed)}`);
  },
};

function configFor(schema: string): FerryConfig {
  return readConfig({ DATABASE_URL: databaseUrl, FERRY_WAREHOUSE_SCHEMA: schema, FERRY_LOG_LEVEL: 'error' });
}

/** Sends `bodies` through `collectors` (one request at a time each), returning the created raw objects. */
async function collect(bodies: readonly string[], collectors: readonly Collector[], toRequest: (body: string) => Promise<HttpRequestMessage>): Promise<void> {
  let next = 0;
  await Promise.all(
    collectors.map(async (collector) => {
      while (next < bodies.length) {
        const response = await collector.handle(await toRequest(bodies[next++]!));
        if (response.status !== 200) throw new Error(`collector answered ${response.status}: ${response.body}`);
      }
    }),
  );
}

function newCollector(config: FerryConfig, store: CountingBlobStore): Collector {
  return new Collector({ store, clock: systemClock, ids: timeSortableIds, logger: silentLogger, ...config.collector });
}

function countingStore(created: BlobInfo[], inner = new MemoryBlobStore()): CountingBlobStore {
  return new CountingBlobStore(inner, 1000, (info) => {
    if (info.key.startsWith(rawEventsPrefix)) created.push(info);
  });
}

/** The pay-per-request hosts: a collector instance per concurrent request, a parse per notification, a timed load. */
async function serverlessRun(platform: Platform, replay: Replay, schema: string, collector: 'function' | 'container' = 'function'): Promise<Run> {
  const created: BlobInfo[] = [];
  const store = countingStore(created);
  const config = configFor(schema);
  const host = await createCloudHost(config, store, platform.name);
  host.logger = silentLogger;
  const invocations: { http?: number; parse: number; load: number } = { ...(collector === 'function' ? { http: replay.bodies.length } : {}), parse: 0, load: 0 };
  try {
    // A function instance answers one request at a time; a container's collector takes them all and group-commits.
    const shared = newCollector(config, store);
    const collectors = Array.from({ length: instances }, () => (collector === 'function' ? newCollector(config, store) : shared));
    await collect(replay.bodies.map((b) => b.body), collectors, platform.toRequest);
    await shared.close();
    for (let i = 0; i < created.length; i += platform.parseBatch) {
      await platform.parse(host, created.slice(i, i + platform.parseBatch));
      invocations.parse++;
    }
    const before = { ...store.counts };
    const result = await scheduledLoad(host, `bench-${platform.name}`, new Date());
    invocations.load++;
    const files = result.tables.reduce((sum, t) => sum + t.files, 0);
    return { counts: { ...store.counts }, parsedInputs: created.length, invocations, filesPerTick: files, keysListedPerTickPerFile: (store.counts.listedKeys - before.listedKeys) / Math.max(1, files) };
  } finally {
    await host.warehouse().close();
  }
}

/**
 * `ferry serve`: group commit under concurrent clients; the parse thread's batches of the raw
 * objects waiting (here all wait: the largest batches), parsed from the bytes of their puts, which
 * the local runner keeps in hand; a timed load.
 */
async function localRun(replay: Replay, schema: string): Promise<Run> {
  const created: BlobInfo[] = [];
  const memory = new MemoryBlobStore();
  const store = countingStore(created, memory);
  const config = configFor(schema);
  const collector = newCollector(config, store);
  await collect(replay.bodies.map((b) => b.body), Array.from({ length: instances }, () => collector), aws.toRequest);
  await collector.close();
  const ruleSets = await loadRuleSets([], config.parser);
  for (let i = 0; i < created.length; i += parseThreadBatchInputs) {
    const inputs = await Promise.all(created.slice(i, i + parseThreadBatchInputs).map(async (c) => ({ key: c.key, etag: c.etag, size: c.size, body: await buffer(await memory.get(c.key)) })));
    await parseBatch({ store, logger: silentLogger, ruleSets, maxLineBytes: config.parser.maxLineBytes }, inputs);
  }
  const warehouse = openWarehouseAt(config, databaseUrl);
  try {
    const before = { ...store.counts };
    const result = await runLoad({ store, warehouse, logger: silentLogger, tables: outputTables(ruleSets), schema, dialect: dialectFor(config), runId: 'bench-local', dates: lookbackDates(new Date(), config.loadLookbackDays) });
    const files = result.tables.reduce((sum, t) => sum + t.files, 0);
    return { counts: { ...store.counts }, parsedInputs: created.length, invocations: {}, filesPerTick: files, keysListedPerTickPerFile: (store.counts.listedKeys - before.listedKeys) / Math.max(1, files) };
  } finally {
    await warehouse.close();
  }
}

// ——— a tick over history ———

interface HistoryTick {
  /** LIST requests of the tick. */
  lists: number;
  /** Keys it listed. */
  listedKeys: number;
  /** Keys it listed per raw object a day brings: what scales its LIST requests with volume. */
  keysPerDailyRaw: number;
  /** GET and HEAD requests (batch summaries read by the sweep) per raw object a day brings. */
  getsPerDailyRaw: number;
  /** GET and PUT requests a tick makes whatever arrives (the sweep's mark). */
  fixedGets: number;
  fixedPuts: number;
}

/**
 * One cloud load tick (`scheduledLoad`: the lost-notification sweep, then the load) over `days`
 * days of history at `rawPerDay` raw objects a day, spread over the hours, each parsed (in
 * batches of `batch`: a parsed file and a summary per batch) and loaded (in the manifest): what
 * it lists when nothing new has arrived. A first tick runs before the measured one, as a timer's
 * ticks follow each other.
 */
async function tickOverHistory(days: number, rawPerDay: number, batch: number, schema: string): Promise<HistoryTick> {
  const memory = new MemoryBlobStore();
  const store = new CountingBlobStore(memory);
  const host = await createCloudHost(configFor(schema), store, 'bench');
  host.logger = silentLogger;
  const now = new Date();
  const rows = { ferry_rows: '13' };
  const none = {};
  try {
    await scheduledLoad(host, 'bench-history-schema', now);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (let d = 0; d < days; d++) {
        const keys: string[] = [];
        // Up to a minute before the tick: the sweep's window (15 to 60 minutes back) holds parsed raw objects, as in production.
        const dayStart = now.getTime() - (d + 1) * 86_400_000 - 60_000;
        for (let i = 0; i < rawPerDay; i += batch) {
          let first = '';
          for (let j = i; j < Math.min(rawPerDay, i + batch); j++) {
            const at = new Date(dayStart + Math.floor((j * 86_400_000) / rawPerDay));
            const id = timeSortableIds.next(at);
            first ||= id;
            memory.seed({ key: rawObjectKey(at, id), size: 2000, etag: id, lastModified: at, metadata: none });
          }
          const date = new Date(dayStart + Math.floor((i * 86_400_000) / rawPerDay)).toISOString().slice(0, 10);
          const parsed = `parsed/events/${date}/${first}-b${batch}.csv.gz`;
          const summary = `summaries/${date}/${first}-b${batch}.json`;
          memory.seed({ key: parsed, size: 1000, etag: first, lastModified: now, metadata: rows });
          memory.seed({ key: summary, size: 200, etag: first, lastModified: now, metadata: none });
          keys.push(parsed, summary);
        }
        await client.query(
          `INSERT INTO ${pg.escapeIdentifier(schema)}.load_manifest (file_key, etag, table_name, rows_expected, rows_loaded, run_id)
           SELECT k, 'seed', CASE WHEN k LIKE 'parsed/%' THEN split_part(k, '/', 2) ELSE 'source_counts' END, 13, 13, 'seed' FROM unnest($1::text[]) AS k`,
          [keys],
        );
      }
    } finally {
      await client.end();
    }
    await scheduledLoad(host, 'bench-history-warm', now);
    store.take();
    await scheduledLoad(host, 'bench-history-tick', now);
    return {
      lists: store.counts.lists,
      listedKeys: store.counts.listedKeys,
      keysPerDailyRaw: store.counts.listedKeys / rawPerDay,
      getsPerDailyRaw: (store.counts.gets + store.counts.heads) / rawPerDay,
      fixedGets: store.perTick.gets + store.perTick.heads,
      fixedPuts: store.perTick.puts,
    };
  } finally {
    await host.warehouse().close();
  }
}

// ——— the bill ———

function bill(shape: string, run: Run, replay: Replay, tick: HistoryTick): { total: number; parts: Record<string, number> } {
  const scale = seedVolume.eventsPerDay / replay.events;
  const requests = replay.bodies.length * scale;
  const c = run.counts;
  // A tick's requests follow what it lists, not the events: the history tick gives its LISTs and
  // the keys and summaries it read per raw object a day brings; at volume the extra keys are
  // extra pages of 1,000.
  const rawPerDay = run.parsedInputs * scale;
  const listsPerDay = seedVolume.loadTicksPerDay * (tick.lists + Math.max(0, tick.keysPerDailyRaw * rawPerDay - tick.listedKeys) / 1000);
  const tickGetsPerDay = seedVolume.loadTicksPerDay * (tick.getsPerDailyRaw * rawPerDay + tick.fixedGets);
  const tickPutsPerDay = seedVolume.loadTicksPerDay * tick.fixedPuts;
  const invocations = Object.values(run.invocations).reduce((a, b) => a + b, 0) - (run.invocations.load ?? 0);
  const invocationsPerDay = invocations * scale + (run.invocations.load !== undefined ? seedVolume.loadTicksPerDay : 0);
  // The parse and load side on AWS, the same behind either collector.
  const awsDownstream = {
    lambda: invocationsPerDay * prices.aws.lambdaRequest,
    s3Put: (c.puts * scale + tickPutsPerDay) * prices.aws.s3PutOrList,
    s3List: listsPerDay * prices.aws.s3PutOrList,
    s3GetHead: ((c.gets + c.heads) * scale + tickGetsPerDay) * prices.aws.s3GetOrHead,
    // S3 sends one message per object; Lambda's pollers receive and delete ten per request.
    sqs: run.parsedInputs * scale * 1.2 * prices.aws.sqsRequest,
  };
  if (shape === 'aws-container') {
    // Two 1 vCPU / 2 GB Fargate tasks and the load balancer are the fixed part; no API Gateway, no collector invocations.
    const parts = {
      fargate: 2 * 24 * (prices.aws.fargateVcpuHour + 2 * prices.aws.fargateGbHour),
      loadBalancer: 24 * (prices.aws.albHour + prices.aws.albLcuHour * 5),
      ...awsDownstream,
    };
    return { total: sum(parts), parts };
  }
  if (shape === 'aws-lambda') {
    const parts = { apiGateway: requests * prices.aws.apiGatewayRequest, ...awsDownstream };
    return { total: sum(parts), parts };
  }
  if (shape === 'azure-functions') {
    const parts = {
      functions: invocationsPerDay * prices.azure.functionsExecution,
      blobWrite: (c.puts * scale + tickPutsPerDay) * prices.azure.blobWrite,
      blobList: listsPerDay * prices.azure.blobList,
      blobRead: ((c.gets + c.heads) * scale + tickGetsPerDay) * prices.azure.blobRead,
      eventGrid: run.parsedInputs * scale * prices.azure.eventGridOperation,
      eventHubs: run.parsedInputs * scale * prices.azure.eventHubsIngressEvent + prices.azure.eventHubsThroughputUnitHour * 24,
    };
    return { total: sum(parts), parts };
  }
  return { total: 0, parts: {} };
}

function sum(parts: Record<string, number>): number {
  return Object.values(parts).reduce((a, b) => a + b, 0);
}

// ——— main ———

async function main(): Promise<void> {
  const bodies = hamustroBodies(requestCount);
  const replay: Replay = { bodies, events: bodies.reduce((s, b) => s + b.events, 0) };
  const suffix = `${process.pid}`;
  const schemas: string[] = [];
  const schema = (name: string) => {
    const s = `bench_scale_${name}_${suffix}`;
    schemas.push(s);
    return s;
  };
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const runs: [string, number, () => Promise<Run>][] = [
      ['aws-lambda', aws.parseBatch, () => serverlessRun(aws, replay, schema('aws'))],
      ['azure-functions', azure.parseBatch, () => serverlessRun(azure, replay, schema('azure'))],
      ['aws-container', aws.parseBatch, () => serverlessRun(aws, replay, schema('container'), 'container')],
      ['local', 1, () => localRun(replay, schema('local'))],
    ];
    const figures: ShapeFigures[] = [];
    for (const [shape, batch, start] of runs) {
      const run = await start();
      const history1 = await tickOverHistory(1, historyFilesPerDay, batch, schema(`${shape.replace('-', '_')}_h1`));
      const history365 = await tickOverHistory(365, historyFilesPerDay, batch, schema(`${shape.replace('-', '_')}_h365`));
      const perMillion = 1e6 / replay.events;
      const { total, parts } = bill(shape, run, replay, history365);
      const f: ShapeFigures = {
        shape,
        events: replay.events,
        requests: replay.bodies.length,
        puts: Math.round(run.counts.puts * perMillion),
        gets: Math.round(run.counts.gets * perMillion),
        heads: Math.round(run.counts.heads * perMillion),
        lists: Math.round(run.counts.lists * perMillion),
        deletes: Math.round(run.counts.deletes * perMillion),
        invocations: Object.fromEntries(Object.entries(run.invocations).map(([k, v]) => [k, k === 'load' ? v : Math.round(v * perMillion)])),
        filesPerTick: run.filesPerTick,
        keysListedPerTickPerFile: Number(run.keysListedPerTickPerFile.toFixed(2)),
        tickLists1d: history1.lists,
        tickLists365d: history365.lists,
        usdPerDaySeedVolume: Number(total.toFixed(2)),
        usdBreakdown: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Number(v.toFixed(2))])),
      };
      figures.push(f);
      if (asJson) process.stdout.write(`${JSON.stringify(f)}\n`);
      else print(f);
    }
  } finally {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(s)} CASCADE`);
    await admin.end();
  }
}

function print(f: ShapeFigures): void {
  const perRequest = (perMillion: number) => ((perMillion * f.events) / 1e6 / f.requests).toFixed(2);
  process.stdout.write(
    [
      `${f.shape}: ${f.requests.toLocaleString('en')} requests, ${f.events.toLocaleString('en')} events`,
      `  storage per 1M events: PUT ${f.puts.toLocaleString('en')} (${perRequest(f.puts)} per request), GET ${f.gets.toLocaleString('en')}, HEAD ${f.heads.toLocaleString('en')}, LIST ${f.lists.toLocaleString('en')}, DELETE ${f.deletes}`,
      `  invocations per 1M events: ${Object.entries(f.invocations).map(([k, v]) => `${k} ${k === 'load' ? `${v} (one tick)` : v.toLocaleString('en')}`).join(', ') || 'none (one process)'}`,
      `  load tick: ${f.filesPerTick.toLocaleString('en')} files, ${f.keysListedPerTickPerFile} keys listed per file; LIST per tick with 1 day of history ${f.tickLists1d}, with 365 days ${f.tickLists365d} (${(f.tickLists365d / Math.max(1, f.tickLists1d)).toFixed(2)}× , target ≤ 1.1×)`,
      `  request fees per day at ${seedVolume.eventsPerDay / 1e6}M events: $${f.usdPerDaySeedVolume.toFixed(2)} ${JSON.stringify(f.usdBreakdown)}${f.shape === 'aws-lambda' ? ' (target ≤ $70)' : ''}`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

