// Entry of the local runner's parse thread (bundled as dist/local/parse-worker.js). Parsing is
// CPU-heavy and the collector is latency-bound: on the collector's event loop every parse
// delayed the acknowledgements queued behind it, so `ferry serve` parses here.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { rawEventsPrefix } from '../../core/model/raw-record.js';
import { parseBatch } from '../../core/parser/parse-batch.js';
import { parseObject, ruleSetHandling } from '../../core/parser/parse-object.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { withRejectionRules } from '../../core/rejections/rejection-rules.js';
import { createJsonLogger, errorFields } from '../../core/support/json-logger.js';
import { parseThreadBatchInputs, type ParseReply, type ParseRequest, type ParseWorkerData } from './parse-thread.js';

// Acknowledging clients comes first: under a burst the parse lags (its inputs are safe in the
// store) and catches up after. On Linux a nice value is per thread, so this lowers this thread
// alone; elsewhere it would lower the collector too.
if (process.platform === 'linux') {
  try {
    setPriority(0, 10);
  } catch {
    // Not permitted here (some containers): parse at normal priority.
  }
}
const data = workerData as ParseWorkerData;
const port = parentPort!;
const send = (reply: ParseReply) => port.postMessage(reply);
const logger = createJsonLogger({ level: data.logLevel });
// Its puts block this thread alone: a writer thread of its own would cost another V8 heap.
const store = new FsBlobStore(data.storeRoot, { writes: 'here' });
const ruleSets = withRejectionRules(await loadRuleSets(data.rulesFiles, data.parser), data.parser);

const options = { store, logger, ruleSets, maxLineBytes: data.parser.maxLineBytes };

/** The failure's reply fields: its own key (an output whose put failed) must not pass for the input's. */
function failure(err: unknown, inputKey: string): Record<string, unknown> {
  const { key, ...fields } = errorFields(err);
  return { ...fields, ...(key !== undefined && key !== inputKey ? { object_key: key } : {}), key: inputKey };
}

// Requests wait here while a parse runs; the collector's raw objects among them are then parsed
// together (`parseBatch`: one output per table and one summary for all), the rest one by one.
// A durable put, a read and a summary per raw object cost more than a small object's rows.
const waiting: ParseRequest[] = [];
let running = false;

async function drain(): Promise<void> {
  while (waiting.length > 0) {
    const taken = waiting.splice(0, parseThreadBatchInputs);
    const raw = taken.filter((r) => r.key.startsWith(rawEventsPrefix));
    for (const request of taken.filter((r) => !r.key.startsWith(rawEventsPrefix))) {
      const { id, ...input } = request;
      await parseObject(options, input).then(
        (summary) => send({ id, summary }),
        (err: unknown) => send({ id, error: failure(err, input.key) }),
      );
    }
    if (raw.length === 0) continue;
    const replied = new Set<number>();
    const idOf = new Map(raw.map((r) => [r.key, r.id]));
    const reply = (key: string, answer: Omit<ParseReply, 'id'>) => {
      const id = idOf.get(key);
      if (id === undefined || replied.has(id)) return;
      replied.add(id);
      send({ id, ...answer });
    };
    try {
      const result = await parseBatch(
        { ...options, onParsed: (summary) => reply(summary.source_key, { summary }), onFailed: (key, err) => reply(key, { error: failure(err, key) }) },
        raw.map(({ id: _id, ...input }) => input),
      );
      // No rules file handles these: as parseObject would say.
      for (const key of result.ignored) {
        try {
          ruleSetHandling(ruleSets, key);
        } catch (err) {
          reply(key, { error: failure(err, key) });
        }
      }
    } catch (err) {
      for (const request of raw) reply(request.key, { error: failure(err, request.key) });
    }
    for (const request of raw) reply(request.key, { error: { error: 'the batch parse gave no answer for this input', key: request.key } });
  }
  running = false;
}

port.on('message', (request: ParseRequest) => {
  waiting.push(request);
  if (running) return;
  running = true;
  // After this turn: the requests that arrived together are parsed together.
  setImmediate(() => void drain());
});
send({ id: 0 });
