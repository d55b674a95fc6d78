import type { APIGatewayProxyEventV2, S3Event, SQSEvent } from 'aws-lambda';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../functions/aws/api-gateway.js';
import { fromS3Event } from '../../functions/aws/s3-event.js';
import { fromSqsEvent, toBatchResponse } from '../../functions/aws/sqs-event.js';
import { fixtureBytes, fixtureJson } from '../support/fixtures.js';

describe('fromApiGatewayEvent', () => {
  it('takes method, path, lower-cased headers, body and the source IP from an HTTP API v2 event', () => {
    const event = fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-json.json');
    const message = fromApiGatewayEvent({ ...event, headers: { ...event.headers, 'X-Hamustro-Time': '1795428000' } });
    expect(message).toMatchObject({ method: 'POST', path: '/api/v1/track', remoteAddress: '93.184.216.34' });
    expect(message.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(message.headers['x-hamustro-time']).toBe('1795428000');
    expect(Buffer.from(message.body)).toEqual(fixtureBytes('collections/ios-two-events.json'));
  });

  it('decodes base64 bodies (gzip and protobuf arrive that way) and treats a missing body as empty', () => {
    const gz = fromApiGatewayEvent(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-track-gzip.json'));
    expect(gunzipSync(gz.body)).toEqual(fixtureBytes('collections/ios-two-events.json'));
    expect(fromApiGatewayEvent(fixtureJson<APIGatewayProxyEventV2>('aws/http-api-health.json')).body).toHaveLength(0);
  });
});

describe('toApiGatewayResult', () => {
  it('passes status, headers and body through as text', () => {
    expect(toApiGatewayResult({ status: 503, headers: { 'retry-after': '1' }, body: '{"error":"x"}' })).toEqual({
      statusCode: 503, headers: { 'retry-after': '1' }, body: '{"error":"x"}', isBase64Encoded: false,
    });
  });
});

describe('fromS3Event', () => {
  it('decodes form-URL-encoded keys, passes the ETag and size on, and skips records that are not creations', () => {
    expect(fromS3Event(fixtureJson<S3Event>('aws/s3-object-created.json'))).toEqual([
      { key: 'raw/events/2026/11/23/10/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', etag: '0123456789abcdef0123456789abcdef', size: 1024 },
      { key: 'logs/nginx/2026/11/23/api 1+café.log.gz', etag: 'fedcba9876543210fedcba9876543210-2', size: 10485760 },
    ]);
  });

  it('answers nothing for an event without records', () => {
    expect(fromS3Event({ Records: [] })).toEqual([]);
  });
});

describe('fromSqsEvent and toBatchResponse', () => {
  const event = fixtureJson<SQSEvent>('aws/sqs-s3-notifications.json');

  it('takes the objects from S3 notifications in SQS messages, skips the test event, and reports a body that is not one', () => {
    const queued = fromSqsEvent(event);
    expect(queued.inputs).toEqual([
      { messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', input: { key: 'raw/events/2026/11/23/10/01JDQ5Z8ZKX3N6P7Q8R9S0T1V2.ndjson.gz', etag: '0123456789abcdef0123456789abcdef', size: 1024 } },
      { messageId: '2e1424d4-f796-459a-8184-9c92662be6da', input: { key: 'raw/events/2026/11/23/10/01JDQ5Z9A1B2C3D4E5F6G7H8J9.ndjson.gz', etag: 'abcdef0123456789abcdef0123456789', size: 2048 } },
    ]);
    expect(queued.unreadable).toEqual([{ messageId: 'a1b2c3d4-0000-4000-8000-000000000000', reason: expect.stringContaining('not JSON') }]);
  });

  it('returns to the queue exactly the messages of failed inputs and the unreadable ones', () => {
    const queued = fromSqsEvent(event);
    expect(toBatchResponse(queued, [])).toEqual({ batchItemFailures: [{ itemIdentifier: 'a1b2c3d4-0000-4000-8000-000000000000' }] });
    expect(toBatchResponse(queued, ['raw/events/2026/11/23/10/01JDQ5Z9A1B2C3D4E5F6G7H8J9.ndjson.gz']).batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      '2e1424d4-f796-459a-8184-9c92662be6da',
      'a1b2c3d4-0000-4000-8000-000000000000',
    ]);
  });
});
