import { systemClock } from '../../../core/ports/clock.js';
import { createJsonLogger } from '../../../core/support/json-logger.js';
import { ConfigError } from '../../../core/errors.js';
import { startCollectorOnly } from '../collector-only.js';
import { describeListening, startLocalPipeline } from '../local-pipeline.js';
import { usageError, type Command, type CommandArgs } from './command.js';

/** What a stop waits for at most: less than a container orchestrator's grace (ECS: 30 s). */
const stopBoundMs = 25_000;

/** What `serve` runs: the whole pipeline, or the collector alone. */
interface Running {
  stop(): Promise<void>;
}

async function serve(args: CommandArgs): Promise<void> {
  const only = args.values.only as string | undefined;
  if (only !== undefined && only !== 'collector') throw usageError('serve', `--only takes collector, got "${only}"`);
  const config = args.config();
  if (only === undefined && config.storeUrl && !config.storeUrl.startsWith('file:')) {
    throw new ConfigError([{ key: 'FERRY_STORE_URL', reason: 'a cloud store is written by ferry serve --only collector; parsing and loading it is the cloud functions\' work' }]);
  }
  const logger = createJsonLogger({ level: config.logLevel });
  // Signal handlers go in before anything is announced, so a Ctrl-C at any moment stops cleanly.
  let signals = 0;
  const stop = () => {
    if (++signals > 1) {
      process.stderr.write('ferry: forced exit\n');
      process.exit(130);
    }
    process.stdout.write('ferry: stopping (finishing in-flight work; Ctrl-C again to force)\n');
    // A signal during start-up waits for the start to finish, then stops.
    const bound = only ? new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not stopped within ${stopBoundMs / 1000} s`)), stopBoundMs).unref()) : undefined;
    const stopping = ready.then((running) => running.stop());
    (bound ? Promise.race([stopping, bound]) : stopping).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`ferry: stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const ready: Promise<Running & { banner: string }> =
    only === 'collector'
      ? startCollectorOnly(config, logger, systemClock).then((c) => ({
          stop: () => c.stop(),
          banner: `listening on ${describeListening(c.listening)}: collecting on ${c.url}/api/v1/track into ${config.storeUrl ?? 'the data dir'} (collector only; Ctrl-C to stop)`,
        }))
      : startLocalPipeline(config, logger, systemClock, { parseWorker: new URL('./parse-worker.js', import.meta.url) }).then((p) => ({
          stop: () => p.stop(),
          banner:
            `listening on ${describeListening(p.listening)}: collecting on ${p.url}/api/v1/track, loading into ${p.warehouse.description} (Ctrl-C to stop)` +
            (p.embedded ? `\nferry: warehouse for psql and BI tools: ${p.embedded.url} (password in ${p.embedded.passfile}; PGPASSFILE=${p.embedded.passfile} psql ${p.embedded.url})` : ''),
        }));
  const running = await ready;
  if (signals > 0) return;
  process.stdout.write(`ferry: ${running.banner}\n`);
}

export const serveCommand: Command = {
  name: 'serve',
  synopsis: ['serve', 'serve --only collector'],
  summary: 'Runs the whole pipeline locally (same as npm start): the collector, the parser and a load\nevery FERRY_LOAD_INTERVAL_S, with the store and the embedded warehouse under FERRY_DATA_DIR.',
  optionHelp: [['--only collector', 'run the HTTP collector alone, writing to FERRY_STORE_URL (S3, Azure Blob or a directory); parse and load run in the cloud functions']],
  options: { only: { type: 'string' } },
  run: (args) => serve(args),
};
