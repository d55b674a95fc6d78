import { InvocationContext, type Timer } from '@azure/functions';
import { ContainerClient } from '@azure/storage-blob';
import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { mirrorPendingPrefix } from '../../core/collector/mirrored-store.js';
import { compareWarehouses } from '../../core/loader/compare.js';
import { eventTable } from '../../core/model/event-table.js';
import { sourceCountsTable } from '../../core/loader/source-counts.js';
import { handler as awsHttp } from '../../functions/aws/http.js';
import { handler as awsLoad } from '../../functions/aws/load.js';
import { awsHost, resetAwsHost } from '../../functions/aws/aws-host.js';
import { azureHost, resetAzureHost } from '../../functions/azure/azure-host.js';
import { loadHandler as azureLoad } from '../../functions/azure/load.js';
import { parseHandler as azureParse } from '../../functions/azure/parse.js';
import { handler as awsParse } from '../../functions/aws/parse-queue.js';
import { ferryCli } from '../support/ferry-process.js';
import { fixtureBytes, fixtureJson } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { startAzurite, startS3 } from '../support/storage-emulators.js';
import { blobCreatedEvent, sqsDelivery } from '../support/platform-events.js';
import { collect, listKeys, readObject } from '../support/streams.js';

const run = promisify(execFile);

/**
 * A move from AWS to Azure, end to end: the AWS collector mirrors raw batches to an Azure
 * container that is not there yet (every mirror put fails, each is recorded), the container
 * appears, the next timer tick replays the backlog; the Azure deployment parses and loads the
 * mirror into its own schema, and `ferry compare` finds the two warehouses equal — until a
 * difference is injected.
 */
