// The Azure Functions app (v4 programming model): registers the three triggers. The handlers
// live in their own files so tests can call them without the Functions host.
import { app } from '@azure/functions';
import { readAzureSettings } from '../../core/config.js';
import { closeAzureMetrics } from './azure-host.js';
import { httpHandler } from './http.js';
import { loadHandler } from './load.js';
import { parseHandler, pollingParseHandler } from './parse.js';
import { parseBatchHandler } from './parse-batch.js';

// OPTIONS: a browser's CORS preflight, answered per FERRY_CORS_ORIGINS (leave the app's platform CORS unset).
app.http('track', { methods: ['POST', 'OPTIONS'], route: 'v1/track', authLevel: 'anonymous', handler: httpHandler });
app.http('health', { methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: httpHandler });
app.http('ready', { methods: ['GET'], route: 'ready', authLevel: 'anonymous', handler: httpHandler });
// The run view: 404 unless FERRY_OPS_TOKEN is set, then to its bearer only.
app.http('ops', { methods: ['GET'], route: 'ops/{*rest}', authLevel: 'anonymous', handler: httpHandler });
// A bad setting registers the defaults here; the host's configuration check names it on every invocation.
const azure = readAzureSettings(process.env, []);
if (azure.parseTrigger === 'polling') {
  // Blob receipts make the polling trigger fire once per blob version; Event Grid is the default
  // (lower latency, and the only blob trigger Flex Consumption supports).
  for (const prefix of ['raw', 'logs']) {
    app.storageBlob(`parse-${prefix}`, { path: `${azure.container}/${prefix}/{name}`, connection: 'FERRY_AZURE_STORAGE_CONNECTION_STRING', source: 'LogsAndContainerScan', handler: pollingParseHandler });
  }
} else {
  // Event Grid: one event per invocation (logs/, and raw/ too unless batched below).
  app.eventGrid('parse', { handler: parseHandler });
  if (azure.parseTrigger === 'eventhubs') {
    // raw/ BlobCreated forwarded by Event Grid to Event Hubs: hundreds of small objects per
    // invocation (host.json sets the batch size and wait); a failure re-runs the batch with backoff.
    app.eventHub('parse-batch', {
      connection: 'FERRY_AZURE_EVENTHUB',
      eventHubName: azure.eventHubName,
      cardinality: 'many',
      retry: { strategy: 'exponentialBackoff', maxRetryCount: 5, minimumInterval: { seconds: 10 }, maximumInterval: { minutes: 5 } },
      handler: parseBatchHandler,
    });
  }
}
app.timer('load', { schedule: azure.loadSchedule, handler: loadHandler });
// A worker stopping gracefully sends the metrics gathered since the last export.
app.hook.appTerminate(() => closeAzureMetrics());
