import { createReadStream } from 'node:fs';
import type { FerryConfig } from '../../../core/config.js';
import { FsBlobStore } from '../../../core/adapters/fs-blob-store.js';
import { loadRuleSets } from '../../../core/parser/rules/load-rules.js';
import { ruleSetFor } from '../../../core/parser/rules/rule-set.js';
import { localPaths } from '../local-pipeline.js';
import { usageError, type Command, type CommandArgs } from './command.js';

/** Stores a file atomically (temp file, fsync, rename), so a running serve never reads half of it. */
async function putFile(config: FerryConfig, { positionals }: CommandArgs): Promise<void> {
  const [file, key, ...extra] = positionals;
  if (!file || !key || extra.length > 0) throw usageError('put', 'ferry put needs a file and a key, e.g. ferry put access.log.gz logs/nginx/2026/11/23/web-1.log.gz');
  const ruleSets = await loadRuleSets(config.parser.rulesFiles, config.parser);
  if (!ruleSetFor(ruleSets, key)) {
    throw usageError('put', `no rules file handles ${key} (prefixes: ${ruleSets.map((r) => r.prefix).join(', ')}); set FERRY_RULES, e.g. FERRY_RULES=docs/rules/api-nginx.yml`);
  }
  const store = new FsBlobStore(localPaths(config.dataDir).store);
  const info = await store.put(key, createReadStream(file));
  process.stdout.write(`${JSON.stringify({ key: info.key, size: info.size, etag: info.etag })}\n`);
}

export const putCommand: Command = {
  name: 'put',
  synopsis: ['put <file> <key>'],
  summary: 'Stores a file (a server log) in the local store under <key>, e.g. under logs/nginx/; a running\nferry serve parses and loads it at its next load tick.',
  positionals: true,
  run: (args) => putFile(args.config(), args),
};
