import type { EventGridEvent } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import type { S3Event } from 'aws-lambda';
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
