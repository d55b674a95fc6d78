import type { EventGridEvent } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import type { S3Event, SQSEvent } from 'aws-lambda';
import { fixtureJson } from './fixtures.js';

/**
 * The captured S3 notification's record, once per object that exists, with each key
 * form-URL-encoded as S3 sends it (a space as `+`, a `+` as `%2B`).
 */
export function s3Notification(objects: readonly { key: string; etag: string; size: number }[]): S3Event {
  const template = fixtureJson<S3Event>('aws/s3-object-created.json').Records[0]!;
  const formEncoded = (key: string) => encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+');
  return { Records: objects.map((o) => ({ ...template, s3: { ...template.s3, object: { ...template.s3.object, key: formEncoded(o.key), eTag: o.etag, size: o.size } } })) };
}

/** The captured Event Grid BlobCreated event, pointed at a blob that exists in the container. */
export function blobCreatedEvent(container: ContainerClient, key: string, etag: string): EventGridEvent {
  const event = fixtureJson<EventGridEvent>('azure/event-grid-blob-created.json');
  const url = `${container.url}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return { ...event, subject: `/blobServices/default/containers/${container.containerName}/blobs/${key}`, data: { ...(event.data as object), url, eTag: `"${etag}"` } };
}

/**
 * An SQS delivery as Lambda hands it over for S3 notifications sent to a queue: one message per
 * object, its body the S3 event of that object as S3 writes it (the captured message's fields).
 */
export function sqsDelivery(objects: readonly { key: string; etag: string; size: number }[]): SQSEvent {
  const template = fixtureJson<SQSEvent>('aws/sqs-s3-notifications.json').Records[0]!;
  return { Records: objects.map((o, i) => ({ ...template, messageId: `message-${i}-${o.etag}`, body: JSON.stringify(s3Notification([o])) })) };
}

/** An Event Hubs trigger's batch of BlobCreated events Event Grid forwarded: each body a JSON array of one event. */
export function eventHubBatch(container: ContainerClient, objects: readonly { key: string; etag: string; size: number }[]): unknown[] {
  return objects.map((o) => {
    const event = blobCreatedEvent(container, o.key, o.etag);
    return [{ ...event, data: { ...(event.data as object), contentLength: o.size } }];
  });
}
