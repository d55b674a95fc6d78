import type { TableDefinition } from '../../model/table-definition.js';
import type { Dialect, FieldValue } from '../dialect.js';

/** An output table and, per column in order, the field it is filled from. */
export interface OutputTable {
  definition: TableDefinition;
  fields: readonly string[];
}

/** One `match_<field>` / `pattern_<field>` test; a pattern appends its regex groups to `groups`. */
export interface Condition {
  field: string;
  test(value: FieldValue | undefined, groups: string[]): boolean;
}

/** A piece of a set-field template: literal text, or the n-th regex group (`{0}`). */
export type TemplatePart = string | number;

/** One compiled rule; `index` is its 0-based position in the file, for messages. */
export interface Rule {
  index: number;
  conditions: readonly Condition[];
  set: readonly { field: string; template: readonly TemplatePart[] }[];
  /** Where matching records go; undefined when `ignore` is set. */
  table: OutputTable | undefined;
  ignore: boolean;
}

/**
 * A compiled rules file: which inputs it handles (`prefix`), how their lines are read
 * (`dialects`, first that parses wins), which records are kept (`filter`), and how they are
 * classified (`rules`, first match wins).
 */
export interface RuleSet {
  /** The source's name, recorded in summaries and `ferry.source_counts`. */
  source: string;
  prefix: string;
  /**
   * How its keys start after `prefix` with their UTC date (`{yyyy}/{mm}/{dd}/`), when they do: a
   * sweep then lists the recent dates' partitions instead of the whole prefix.
   */
  datedKeys?: string;
  /** Where it was read from, for messages. */
  file: string;
  dialects: readonly Dialect[];
  tables: ReadonlyMap<string, OutputTable>;
  filter: readonly Condition[];
  rules: readonly Rule[];
  /** What happens to a record no rule matches. */
  unmatched: 'ignore' | 'reject';
}

/** Fields every record has besides its dialect's own. */
export const builtinFields = ['source', 'source_key', 'line_number'] as const;

/** The rule set handling `key`: the one with the longest matching prefix, if any. */
export function ruleSetFor(ruleSets: readonly RuleSet[], key: string): RuleSet | undefined {
  let best: RuleSet | undefined;
  for (const set of ruleSets) if (key.startsWith(set.prefix) && (best === undefined || set.prefix.length > best.prefix.length)) best = set;
  return best;
}

/** Every distinct output table of `ruleSets`, in first-seen order. */
export function outputTables(ruleSets: readonly RuleSet[]): TableDefinition[] {
  const seen = new Map<string, TableDefinition>();
  for (const set of ruleSets) for (const [name, table] of set.tables) if (!seen.has(name)) seen.set(name, table.definition);
  return [...seen.values()];
}
