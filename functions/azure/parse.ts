import type { EventGridEvent, InvocationContext } from '@azure/functions';
import { parseInputs, type ParseInputsResult } from '../../core/parser/parse-inputs.js';
import { azureHost } from './azure-host.js';
import { fromEventGridBlobCreated } from './event-grid.js';

/**
 * Event Grid BlobCreated → parser. A failure fails the invocation, so Event Grid redelivers it;
 * a redelivered or duplicate event finds the version summarised and skips it.
 */
export async function parseHandler(event: EventGridEvent, _context: InvocationContext): Promise<ParseInputsResult> {
  const host = await azureHost();
  const input = fromEventGridBlobCreated(event, host.container);
  const result = await parseInputs(
    { store: host.store, logger: host.logger, ruleSets: host.ruleSets, maxLineBytes: host.config.parser.maxLineBytes },
    input ? [input] : [],
  );
  if (result.failed.length > 0) throw new Error(`parse failed for ${result.failed.map((f) => `${f.key} (${f.code}: ${f.message})`).join('; ')}`);
  return result;
}
