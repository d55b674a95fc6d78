import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { queuedParse } from '../shared/cloud-host.js';
import { awsHost } from './aws-host.js';
import { fromSqsEvent, toBatchResponse } from './sqs-event.js';

/** SQS batch of S3 notifications → one batch parse (counted as EMF metrics); failed inputs' messages go back to the queue. */
export async function handler(event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const queued = fromSqsEvent(event);
  const host = await awsHost();
  const result = await queuedParse(host, queued.inputs.map((q) => q.input), () => context.getRemainingTimeInMillis()).finally(() => host.metrics.flush?.());
  return toBatchResponse(queued, result.failed.map((f) => f.key));
}
