// The Azure Functions app (v4 programming model): registers the three triggers. The handlers
// live in their own files so tests can call them without the Functions host.
import { app } from '@azure/functions';
import { httpHandler } from './http.js';
import { loadHandler } from './load.js';
import { parseHandler, pollingParseHandler } from './parse.js';

// OPTIONS: a browser's CORS preflight, answered per FERRY_CORS_ORIGINS (leave the app's platform CORS unset).
app.http('track', { methods: ['POST', 'OPTIONS'], route: 'v1/track', authLevel: 'anonymous', handler: httpHandler });
app.http('health', { methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: httpHandler });
app.http('ready', { methods: ['GET'], route: 'ready', authLevel: 'anonymous', handler: httpHandler });
if (process.env.FERRY_AZURE_PARSE_TRIGGER === 'polling') {
  // Blob receipts make the polling trigger fire once per blob version; Event Grid is the default
  // (lower latency, and the only blob trigger Flex Consumption supports).
  const container = process.env.FERRY_AZURE_CONTAINER?.trim() || 'ferry';
  for (const prefix of ['raw', 'logs']) {
    app.storageBlob(`parse-${prefix}`, { path: `${container}/${prefix}/{name}`, connection: 'FERRY_AZURE_STORAGE_CONNECTION_STRING', source: 'LogsAndContainerScan', handler: pollingParseHandler });
  }
} else {
  app.eventGrid('parse', { handler: parseHandler });
}
app.timer('load', { schedule: process.env.FERRY_LOAD_SCHEDULE ?? '0 */5 * * * *', handler: loadHandler });
