import type { FerryConfig } from '../../../core/config.js';
import { FsBlobStore } from '../../../core/adapters/fs-blob-store.js';
import { replayMirror } from '../../../core/collector/mirrored-store.js';
import { ConfigError } from '../../../core/errors.js';
import { createJsonLogger } from '../../../core/support/json-logger.js';
import { openStoreAt } from '../../shared/open-store.js';
import { existingDataDir, type Command } from './command.js';

async function mirrorReplay(config: FerryConfig): Promise<void> {
  if (!config.mirror) throw new ConfigError([{ key: 'FERRY_MIRROR_URL', reason: 'is not set: there is no mirror to replay to' }]);
  const logger = createJsonLogger({ level: config.logLevel });
  const result = await replayMirror(new FsBlobStore((await existingDataDir(config)).store), await openStoreAt(config.mirror.url, 'FERRY_MIRROR_URL', config.mirror.azureConnectionString), logger);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (result.failed.length > 0) process.exitCode = 1;
}

export const mirrorReplayCommand: Command = {
  name: 'mirror-replay',
  synopsis: ['mirror-replay'],
  summary: 'Copies the raw batches a failing mirror refused to FERRY_MIRROR_URL. Exits 1 when some still fail.',
  run: (args) => mirrorReplay(args.config()),
};
