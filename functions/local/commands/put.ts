import { open, type FileHandle } from 'node:fs/promises';
import type { FerryConfig } from '../../../core/config.js';
import { FsBlobStore } from '../../../core/adapters/fs-blob-store.js';
import { FerryError } from '../../../core/errors.js';
import { ruleSetFor } from '../../../core/parser/rules/rule-set.js';
import { localPaths } from '../local-pipeline.js';
import { announcedRules, usageError, type Command, type CommandArgs } from './command.js';

/** Opens the file to store, or says in plain words why it cannot be (no stack trace, no wrong cause). */
async function openInput(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new FerryError('invalid_input', `cannot put ${file}: ${why}`, { key: file }, { cause: err });
  }
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new FerryError('invalid_input', `cannot put ${file}: it is a directory; ferry put stores one file (put each log file under its own key)`, { key: file });
  }
  return handle;
}

/** Stores a file atomically (temp file, fsync, rename), so a running serve never reads half of it. */
async function putFile(config: FerryConfig, { positionals }: CommandArgs): Promise<void> {
  const [file, key, ...extra] = positionals;
  if (!file || !key || extra.length > 0) throw usageError('put', 'ferry put needs a file and a key, e.g. ferry put access.log.gz logs/nginx/2026/11/23/web-1.log.gz');
  const input = await openInput(file);
  try {
    const { ruleSets } = await announcedRules(config);
    if (!ruleSetFor(ruleSets, key)) {
      throw usageError('put', `no rules file in force handles ${key} (their prefixes: ${ruleSets.map((r) => r.prefix).join(', ')}); start ferry serve with FERRY_RULES naming a rules file for it, e.g. FERRY_RULES=docs/rules/api-nginx.yml`);
    }
    const root = localPaths(config.dataDir).root;
    process.stderr.write(`ferry: data dir ${root}\n`);
    const info = await new FsBlobStore(localPaths(config.dataDir).store).put(key, input.createReadStream({ autoClose: false }));
    process.stdout.write(`${JSON.stringify({ key: info.key, size: info.size, etag: info.etag })}\n`);
  } finally {
    await input.close();
  }
}

export const putCommand: Command = {
  name: 'put',
  synopsis: ['put <file> <key>'],
  summary: 'Stores a file (a server log) in the local store under <key>, e.g. under logs/nginx/; a running\nferry serve parses and loads it at its next load tick. The key must be under the prefix of a rules\nfile in force (FERRY_RULES, else the rules ferry serve runs with).',
  positionals: true,
  run: (args) => putFile(args.config(), args),
};
