import type { InvocationContext } from '@azure/functions';
import type { ParseInputsResult } from '../../core/parser/parse-inputs.js';
import { queuedParse } from '../shared/cloud-host.js';
import { azureHost } from './azure-host.js';
import { fromEventHubMessages } from './event-hubs.js';

/**
 * Event Hubs batch of Event Grid BlobCreated events → one batch parse. A failed input fails the
 * invocation, so the trigger's retry policy runs the batch again (members already published are
 * rewritten, not doubled); past the retries, the timer's sweep parses what is left.
 */
export async function parseBatchHandler(messages: unknown[], _context: InvocationContext): Promise<ParseInputsResult> {
  const host = await azureHost();
  const { inputs, unreadable } = fromEventHubMessages(messages, host.container);
  if (unreadable > 0) host.logger.warn('event hub messages that are not Event Grid events were skipped', { count: unreadable });
  const result = await queuedParse(host, inputs).finally(() => host.metrics.flush?.());
  if (result.failed.length > 0) throw new Error(`parse failed for ${result.failed.map((f) => `${f.key} (${f.code}: ${f.message})`).join('; ')}`);
  return result;
}
