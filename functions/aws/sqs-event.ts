import type { S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ParseInput } from '../../core/parser/parse-object.js';
import { fromS3Event } from './s3-event.js';

/** The objects one SQS delivery asks to parse, each with the message it came in. */
export interface QueuedInputs {
  inputs: { messageId: string; input: ParseInput }[];
  /** Messages whose body is not an S3 event notification. */
  unreadable: { messageId: string; reason: string }[];
}

/**
 * SQS delivery of S3 event notifications (bucket → queue → Lambda) → the objects to parse. Each
 * message body is one S3 event as JSON, usually of one record, converted as `fromS3Event` does
 * (keys form-URL-encoded, the ETag and size of the version created). S3 sends an `s3:TestEvent`
 * message when the notification is set up: it has no records and asks for nothing. A body that
 * is not JSON is reported unreadable, so the queue retries it and then moves it to the
 * dead-letter queue for a person to look at, instead of it vanishing.
 */
export function fromSqsEvent(event: SQSEvent): QueuedInputs {
  const queued: QueuedInputs = { inputs: [], unreadable: [] };
  for (const record of event.Records ?? []) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (err) {
      queued.unreadable.push({ messageId: record.messageId, reason: `not JSON: ${(err as Error).message}` });
      continue;
    }
    if ((body as { Event?: unknown }).Event === 's3:TestEvent') continue;
    if (!Array.isArray((body as { Records?: unknown }).Records)) {
      queued.unreadable.push({ messageId: record.messageId, reason: 'not an S3 event notification (no Records)' });
      continue;
    }
    for (const input of fromS3Event(body as S3Event)) queued.inputs.push({ messageId: record.messageId, input });
  }
  return queued;
}

/**
 * The partial batch response: every message holding an input that failed, and every unreadable
 * one, is returned to the queue; the rest are deleted. (`ReportBatchItemFailures` must be on.)
 */
export function toBatchResponse(queued: QueuedInputs, failedKeys: readonly string[]): SQSBatchResponse {
  const failed = new Set(failedKeys);
  const ids = new Set(queued.unreadable.map((u) => u.messageId));
  for (const { messageId, input } of queued.inputs) if (failed.has(input.key)) ids.add(messageId);
  return { batchItemFailures: [...ids].map((itemIdentifier) => ({ itemIdentifier })) };
}
