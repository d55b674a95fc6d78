import type { TableDefinition } from '../../model/table-definition.js';
import type { Dialect, FieldValue, LineRecord } from '../dialect.js';

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

/** What the rules decided for one record. */
export type Decision =
  | { kind: 'route'; table: OutputTable; record: LineRecord }
  | { kind: 'ignore'; reason: 'filtered' | 'rule' | 'unmatched' }
  | { kind: 'reject'; reason: string };

/** A record seen through a rule's set fields and the built-in fields. */
class ClassifiedRecord implements LineRecord {
  overrides: Map<string, string> | undefined;

  constructor(
    private readonly base: LineRecord,
    private readonly source: string,
    private readonly sourceKey: string,
    private readonly lineNumber: number,
  ) {}

  get(field: string): FieldValue | undefined {
    if (this.overrides !== undefined) {
      const set = this.overrides.get(field);
      if (set !== undefined) return set;
    }
    const own = this.base.get(field);
    if (own !== undefined) return own;
    if (field === 'source_key') return this.sourceKey;
    if (field === 'line_number') return String(this.lineNumber);
    if (field === 'source') return this.source;
    return undefined;
  }
}

function allHold(conditions: readonly Condition[], record: LineRecord, groups: string[]): boolean {
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!;
    if (!c.test(record.get(c.field), groups)) return false;
  }
  return true;
}

/** Applies the filter and then the first matching rule to one record. */
export function classify(ruleSet: RuleSet, base: LineRecord, sourceKey: string, lineNumber: number): Decision {
  const record = new ClassifiedRecord(base, ruleSet.source, sourceKey, lineNumber);
  const groups: string[] = [];
  if (!allHold(ruleSet.filter, record, groups)) return { kind: 'ignore', reason: 'filtered' };
  for (const rule of ruleSet.rules) {
    if (groups.length > 0) groups.length = 0; // setting length is a runtime call; skip it when empty
    if (!allHold(rule.conditions, record, groups)) continue;
    if (rule.ignore) return { kind: 'ignore', reason: 'rule' };
    if (rule.set.length > 0) {
      const overrides = new Map<string, string>();
      for (const { field, template } of rule.set) {
        let text = '';
        for (const part of template) text += typeof part === 'number' ? (groups[part] ?? '') : part;
        overrides.set(field, text);
      }
      record.overrides = overrides;
    }
    return { kind: 'route', table: rule.table!, record };
  }
  return ruleSet.unmatched === 'ignore' ? { kind: 'ignore', reason: 'unmatched' } : { kind: 'reject', reason: 'no rule matched' };
}

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
