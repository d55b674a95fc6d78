import { parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { eventTable } from '../../model/event-table.js';
import { columnTypes, type ColumnDefinition, type ColumnType, type TableDefinition } from '../../model/table-definition.js';
import type { Dialect } from '../dialect.js';
import { datedKeysProblem } from '../log-listings.js';
import { dialectPresets, dialectTypes, type DialectOptions, type DialectSpec } from '../dialects/registry.js';
import { builtinFields, type Condition, type OutputTable, type Rule, type RuleSet, type TemplatePart } from './rule-set.js';

/** Tables Ferry defines itself; a rules file routes to them by name without declaring them. */
export const builtinTables: ReadonlyMap<string, OutputTable> = new Map([
  [eventTable.name, { definition: eventTable, fields: eventTable.columns.map((c) => c.name) }],
]);

/**
 * Ferry's own tables in the warehouse schema: the loader's bookkeeping (`core/loader/dialects`),
 * the per-input counts, the stage runs (`core/runs`), the refused requests and rejected rows
 * (`core/rejections`, loaded from Ferry's own rules) and the transforms' bookkeeping
 * (`core/transform/dialects`). A rules file writing to one would corrupt it and fail every load.
 */
export const reservedTableNames: ReadonlySet<string> = new Set([
  'load_manifest', 'load_failures', 'load_quarantine', 'load_collisions', 'load_leases', 'source_counts',
  'runs', 'rejections', 'transform_state', 'transform_inputs', 'transform_changes', 'transform_lease',
]);

/** Synapse and Fabric stage each table's load in `ferry_staging_<table>` beside it. */
const reservedTablePrefix = 'ferry_staging_';

function isReserved(name: string, own: ReadonlySet<string>): boolean {
  return !own.has(name) && (reservedTableNames.has(name) || name.startsWith(reservedTablePrefix));
}

const reservedList = `${[...reservedTableNames].join(', ')}, ${reservedTablePrefix}…`;

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;
const topLevelKeys = new Set(['source', 'description', 'prefix', 'dated_keys', 'dialects', 'tables', 'filter', 'rules', 'unmatched']);
const ruleKeywords = new Set(['table', 'ignore', 'description']);

type Yaml = unknown;

function isMap(value: Yaml): value is Record<string, Yaml> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarText(value: Yaml): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Collects problems with their location so one attempt reports every mistake in the file. */
class Problems {
  readonly list: ConfigProblem[] = [];
  constructor(private readonly file: string) {}
  add(path: string, reason: string): void {
    this.list.push({ key: `${this.file}: ${path}`, reason });
  }
}

function compileDialects(value: Yaml, options: DialectOptions, problems: Problems): Dialect[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add('dialects', `must be a non-empty list of dialects (presets: ${Object.keys(dialectPresets).join(', ')})`);
    return [];
  }
  const dialects: Dialect[] = [];
  value.forEach((entry: Yaml, i) => {
    const path = `dialects[${i}]`;
    let spec: DialectSpec | undefined;
    if (typeof entry === 'string') {
      spec = dialectPresets[entry];
      if (!spec) problems.add(path, `"${entry}" is not a dialect preset (${Object.keys(dialectPresets).join(', ')})`);
    } else if (isMap(entry)) {
      const type = dialectTypes[String(entry.type)];
      if (typeof entry.name !== 'string' || !identifier.test(entry.name)) problems.add(`${path}.name`, 'must be a lower-case identifier');
      else if (!type) problems.add(`${path}.type`, `must be one of ${Object.keys(dialectTypes).join(', ')}`);
      else {
        for (const key of Object.keys(entry)) {
          if (key !== 'name' && key !== 'type' && !type.settings.includes(key)) problems.add(`${path}.${key}`, `is not a setting of dialect type ${String(entry.type)}`);
        }
        if (entry.log_format !== undefined && typeof entry.log_format !== 'string') problems.add(`${path}.log_format`, 'must be a string');
        if (entry.require !== undefined && (!Array.isArray(entry.require) || !entry.require.every((p) => typeof p === 'string'))) problems.add(`${path}.require`, 'must be a list of field paths');
        spec = entry as unknown as DialectSpec;
      }
    } else problems.add(path, 'must be a preset name or a map with name and type');
    if (!spec) return;
    try {
      dialects.push(dialectTypes[spec.type]!.create(spec, options));
    } catch (err) {
      if (err instanceof ConfigError) for (const p of err.problems) problems.add(`${path}.${p.key}`, p.reason);
      else throw err;
    }
  });
  const names = dialects.map((d) => d.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) problems.add('dialects', `dialect name "${n}" is used twice`);
  });
  return dialects;
}

