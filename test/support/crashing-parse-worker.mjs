// A parse thread that speaks ParseThread's protocol: it dies on the input `crash` (an exception
// it does not catch, as a bug in a parse would be), keeps everything it allocates on `hog` (a
// parse that leaks), blocks in a system call for 1 s on `block` (a thread stopped then exits only
// after it), and answers `slow` after 2 s.
import { execFileSync } from 'node:child_process';
import { parentPort, threadId } from 'node:worker_threads';

parentPort.on('message', (request) => {
  const answer = () => parentPort.postMessage({ id: request.id, summary: { source_key: request.key, thread: threadId } });
  if (request.key === 'crash') throw new Error('a parse bug');
  if (request.key === 'hog') for (const kept = []; ; ) kept.push({ line: `leaked ${kept.length}` });
  if (request.key === 'block') execFileSync('sleep', ['1']);
  if (request.key === 'slow') setTimeout(answer, 2000);
  else answer();
});
parentPort.postMessage({ id: 0 });
