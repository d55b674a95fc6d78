import type { EventGridEvent, InvocationContext } from '@azure/functions';
import type { ParseInputsResult } from '../../core/parser/parse-inputs.js';
import { notifiedParse } from '../shared/cloud-host.js';
import { azureHost } from './azure-host.js';
import { fromBlobTrigger } from './blob-trigger.js';
import { fromEventGridBlobCreated } from './event-grid.js';

/** Event Grid BlobCreated → parser; a failure fails the invocation so Event Grid redelivers it. */
export async function parseHandler(event: EventGridEvent, _context: InvocationContext): Promise<ParseInputsResult> {
  const host = await azureHost();
  const input = fromEventGridBlobCreated(event, host.container);
  return notifiedParse(host, input ? [input] : []).finally(() => host.metrics.flush?.());
}

/**
 * Polling blob trigger (`FERRY_AZURE_PARSE_TRIGGER=polling`, for plans other than Flex
 * Consumption) → parser. The host hands over the blob's content too; it is ignored and the parser
 * streams the blob by name, so what is parsed is the same as on the Event Grid path.
 */
export async function pollingParseHandler(_blob: unknown, context: InvocationContext): Promise<ParseInputsResult> {
  const host = await azureHost();
  const input = fromBlobTrigger(context.triggerMetadata, host.container);
  return notifiedParse(host, input ? [input] : []).finally(() => host.metrics.flush?.());
}
