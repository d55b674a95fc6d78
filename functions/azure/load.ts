import type { InvocationContext, Timer } from '@azure/functions';
import type { LoadResult } from '../../core/loader/load-run.js';
import { scheduledLoad } from '../shared/cloud-host.js';
import { azureHost } from './azure-host.js';

/** Timer → one load run over the look-back window ending now. */
export async function loadHandler(_timer: Timer, context: InvocationContext): Promise<LoadResult> {
  return scheduledLoad(await azureHost(), `azure-${context.invocationId}`, new Date());
}