function compileColumn(name: string, value: Yaml, path: string, problems: Problems): { column: ColumnDefinition; from: string } | undefined {
  if (!identifier.test(name)) {
    problems.add(path, 'column names must be lower-case identifiers');
    return undefined;
  }
  const spec = typeof value === 'string' ? { type: value } : value;
  if (!isMap(spec)) {
    problems.add(path, `must be a type (${columnTypes.join(', ')}) or a map with type, from, required`);
    return undefined;
  }
  for (const key of Object.keys(spec)) if (!['type', 'from', 'required'].includes(key)) problems.add(`${path}.${key}`, 'is not a column setting (type, from, required)');
  if (!columnTypes.includes(spec.type as ColumnType)) {
    problems.add(`${path}.type`, `must be one of ${columnTypes.join(', ')}`);
    return undefined;
  }
  if (spec.from !== undefined && typeof spec.from !== 'string') problems.add(`${path}.from`, 'must be a field name');
  if (spec.required !== undefined && typeof spec.required !== 'boolean') problems.add(`${path}.required`, 'must be true or false');
  return { column: { name, type: spec.type as ColumnType, ...(spec.required === true ? { required: true } : {}) }, from: typeof spec.from === 'string' ? spec.from : name };
}

function compileTables(value: Yaml, own: ReadonlySet<string>, problems: Problems): Map<string, OutputTable> {
  const tables = new Map<string, OutputTable>();
  if (value === undefined) return tables;
  if (!isMap(value)) {
    problems.add('tables', 'must be a map of table name to {columns, key}');
    return tables;
  }
  for (const [name, spec] of Object.entries(value)) {
    const path = `tables.${name}`;
    if (!identifier.test(name)) problems.add(path, 'table names must be lower-case identifiers');
    else if (builtinTables.has(name)) problems.add(path, `"${name}" is a built-in table; route to it without declaring it`);
    else if (isReserved(name, own)) {
      problems.add(path, `"${name}" is one of Ferry's own tables (${reservedList}); choose another name`);
      continue;
    }
    if (!isMap(spec) || !isMap(spec.columns) || Object.keys(spec.columns).length === 0) {
      problems.add(`${path}.columns`, 'must be a non-empty map of column name to type');
      continue;
    }
    for (const key of Object.keys(spec)) if (key !== 'columns' && key !== 'key') problems.add(`${path}.${key}`, 'is not a table setting (columns, key)');
    const columns: ColumnDefinition[] = [];
    const fields: string[] = [];
    for (const [column, columnSpec] of Object.entries(spec.columns)) {
      const compiled = compileColumn(column, columnSpec, `${path}.columns.${column}`, problems);
      if (compiled) {
        columns.push(compiled.column);
        fields.push(compiled.from);
      }
    }
    // Every log row records where it came from; (source_key, line_number) is its default key.
    for (const [column, type] of [['source_key', 'text'], ['line_number', 'bigint']] as const) {
      if (!columns.some((c) => c.name === column)) {
        columns.push({ name: column, type, required: true });
        fields.push(column);
      }
    }
    let key = ['source_key', 'line_number'];
    if (spec.key !== undefined) {
      if (!Array.isArray(spec.key) || spec.key.length === 0 || !spec.key.every((k) => typeof k === 'string')) problems.add(`${path}.key`, 'must be a non-empty list of column names');
      else {
        key = spec.key as string[];
        for (const k of key) {
          const column = columns.find((c) => c.name === k);
          if (!column) problems.add(`${path}.key`, `"${k}" is not a column of ${name}`);
          else column.required = true;
        }
      }
    }
    const definition: TableDefinition = { name, columns, key };
    tables.set(name, { definition, fields });
  }
  return tables;
}

