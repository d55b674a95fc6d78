import type { EventGridEvent } from '@azure/functions';
import type { ParseInput } from '../../core/parser/parse-object.js';
import { fromEventGridBlobCreated } from './event-grid.js';

/**
 * An Event Hubs trigger's batch (`cardinality: 'many'`) of messages that Event Grid forwarded →
 * the objects to parse. Event Grid writes each message body as a JSON array of events in the
 * Event Grid schema (usually one); the trigger hands a body over already parsed when it is JSON,
 * else as text or bytes, so all three are read. Each BlobCreated event is converted as
 * `fromEventGridBlobCreated` does; the size comes from the event's `contentLength`, so small
 * blobs are parsed in batches. Messages that are not events are counted and skipped: the
 * trigger cannot return one message to the hub, and the timer's sweep parses any blob whose
 * notification never arrived.
 */
export function fromEventHubMessages(messages: readonly unknown[], container: string): { inputs: ParseInput[]; unreadable: number } {
  const inputs: ParseInput[] = [];
  let unreadable = 0;
  for (const message of messages) {
    const events = eventsOf(message);
    if (events === undefined) {
      unreadable++;
      continue;
    }
    for (const event of events) {
      const input = fromEventGridBlobCreated(event, container);
      if (!input) continue;
      const size = (event.data as { contentLength?: unknown } | undefined)?.contentLength;
      inputs.push(typeof size === 'number' ? { ...input, size } : input);
    }
  }
  return { inputs, unreadable };
}

function eventsOf(message: unknown): EventGridEvent[] | undefined {
  let body = message;
  if (body instanceof Uint8Array) body = Buffer.from(body).toString('utf8');
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const list = Array.isArray(body) ? body : [body];
  return list.every((e) => typeof e === 'object' && e !== null && typeof (e as { eventType?: unknown }).eventType === 'string') ? (list as EventGridEvent[]) : undefined;
}
