import type { Context, S3Event } from 'aws-lambda';
import type { ParseInputsResult } from '../../core/parser/parse-inputs.js';
import { notifiedParse } from '../shared/cloud-host.js';
import { awsHost } from './aws-host.js';
import { fromS3Event } from './s3-event.js';

/** S3 object created → parser; a failed input fails the invocation so Lambda retries the event. */
export async function handler(event: S3Event, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ParseInputsResult> {
  return notifiedParse(await awsHost(), fromS3Event(event), () => context.getRemainingTimeInMillis());
}
