import type { Context, ScheduledEvent } from 'aws-lambda';
import { scheduledLoad, type ScheduledLoadResult } from '../shared/cloud-host.js';
import { awsHost } from './aws-host.js';

/** EventBridge schedule → one load tick over the look-back window ending at the event's time, then the models in the time left. */
export async function handler(event: ScheduledEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ScheduledLoadResult> {
  return scheduledLoad(await awsHost(), `aws-${event.id}`, new Date(event.time), context ? () => context.getRemainingTimeInMillis() : undefined);
}
