import type { ScheduledEvent } from 'aws-lambda';
import type { LoadResult } from '../../core/loader/load-run.js';
import { scheduledLoad } from '../shared/cloud-host.js';
import { awsHost } from './aws-host.js';

/** EventBridge schedule → one load run over the look-back window ending at the event's time. */
export async function handler(event: ScheduledEvent): Promise<LoadResult> {
  return scheduledLoad(await awsHost(), `aws-${event.id}`, new Date(event.time));
}
