// A parse thread that speaks ParseThread's protocol and dies on the input `crash`: an exception
// it does not catch, as a bug in a parse would be.
import { parentPort, threadId } from 'node:worker_threads';

parentPort.on('message', (request) => {
  if (request.key === 'crash') throw new Error('a parse bug');
  parentPort.postMessage({ id: request.id, summary: { source_key: request.key, thread: threadId } });
});
parentPort.postMessage({ id: 0 });
