// Entry of the local runner's parse process (bundled as dist/local/parse-worker.js). Parsing is
// CPU-heavy and the collector is latency-bound: on the collector's event loop every parse
// delayed the acknowledgements queued behind it, so `ferry serve` parses here.
import { setPriority } from 'node:os';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { parseObject } from '../../core/parser/parse-object.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { withRejectionRules } from '../../core/rejections/rejection-rules.js';
import { createJsonLogger, errorFields } from '../../core/support/json-logger.js';
import type { ParseReply, ParseRequest, ParseWorkerData } from './parse-process.js';

// Acknowledging clients comes first: under a burst the parse lags (its inputs are safe in the
// store) and catches up after. Set before the first I/O, so libuv's pool threads, started
// lazily by this thread, inherit it (on Linux a nice value is per thread).
try {
  setPriority(0, 10);
} catch {
  // Not permitted here (some containers): parse at normal priority.
}
const data = JSON.parse(process.argv[2]!) as ParseWorkerData;
const send = (reply: ParseReply) => process.send!(reply);
// The parent went away (even by kill -9): nothing is left to report to.
process.on('disconnect', () => process.exit(0));
const logger = createJsonLogger({ level: data.logLevel });
const store = new FsBlobStore(data.storeRoot);
const ruleSets = withRejectionRules(await loadRuleSets(data.rulesFiles, data.parser), data.parser);

process.on('message', (request: ParseRequest) => {
  const { id, ...input } = request;
  parseObject({ store, logger, ruleSets, maxLineBytes: data.parser.maxLineBytes }, input).then(
    (summary) => send({ id, summary }),
    (err: unknown) => {
      // The failure's own key (an output whose put failed) must not pass for the input's.
      const { key, ...fields } = errorFields(err);
      send({ id, error: { ...fields, ...(key !== undefined && key !== input.key ? { object_key: key } : {}), key: input.key } });
    },
  );
});
send({ id: 0 });