function compileConditions(spec: Record<string, Yaml>, path: string, knownFields: ReadonlySet<string> | undefined, problems: Problems): { conditions: Condition[]; groups: number } {
  const conditions: Condition[] = [];
  let groups = 0;
  for (const [key, value] of Object.entries(spec)) {
    const match = /^(match|pattern)_(.+)$/.exec(key);
    if (!match) continue;
    const [, kind, field] = match as unknown as [string, string, string];
    if (knownFields && !knownFields.has(field)) problems.add(`${path}.${key}`, `no dialect of this file has a field "${field}"`);
    if (kind === 'match') {
      const values = Array.isArray(value) ? value : [value];
      if (value === null) {
        conditions.push({ field, test: (v) => v === null || v === undefined });
        continue;
      }
      const texts = values.map(scalarText);
      if (texts.some((t) => t === undefined)) {
        problems.add(`${path}.${key}`, 'must be a value, a list of values, or null (empty)');
        continue;
      }
      const choices = [...new Set(texts as string[])];
      // A few choices are compared directly: a value sliced from the line has no hash yet, so a Set lookup would compute one per line.
      if (choices.length <= 8) conditions.push({ field, test: (v) => v !== null && v !== undefined && choices.includes(v) });
      else {
        const set = new Set(choices);
        conditions.push({ field, test: (v) => v !== null && v !== undefined && set.has(v) });
      }
    } else {
      if (typeof value !== 'string') {
        problems.add(`${path}.${key}`, 'must be a regular expression string');
        continue;
      }
      let regex: RegExp;
      try {
        regex = new RegExp(value);
      } catch (err) {
        problems.add(`${path}.${key}`, `is not a valid regular expression: ${(err as Error).message}`);
        continue;
      }
      const own = new RegExp(`${value}|`).exec('')!.length - 1;
      groups += own;
      if (own === 0) {
        // Without groups a match is only a yes or no: test() does not build a match array.
        conditions.push({ field, test: (v) => v !== null && v !== undefined && regex.test(v) });
        continue;
      }
      conditions.push({
        field,
        test: (v, found) => {
          if (v === null || v === undefined) return false;
          const m = regex.exec(v);
          if (m === null) return false;
          for (let g = 1; g < m.length; g++) found.push(m[g] ?? '');
          return true;
        },
      });
    }
  }
  return { conditions, groups };
}

function compileTemplate(value: Yaml, groups: number, path: string, problems: Problems): TemplatePart[] {
  const text = scalarText(value);
  if (text === undefined) {
    problems.add(path, 'must be a text value (use {0}, {1}… for regex groups)');
    return [];
  }
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of text.matchAll(/\{(\d+)\}/g)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const n = Number(m[1]);
    if (n >= groups) problems.add(path, `{${n}} refers to a regex group the rule's patterns do not have (they have ${groups})`);
    parts.push(n);
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function compileRuleList(value: Yaml, tables: ReadonlyMap<string, OutputTable>, own: ReadonlySet<string>, knownFields: ReadonlySet<string> | undefined, problems: Problems): Rule[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add('rules', 'must be a non-empty list of rules');
    return [];
  }
  return value.flatMap((spec: Yaml, index): Rule[] => {
    const path = `rules[${index}]`;
    if (!isMap(spec)) {
      problems.add(path, 'must be a map of conditions (match_<field>, pattern_<field>), set fields, and table or ignore');
      return [];
    }
    const { conditions, groups } = compileConditions(spec, path, knownFields, problems);
    const ignore = spec.ignore === true;
    if (spec.ignore !== undefined && typeof spec.ignore !== 'boolean') problems.add(`${path}.ignore`, 'must be true or false');
    let table: OutputTable | undefined;
    if (spec.table !== undefined) {
      table = typeof spec.table === 'string' ? tables.get(spec.table) : undefined;
      if (typeof spec.table === 'string' && isReserved(spec.table, own)) problems.add(`${path}.table`, `"${spec.table}" is one of Ferry's own tables; rows cannot be routed to it`);
      else if (!table) problems.add(`${path}.table`, `"${String(spec.table)}" is not a table of this file (${[...tables.keys()].join(', ')})`);
      if (ignore) problems.add(path, 'has both table and ignore: true');
    } else if (!ignore) problems.add(path, 'needs a table to route to, or ignore: true');
    const set: Rule['set'][number][] = [];
    for (const [key, v] of Object.entries(spec)) {
      if (ruleKeywords.has(key) || /^(match|pattern)_/.test(key)) continue;
      if (ignore) problems.add(`${path}.${key}`, 'an ignore rule cannot set fields');
      else if (!table) problems.add(`${path}.${key}`, 'is not a rule keyword (match_<field>, pattern_<field>, table, ignore)');
      else if (!table.fields.includes(key)) problems.add(`${path}.${key}`, `is neither a rule keyword (match_<field>, pattern_<field>, table, ignore) nor a field that a column of ${table.definition.name} reads`);
      set.push({ field: key, template: compileTemplate(v, groups, `${path}.${key}`, problems) });
    }
    return [{ index, conditions, set, table, ignore }];
  });
}

/**
 * Why `prefix` is not a relative object key prefix, if it is not. The local store maps keys to
 * paths, so `..`, absolute paths and backslashes would let the lister read outside the store.
 */
