import { columnConverter } from '../column-value.js';
import { csvField } from '../csv.js';
import type { FieldValue, LineContext, LineReader, RecordValues } from '../dialect.js';
import { builtinFields, type OutputTable, type RuleSet, type TemplatePart } from './rule-set.js';

/** An output table as a plan writes it. */
export interface TablePlan {
  readonly table: OutputTable;
  /** Position in the plan's `tables`. */
  readonly index: number;
  /** Encodes a classified record as one CSV line of this table, without its LF (see `encodeCsvRow`). */
  row(values: RecordValues): string;
}

/** What the rules decided for one record. */
export type Decision =
  | { readonly kind: 'route'; readonly table: TablePlan }
  | { readonly kind: 'ignore'; readonly reason: 'filtered' | 'rule' | 'unmatched' }
  | { readonly kind: 'reject'; readonly reason: string };

/**
 * A rule set compiled against one layout of fields: every field some condition, set field or
 * column uses gets a fixed index (`fields`), each dialect's reader fills records in that layout,
 * and conditions, set fields and columns read and write `values[index]` — no name lookups and no
 * per-record objects on the hot path.
 */
export interface RulePlan {
  readonly ruleSet: RuleSet;
  readonly fields: readonly string[];
  /** The records of `line` as read by the first dialect that takes it; undefined when none does. */
  read(line: string, context: LineContext): RecordValues[] | undefined;
  /**
   * Fills the row-only fields of a kept record of the line read last (see `LineReader`); call it
   * after `classify` routed the record and before `row`, in the same synchronous step.
   */
  complete(values: RecordValues): void;
  /** Table plans in the rule set's table order. */
  readonly tables: readonly TablePlan[];
  /**
   * Fills in the built-in fields the record lacks (`source`, `source_key`, `line_number`), then
   * applies the filter and the first matching rule, whose set fields are written into `values`.
   */
  classify(values: RecordValues, sourceKey: string, lineNumber: number): Decision;
}

interface BoundCondition {
  slot: number;
  test(value: FieldValue | undefined, groups: string[]): boolean;
}

interface BoundRule {
  conditions: BoundCondition[];
  set: { slot: number; template: readonly TemplatePart[] }[];
  decision: Decision;
}

const ignoredBy = {
  filtered: { kind: 'ignore', reason: 'filtered' },
  rule: { kind: 'ignore', reason: 'rule' },
  unmatched: { kind: 'ignore', reason: 'unmatched' },
} as const satisfies Record<string, Decision>;
const noRuleMatched: Decision = { kind: 'reject', reason: 'no rule matched' };

function allHold(conditions: readonly BoundCondition[], values: RecordValues, groups: string[]): boolean {
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!;
    if (!c.test(values[c.slot], groups)) return false;
  }
  return true;
}

function tablePlan(table: OutputTable, index: number, slotOf: (field: string) => number, jsonTextSlots: ReadonlySet<number>): TablePlan {
  const slots = table.fields.map(slotOf);
  const converters = table.definition.columns.map((column, i) => columnConverter(column, { jsonText: jsonTextSlots.has(slots[i]!) }));
  const names = table.definition.columns.map((c) => c.name);
  // Converted numbers and timestamps never hold a quote, comma, CR, LF or NUL: only text and JSON are checked.
  const checked = table.definition.columns.map((c) => c.type === 'text' || c.type === 'json');
  // One array reused for every row: join() then builds the row as one flat string, where `+=`
  // made two string objects per field for the collector to sweep.
  const fields: string[] = new Array<string>(slots.length).fill('');
  // Per text or JSON column, the last value encoded: consecutive rows repeat many of them (a
  // collection's device fields in each of its events), and encoding is a pure function of the
  // value, so a repeat reuses the field (`fields[i]` still holds it). Numbers and timestamps are
  // cheaper to convert again than to compare.
  const unseen = Symbol('unseen');
  const last: unknown[] = new Array<unknown>(slots.length).fill(unseen);
  return {
    table,
    index,
    row(values) {
      for (let i = 0; i < slots.length; i++) {
        const input = values[slots[i]!];
        if (checked[i] && input === last[i]) continue;
        const value = converters[i]!(input);
        fields[i] = value === null ? '' : checked[i] ? csvField(value, names[i]!) : value;
        last[i] = input;
      }
      return fields.join(',');
    },
  };
}

