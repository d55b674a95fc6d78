import type { S3Event } from 'aws-lambda';
import type { ParseInput } from '../../core/parser/parse-object.js';

/**
 * S3 event notification → the objects to parse. One event may hold several records; keys arrive
 * form-URL-encoded (`+` is a space); the ETag identifies the version so a duplicate notification
 * maps to the same outputs, and the size lets small objects be parsed in batches. Records other
 * than ObjectCreated:* are skipped.
 */
export function fromS3Event(event: S3Event): ParseInput[] {
  return (event.Records ?? [])
    .filter((record) => record.eventName?.startsWith('ObjectCreated:'))
    .map((record) => {
      const key = decodeURIComponent(record.s3.object.key.replaceAll('+', ' '));
      const { eTag: etag, size } = record.s3.object;
      return { key, ...(etag ? { etag } : {}), ...(typeof size === 'number' ? { size } : {}) };
    });
}
