import type { EventGridEvent, InvocationContext } from '@azure/functions';
import type { ParseInputsResult } from '../../core/parser/parse-inputs.js';
import { notifiedParse } from '../shared/cloud-host.js';
import { azureHost } from './azure-host.js';
import { fromEventGridBlobCreated } from './event-grid.js';

/** Event Grid BlobCreated → parser; a failure fails the invocation so Event Grid redelivers it. */
export async function parseHandler(event: EventGridEvent, _context: InvocationContext): Promise<ParseInputsResult> {
  const host = await azureHost();
  const input = fromEventGridBlobCreated(event, host.container);
  return notifiedParse(host, input ? [input] : []);
}