function compilePlan(ruleSet: RuleSet): RulePlan {
  // Fields the decision reads come first (conditions, then set fields): readers fill them for
  // every line. Fields only rows read follow, from `deferFrom`, in table order (so a dialect whose
  // own layout is a table's, the collector's events, hands over its rows as they are); a reader
  // may fill those for kept records only.
  const fields: string[] = [];
  const slots = new Map<string, number>();
  const slotOf = (field: string): number => {
    let slot = slots.get(field);
    if (slot === undefined) {
      slot = fields.push(field) - 1;
      slots.set(field, slot);
    }
    return slot;
  };
  const bind = (conditions: RuleSet['filter']): BoundCondition[] => conditions.map((c) => ({ slot: slotOf(c.field), test: c.test }));
  const filter = bind(ruleSet.filter);
  const ruleConditions = ruleSet.rules.map((rule) => bind(rule.conditions));
  const setFields = ruleSet.rules.map((rule) => rule.set.map(({ field, template }) => ({ slot: slotOf(field), template })));
  const deferFrom = fields.length;
  for (const table of ruleSet.tables.values()) table.fields.forEach(slotOf);
  const frozenFields = [...fields];
  // Fields only JSON columns read (never a condition or a rule's `set`, which come before
  // `deferFrom`), and not the built-in ones, which `classify` fills with plain text.
  const jsonOnly = new Set(frozenFields.map((_, slot) => slot).filter((slot) => slot >= deferFrom && !(builtinFields as readonly string[]).includes(frozenFields[slot]!)));
  for (const table of ruleSet.tables.values()) {
    table.definition.columns.forEach((column, i) => {
      if (column.type !== 'json') jsonOnly.delete(slotOf(table.fields[i]!));
    });
  }
  const readers = ruleSet.dialects.map((d) => d.reader(frozenFields, deferFrom, jsonOnly));
  // A field is taken as JSON text as it is only when every dialect encodes it so and no rule overwrites it.
  const written = new Set(setFields.flat().map((s) => s.slot));
  const jsonTextSlots = new Set(frozenFields.map((_, slot) => slot).filter((slot) => !written.has(slot) && readers.every((r) => r.jsonText?.has(slot))));
  const tables = new Map([...ruleSet.tables.values()].map((t, i) => [t, tablePlan(t, i, slotOf, jsonTextSlots)]));
  const rules: BoundRule[] = ruleSet.rules.map((rule, r) => ({
    conditions: ruleConditions[r]!,
    set: setFields[r]!,
    decision: rule.ignore ? ignoredBy.rule : { kind: 'route', table: tables.get(rule.table!)! },
  }));
  const [sourceSlot, sourceKeySlot, lineNumberSlot] = builtinFields.map((f) => slots.get(f) ?? -1) as [number, number, number];
  let lastReader: LineReader | undefined;
  const groups: string[] = [];
  return {
    ruleSet,
    fields: frozenFields,
    read(line, context) {
      for (let d = 0; d < readers.length; d++) {
        const records = readers[d]!(line, context);
        if (records !== undefined) {
          lastReader = readers[d];
          return records;
        }
      }
      lastReader = undefined;
      return undefined;
    },
    complete(values) {
      lastReader?.complete?.(values);
    },
    tables: [...tables.values()],
    classify(values, sourceKey, lineNumber) {
      // A record's own field of the same name wins over the built-in one.
      if (sourceSlot >= 0 && values[sourceSlot] === undefined) values[sourceSlot] = ruleSet.source;
      if (sourceKeySlot >= 0 && values[sourceKeySlot] === undefined) values[sourceKeySlot] = sourceKey;
      if (lineNumberSlot >= 0 && values[lineNumberSlot] === undefined) values[lineNumberSlot] = String(lineNumber);
      if (groups.length > 0) groups.length = 0; // setting length is a runtime call; skip it when empty
      if (!allHold(filter, values, groups)) return ignoredBy.filtered;
      for (let r = 0; r < rules.length; r++) {
        const rule = rules[r]!;
        if (groups.length > 0) groups.length = 0;
        if (!allHold(rule.conditions, values, groups)) continue;
        for (const { slot, template } of rule.set) {
          let text = '';
          for (const part of template) text += typeof part === 'number' ? (groups[part] ?? '') : part;
          values[slot] = text;
        }
        return rule.decision;
      }
      return ruleSet.unmatched === 'ignore' ? ignoredBy.unmatched : noRuleMatched;
    },
  };
}

const plans = new WeakMap<RuleSet, RulePlan>();

/** The compiled plan of `ruleSet` (made once per rule set). */
export function planFor(ruleSet: RuleSet): RulePlan {
  let plan = plans.get(ruleSet);
  if (plan === undefined) {
    plan = compilePlan(ruleSet);
    plans.set(ruleSet, plan);
  }
  return plan;
}
