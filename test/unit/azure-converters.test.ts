import { HttpRequest, type EventGridEvent, type HttpRequestInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { fromAzureHttpRequest, toAzureHttpResponse, withoutPort } from '../../functions/azure/azure-http.js';
import { ConfigError } from '../../core/errors.js';
import { readAzureSettings } from '../../core/config.js';
import { containerClientFrom } from '../../functions/azure/azure-host.js';
import { fromBlobTrigger } from '../../functions/azure/blob-trigger.js';
import { fromEventGridBlobCreated } from '../../functions/azure/event-grid.js';
import { fromEventHubMessages } from '../../functions/azure/event-hubs.js';
import { fixtureBytes, fixtureJson } from '../support/fixtures.js';

describe('fromAzureHttpRequest', () => {
  it('reads method, path, lower-cased headers, the body bytes and the client address without its port', async () => {
    const init = fixtureJson<HttpRequestInit>('azure/http-track-request.json');
    const body = fixtureBytes('collections/ios-two-events.json');
    const message = await fromAzureHttpRequest(new HttpRequest({ ...init, headers: { ...init.headers, 'X-Hamustro-Time': '1795428000' }, body: { bytes: body } }));
    expect(message).toMatchObject({ method: 'POST', path: '/api/v1/track', remoteAddress: '93.184.216.34' });
    expect(message.headers['x-hamustro-time']).toBe('1795428000');
    expect(Buffer.from(message.body)).toEqual(body);
  });

  it.each([
    ['93.184.216.34:52345', '93.184.216.34'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    [' 10.0.0.1 ', '10.0.0.1'],
  ])('strips the port from %s', (input, expected) => {
    expect(withoutPort(input)).toBe(expected);
  });

  it('answers with status, headers and body', () => {
    expect(toAzureHttpResponse({ status: 413, headers: { 'content-type': 'application/json' }, body: '{"error":"x"}' })).toEqual({ status: 413, headers: { 'content-type': 'application/json' }, body: '{"error":"x"}' });
  });
});

describe('fromEventGridBlobCreated', () => {
  const event = fixtureJson<EventGridEvent>('azure/event-grid-blob-created.json');

  it('takes the key from the blob URL and the ETag without quotes', () => {
    expect(fromEventGridBlobCreated(event, 'ferry')).toEqual({ key: 'raw/events/2026/11/23/10/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', etag: '0x8DCFE1A2B3C4D5E' });
  });

  it('decodes percent-encoded segments and reads emulator URLs with the account first', () => {
    const data = { ...(event.data as object), url: 'http://127.0.0.1:10000/devstoreaccount1/ferry/logs/nginx/api%201%2Bcaf%C3%A9.log.gz' };
    expect(fromEventGridBlobCreated({ ...event, data }, 'ferry')?.key).toBe('logs/nginx/api 1+café.log.gz');
  });

  it('ignores other event types and other containers', () => {
    expect(fromEventGridBlobCreated({ ...event, eventType: 'Microsoft.Storage.BlobDeleted' }, 'ferry')).toBeUndefined();
    expect(fromEventGridBlobCreated(event, 'other')).toBeUndefined();
  });
});

describe('containerClientFrom', () => {
  it('uses the connection string when one is set (Azurite, account key, SAS)', () => {
    const client = containerClientFrom(readAzureSettings({ FERRY_AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' }));
    expect(client.url).toBe('http://127.0.0.1:10000/devstoreaccount1/ferry');
    expect(client.credential.constructor.name).toBe('StorageSharedKeyCredential');
  });

  it('otherwise reaches the account URL with the Entra identity (the managed identity on Azure)', () => {
    const client = containerClientFrom(readAzureSettings({ FERRY_AZURE_STORAGE_ACCOUNT_URL: 'https://ferrydata.blob.core.windows.net/' }));
    expect(client.url).toBe('https://ferrydata.blob.core.windows.net/ferry');
    expect(client.credential.constructor.name).toBe('DefaultAzureCredential');
  });

  it.each([
    [{}, 'is required'],
    [{ FERRY_AZURE_STORAGE_ACCOUNT_URL: 'http://ferrydata.blob.core.windows.net' }, 'must be the account'],
  ])('names FERRY_AZURE_STORAGE_ACCOUNT_URL when the account is missing or not https: %j', (env, reason) => {
    const error = (() => {
      try {
        containerClientFrom(readAzureSettings(env));
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([{ key: 'FERRY_AZURE_STORAGE_ACCOUNT_URL', reason: expect.stringContaining(reason) }]);
  });
});

describe('fromBlobTrigger', () => {
  it.each([
    [{ blobTrigger: 'ferry/logs/nginx/2026/11/23/api 1+é.log.gz', uri: 'https://a.blob.core.windows.net/ferry/logs/nginx/2026/11/23/api%201%2B%C3%A9.log.gz', properties: { eTag: '"0x8DD0B2C3D4E5F60"' } }, { key: 'logs/nginx/2026/11/23/api 1+é.log.gz', etag: '0x8DD0B2C3D4E5F60' }],
    [{ blobTrigger: 'ferry/raw/events/2026/11/23/10/01J.ndjson.gz' }, { key: 'raw/events/2026/11/23/10/01J.ndjson.gz' }],
    [{ blobTrigger: 'other/raw/x.ndjson.gz' }, undefined],
    [{}, undefined],
  ])('reads the key (and ETag) from %j', (metadata, input) => {
    expect(fromBlobTrigger(metadata, 'ferry')).toEqual(input);
  });
});

describe('fromEventHubMessages', () => {
  const batch = fixtureJson<unknown[]>('azure/event-hubs-blob-created-batch.json');

  it('reads Event Grid events forwarded through Event Hubs, whether the body arrives parsed, as text or as bytes', () => {
    const expected = [
      { key: 'raw/events/2026/11/23/10/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', etag: '0x8DCFE1A2B3C4D5E', size: 1024 },
      { key: 'raw/events/2026/11/23/10/01JDQ5Z9A1B2C3D4E5F6G7H8J9.ndjson.gz', etag: '0x8DCFE1A2B3C4D6F', size: 2048 },
    ];
    expect(fromEventHubMessages(batch, 'ferry')).toEqual({ inputs: expected, unreadable: 0 });
    expect(fromEventHubMessages(batch.map((m) => JSON.stringify(m)), 'ferry')).toEqual({ inputs: expected, unreadable: 0 });
    expect(fromEventHubMessages(batch.map((m) => Buffer.from(JSON.stringify(m))), 'ferry')).toEqual({ inputs: expected, unreadable: 0 });
  });

  it('counts messages that are not events, and skips events of other containers', () => {
    expect(fromEventHubMessages(['not json', { hello: 1 }], 'ferry')).toEqual({ inputs: [], unreadable: 2 });
    expect(fromEventHubMessages(batch, 'other')).toEqual({ inputs: [], unreadable: 0 });
  });
});