describe('mirror to a second cloud, replay, and ferry compare', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let azurite: Awaited<ReturnType<typeof startAzurite>>;
  let primary: S3BlobStore;
  let mirrorContainer: ContainerClient;
  let mirror: AzureBlobStore;
  const awsSchema = uniqueSchema('move_aws');
  const azureSchema = uniqueSchema('move_azure');
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  const saved = { ...process.env };

  beforeAll(async () => {
    [s3, azurite] = await Promise.all([startS3(), startAzurite()]);
    const { bucket, config } = await s3.fresh();
    primary = new S3BlobStore({ bucket, client: config });
    mirrorContainer = new ContainerClient(azurite.connection, `mirror-${Date.now().toString(36)}`);
    mirror = new AzureBlobStore({ container: mirrorContainer });
    await client.connect();
    Object.assign(process.env, {
      DATABASE_URL: testDatabaseUrl(), FERRY_LOG_LEVEL: 'error',
      FERRY_S3_BUCKET: bucket, FERRY_S3_ENDPOINT: config!.endpoint as string, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      FERRY_MIRROR_URL: mirrorContainer.url, FERRY_MIRROR_AZURE_CONNECTION_STRING: azurite.connection,
      FERRY_WAREHOUSE_SCHEMA: awsSchema,
    });
    await resetAwsHost();
    await awsHost();
    // The Azure deployment reads the mirror container as its own store and mirrors nowhere.
    delete process.env.FERRY_MIRROR_URL;
    Object.assign(process.env, { FERRY_AZURE_STORAGE_CONNECTION_STRING: azurite.connection, FERRY_AZURE_CONTAINER: mirrorContainer.containerName, FERRY_WAREHOUSE_SCHEMA: azureSchema });
    await resetAzureHost();
    await azureHost();
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    await resetAwsHost();
    await resetAzureHost();
    primary?.client.destroy();
    await Promise.all([s3?.stop(), azurite?.stop()]);
    await Promise.all([dropSchema(awsSchema), dropSchema(azureSchema)]);
    await client.end();
  });

  it('answers on the primary, records refused mirror puts, replays them, and the two warehouses compare equal', async () => {
    const track = (name: string): APIGatewayProxyEventV2 => {
      const event = fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-json.json');
      return { ...event, body: fixtureBytes(`collections/${name}.json`).toString('base64'), isBase64Encoded: true };
    };
    const schedule = () => ({ ...fixtureJson<ScheduledEvent>('aws/eventbridge-scheduled.json'), time: new Date().toISOString() });

    // The mirror container does not exist yet: every mirror put fails, every client still gets 200.
    expect(await awsHttp(track('ios-two-events'))).toMatchObject({ statusCode: 200 });
    expect(await awsHttp(track('web-quoted-values'))).toMatchObject({ statusCode: 200 });
    const raw = await listKeys(primary, 'raw/');
    expect(raw).toHaveLength(2);
    expect(await listKeys(primary, mirrorPendingPrefix)).toEqual(raw.map((k) => `${mirrorPendingPrefix}${k}`));

    // A timer tick while the mirror is still down: the load runs, the markers stay.
    const tick = async () => {
      const inputs = await collect(primary.list('raw/'));
      expect(await awsParse(sqsDelivery(inputs), { getRemainingTimeInMillis: () => 300_000 })).toEqual({ batchItemFailures: [] });
      return awsLoad(schedule());
    };
    const first = await tick();
    expect(first.tables.find((t) => t.table === 'events')).toMatchObject({ rowsInserted: 3 });
    expect(await listKeys(primary, mirrorPendingPrefix)).toHaveLength(2);

    // The mirror comes up; a new batch goes straight through, the next tick replays the backlog.
    await mirrorContainer.create();
    expect(await awsHttp(track('android-env-number'))).toMatchObject({ statusCode: 200 });
    expect(await listKeys(primary, mirrorPendingPrefix)).toHaveLength(2);
    await tick();
    expect(await listKeys(primary, mirrorPendingPrefix)).toEqual([]);
    const allRaw = await listKeys(primary, 'raw/');
    expect(allRaw).toHaveLength(3);
    expect(await listKeys(mirror, 'raw/')).toEqual(allRaw);
    for (const key of allRaw) expect((await readObject(mirror, key)).equals(await readObject(primary, key))).toBe(true);

    // The Azure side parses (Event Grid) and loads (timer) the mirror into its own schema.
    const invocation = () => new InvocationContext({ invocationId: `inv-${Math.random()}` });
    for (const info of await collect(mirror.list('raw/'))) {
      expect(await azureParse(blobCreatedEvent(mirrorContainer, info.key, info.etag), invocation())).toMatchObject({ parsed: [info.key] });
    }
    await azureLoad(fixtureJson<Timer>('azure/timer.json'), invocation());

    // ferry compare: equal, day by day.
    const tables = [eventTable, sourceCountsTable];
    const side = (schema: string) => ({ warehouse: { query: async <R,>(sql: string, params?: readonly unknown[]) => (await client.query(sql, params as unknown[])).rows as R[] }, kind: 'postgres' as const, schema });
    const equal = await compareWarehouses(side(awsSchema), side(azureSchema), tables);
    expect(equal.same).toBe(true);
    expect(equal.days.map((d) => [d.table, d.rows])).toEqual([
      ['events', [5, 5]],
      ['source_counts', [3, 3]],
    ]);

    // The CLI says the same, then finds an injected difference: a changed value (same count) and a lost row.
    const cli = () =>
      run(process.execPath, [ferryCli, 'compare', '--with', testDatabaseUrl(), '--with-schema', azureSchema, '--json'], {
        env: { PATH: process.env.PATH!, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: awsSchema, FERRY_LOG_LEVEL: 'error' },
      }).then(
        (r) => ({ code: 0, report: JSON.parse(r.stdout) as typeof equal }),
        (e: { code: number; stdout: string }) => ({ code: e.code, report: JSON.parse(e.stdout) as typeof equal }),
      );
    expect(await cli()).toMatchObject({ code: 0, report: { same: true } });
    await client.query(`UPDATE "${azureSchema}".events SET event = 'Tampered' WHERE nr = (SELECT min(nr) FROM "${azureSchema}".events)`);
    const changed = await cli();
    expect(changed.code).toBe(1);
    const events = changed.report.days.find((d) => d.table === 'events')!;
    expect(events).toMatchObject({ rows: [5, 5], same: false });
    expect(events.checksums[0]).not.toBe(events.checksums[1]);
    await client.query(`DELETE FROM "${azureSchema}".events WHERE event = 'Tampered'`);
    const lost = await compareWarehouses(side(awsSchema), side(azureSchema), tables);
    expect(lost.days.find((d) => d.table === 'events')!.rows[1]).toBe(4);
    expect(lost.days.find((d) => d.table === 'source_counts')!.same).toBe(true);
  }, 120_000);
});
