import { readFile } from 'node:fs/promises';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import type { DialectOptions } from '../dialects/registry.js';
import { compileRules } from './compile-rules.js';
import type { RuleSet } from './rule-set.js';

/** The rules Ferry applies to its own collector's raw objects unless a rules file replaces them. */
export const builtinEventRules = `source: events
prefix: raw/events/
dialects: [ferry_collector]
rules:
  - table: events
`;

/**
 * Compiles the built-in event rules plus each rules file (`FERRY_RULES`), and checks them
 * together: source names and prefixes are unique (a file with prefix `raw/events/` replaces the
 * built-in rules), and a table declared by two files is declared the same way. All problems of
 * all files are reported at once.
 */
export function compileRuleSets(files: readonly { path: string; text: string }[], options: DialectOptions): RuleSet[] {
  const problems: ConfigProblem[] = [];
  const sets: RuleSet[] = [];
  for (const file of files) {
    try {
      sets.push(compileRules(file.text, file.path, options));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (!sets.some((s) => s.prefix === 'raw/events/') && problems.length === 0) sets.unshift(compileRules(builtinEventRules, 'built-in event rules', options));
  const tables = new Map<string, { file: string; shape: string }>();
  sets.forEach((set, i) => {
    const twin = sets.findIndex((other) => other.source === set.source || other.prefix === set.prefix);
    if (twin < i) problems.push({ key: `${set.file}: source`, reason: `source "${set.source}" / prefix "${set.prefix}" is already used by ${sets[twin]!.file}` });
    for (const [name, table] of set.tables) {
      const shape = JSON.stringify(table.definition);
      const seen = tables.get(name);
      if (seen && seen.shape !== shape) problems.push({ key: `${set.file}: tables.${name}`, reason: `is declared differently in ${seen.file}` });
      else tables.set(name, { file: set.file, shape });
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return sets;
}

/** Reads and compiles the rules files named in `FERRY_RULES`; an unreadable file is a config error. */
export async function loadRuleSets(paths: readonly string[], options: DialectOptions): Promise<RuleSet[]> {
  return compileRuleSets(await readRulesFiles(paths), options);
}

/** The text of each rules file; an unreadable file is a config error naming `FERRY_RULES`. */
export async function readRulesFiles(paths: readonly string[]): Promise<{ path: string; text: string }[]> {
  const problems: ConfigProblem[] = [];
  const files: { path: string; text: string }[] = [];
  for (const path of paths) {
    try {
      files.push({ path, text: await readFile(path, 'utf8') });
    } catch (err) {
      problems.push({ key: 'FERRY_RULES', reason: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return files;
}
