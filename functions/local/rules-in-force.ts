import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FerryConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { compileRuleSets, readRulesFiles } from '../../core/parser/rules/load-rules.js';
import { withRejectionRules } from '../../core/rejections/rejection-rules.js';
import type { RuleSet } from '../../core/parser/rules/rule-set.js';
import type { Logger } from '../../core/ports/logger.js';

/**
 * The rules files `ferry serve` runs with, recorded in the data dir (`rules.json`, their paths
 * and texts), so `ferry put`, `status`, `load` and `compare` from any shell apply the same rules
 * without `FERRY_RULES` in their own environment.
 */
interface RulesRecord {
  recorded_at: string;
  files: { path: string; text: string }[];
}

function recordPath(dataDir: string): string {
  return join(resolve(dataDir), 'rules.json');
}

async function readRecord(dataDir: string): Promise<RulesRecord | undefined> {
  let text: string;
  try {
    text = await readFile(recordPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const record = JSON.parse(text) as RulesRecord;
    if (!Array.isArray(record.files) || !record.files.every((f) => typeof f?.path === 'string' && typeof f?.text === 'string')) throw new Error('files must be a list of {path, text}');
    return record;
  } catch (err) {
    throw new ConfigError([{ key: recordPath(dataDir), reason: `is not a rules record written by ferry serve (${(err as Error).message}); delete it, or set FERRY_RULES` }]);
  }
}

/**
 * Records the rules files a starting serve runs with (atomically: temp file, then rename), and
 * warns when an earlier serve of this data dir ran with rules files this one lacks.
 */
export async function recordRulesInForce(dataDir: string, rulesFiles: readonly string[], logger: Logger): Promise<void> {
  const files = (await readRulesFiles(rulesFiles)).map((f) => ({ path: resolve(f.path), text: f.text }));
  const previous = await readRecord(dataDir).catch(() => undefined);
  const dropped = (previous?.files ?? []).map((f) => f.path).filter((p) => !files.some((f) => f.path === p));
  if (dropped.length > 0) logger.warn('the previous serve of this data dir ran with rules files this one does not (FERRY_RULES); their inputs are no longer parsed', { dropped });
  const record: RulesRecord = { recorded_at: new Date().toISOString(), files };
  const path = recordPath(dataDir);
  await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** The rules a command applies, and a line saying where they come from. */
export interface RulesInForce {
  ruleSets: RuleSet[];
  origin: string;
}

/** `FERRY_RULES` when set; else the rules the data dir's serve recorded; else the built-in event rules. */
export async function rulesInForce(config: FerryConfig): Promise<RulesInForce> {
  const options = config.parser;
  if (config.parser.rulesFiles.length > 0) {
    return { ruleSets: withRejectionRules(compileRuleSets(await readRulesFiles(config.parser.rulesFiles), options), options), origin: `FERRY_RULES (${config.parser.rulesFiles.join(', ')})` };
  }
  const record = await readRecord(config.dataDir);
  if (!record) return { ruleSets: withRejectionRules(compileRuleSets([], options), options), origin: `the built-in event rules only (FERRY_RULES is unset and no ferry serve recorded rules in ${recordPath(config.dataDir)})` };
  const names = record.files.length > 0 ? record.files.map((f) => f.path).join(', ') : 'the built-in event rules only';
  return { ruleSets: withRejectionRules(compileRuleSets(record.files, options), options), origin: `those ferry serve runs with, recorded in ${recordPath(config.dataDir)}: ${names}` };
}
