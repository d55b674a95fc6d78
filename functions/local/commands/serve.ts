import type { FerryConfig } from '../../../core/config.js';
import { systemClock } from '../../../core/ports/clock.js';
import { createJsonLogger } from '../../../core/support/json-logger.js';
import { describeListening, startLocalPipeline, type LocalPipeline } from '../local-pipeline.js';
import type { Command } from './command.js';

async function serve(config: FerryConfig): Promise<void> {
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
    ready.then((pipeline) => pipeline.stop()).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`ferry: stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const ready: Promise<LocalPipeline> = startLocalPipeline(config, logger, systemClock, { parseWorker: new URL('./parse-worker.js', import.meta.url) });
  const pipeline = await ready;
  if (signals > 0) return;
  process.stdout.write(`ferry: listening on ${describeListening(pipeline.listening)}: collecting on ${pipeline.url}/api/v1/track, loading into ${pipeline.warehouse.description} (Ctrl-C to stop)\n`);
}

export const serveCommand: Command = {
  name: 'serve',
  synopsis: ['serve'],
  summary: 'Runs the whole pipeline locally (same as npm start): the collector, the parser and a load\nevery FERRY_LOAD_INTERVAL_S, with the store and the embedded warehouse under FERRY_DATA_DIR.',
  run: (args) => serve(args.config()),
};
