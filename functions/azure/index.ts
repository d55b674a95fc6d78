// The Azure Functions app (v4 programming model): registers the three triggers. The handlers
// live in their own files so tests can call them without the Functions host.
import { app } from '@azure/functions';
import { httpHandler } from './http.js';
import { loadHandler } from './load.js';
import { parseHandler } from './parse.js';

app.http('track', { methods: ['POST'], route: 'v1/track', authLevel: 'anonymous', handler: httpHandler });
app.http('health', { methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: httpHandler });
app.http('ready', { methods: ['GET'], route: 'ready', authLevel: 'anonymous', handler: httpHandler });
app.eventGrid('parse', { handler: parseHandler });
app.timer('load', { schedule: process.env.FERRY_LOAD_SCHEDULE ?? '0 */5 * * * *', handler: loadHandler });