function keyPrefixProblem(prefix: string): string | undefined {
  const shape = 'must be an object key prefix ending in "/", such as logs/nginx/';
  if (!prefix.endsWith('/') || prefix === '/') return shape;
  if (prefix.startsWith('/') || /^[a-zA-Z]:/.test(prefix)) return `${shape}; "${prefix}" is an absolute path`;
  if (prefix.includes('\\')) return `${shape}; "${prefix}" has a backslash`;
  const segments = prefix.slice(0, -1).split('/');
  if (segments.some((s) => s === '..' || s === '.')) return `${shape}; "${prefix}" has a "." or ".." segment`;
  if (segments.some((s) => s === '')) return `${shape}; "${prefix}" has an empty segment (//)`;
  return undefined;
}

/**
 * Compiles one YAML rules file. Every mistake is collected and thrown as one `ConfigError` whose
 * keys name the file, the rule index and the key (`rules/api.yml: rules[3].pattern_path`).
 * `ownTables`: reserved tables this file may declare — only Ferry's own rules (the rejections').
 */
export function compileRules(text: string, file: string, options: DialectOptions, ownTables: ReadonlySet<string> = new Set()): RuleSet {
  const problems = new Problems(file);
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    for (const e of document.errors) problems.add(`line ${e.linePos?.[0].line ?? '?'}`, e.message.split('\n')[0]!);
    throw new ConfigError(problems.list);
  }
  const root: Yaml = document.toJS();
  if (!isMap(root)) throw new ConfigError([{ key: file, reason: 'must be a YAML map with source, prefix, dialects, tables and rules' }]);
  for (const key of Object.keys(root)) if (!topLevelKeys.has(key)) problems.add(key, `is not a rules-file key (${[...topLevelKeys].join(', ')})`);
  const source = typeof root.source === 'string' && identifier.test(root.source) ? root.source : '';
  if (!source) problems.add('source', 'must be a lower-case identifier naming this source');
  const prefix = typeof root.prefix === 'string' ? root.prefix : '';
  const prefixProblem = keyPrefixProblem(prefix);
  if (prefixProblem) problems.add('prefix', prefixProblem);
  else if (/^(parsed|rejected|summaries)\//.test(prefix)) problems.add('prefix', 'must not be under parsed/, rejected/ or summaries/, where the parser writes');
  const datedKeys = root.dated_keys === undefined ? undefined : typeof root.dated_keys === 'string' ? root.dated_keys : '';
  const datedKeysProblemFound = datedKeys === undefined ? undefined : datedKeysProblem(datedKeys);
  if (datedKeysProblemFound) problems.add('dated_keys', datedKeysProblemFound);
  const unmatched = root.unmatched ?? 'ignore';
  if (unmatched !== 'ignore' && unmatched !== 'reject') problems.add('unmatched', 'must be ignore or reject');
  const dialects = compileDialects(root.dialects, options, problems);
  const declared = compileTables(root.tables, ownTables, problems);
  const tables = new Map([...builtinTables, ...declared]);
  // Fields can only be checked when every dialect compiled and all have fixed fields.
  const open = dialects.some((d) => d.fields === undefined) || !Array.isArray(root.dialects) || dialects.length < root.dialects.length;
  const knownFields = open ? undefined : new Set([...builtinFields, ...dialects.flatMap((d) => d.fields ?? [])]);
  if (root.filter !== undefined && !isMap(root.filter)) problems.add('filter', 'must be a map of match_<field> / pattern_<field> conditions');
  const filter = isMap(root.filter) ? compileConditions(root.filter, 'filter', knownFields, problems).conditions : [];
  if (isMap(root.filter)) for (const key of Object.keys(root.filter)) if (!/^(match|pattern)_/.test(key)) problems.add(`filter.${key}`, 'filters take only match_<field> and pattern_<field>');
  const rules = compileRuleList(root.rules, tables, ownTables, knownFields, problems);
  // A column must read a field some dialect has or some rule sets, or it could never be filled.
  if (knownFields) {
    const setFields = new Set(rules.flatMap((r) => r.set.map((s) => s.field)));
    for (const [name, table] of declared) {
      table.fields.forEach((field, i) => {
        if (!knownFields.has(field) && !setFields.has(field)) problems.add(`tables.${name}.columns.${table.definition.columns[i]!.name}`, `reads field "${field}", which no dialect has and no rule sets`);
      });
    }
  }
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  // Only tables some rule routes to are outputs of this source.
  const used = new Map([...tables].filter(([, t]) => rules.some((r) => r.table === t)));
  return { source, prefix, ...(datedKeys === undefined ? {} : { datedKeys }), file, dialects, tables: used, filter, rules, unmatched: unmatched as RuleSet['unmatched'] };
}

