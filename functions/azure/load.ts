import type { InvocationContext, Timer } from '@azure/functions';
import { scheduledLoad, type ScheduledLoadResult } from '../shared/cloud-host.js';
import { azureHost } from './azure-host.js';

/** host.json's functionTimeout: the host stops an invocation after it. */
const functionTimeoutMs = 10 * 60_000;

/** Timer → one load tick over the look-back window ending now, then the models in the time left. */
export async function loadHandler(_timer: Timer, context: InvocationContext): Promise<ScheduledLoadResult> {
  const deadline = Date.now() + functionTimeoutMs;
  return scheduledLoad(await azureHost(), `azure-${context.invocationId}`, new Date(), () => deadline - Date.now());
}
