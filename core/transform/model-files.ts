import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ModelError } from './transform-error.js';

/** A dbt-style check declared beside a model, run after it is built. */
export type CheckSpec =
  | { kind: 'not_null'; column: string }
  | { kind: 'unique'; columns: string[] }
  | { kind: 'accepted_values'; column: string; values: string[] }
  /** night-shift's volume rule: the day before the run date against the median of the 7 before it. */
  | { kind: 'row_count_anomaly'; dateColumn: string; measure: string };

/** One model as read from its folder: `<name>.sql` and, optionally, `<name>.yml` with checks. */
export interface ModelFile {
  name: string;
  /** Path of the `.sql` file, as errors and logs show it. */
  path: string;
  template: string;
  checks: CheckSpec[];
}

/** Longest model name: leaves room for the suffix of the table a rebuild swaps in. */
export const maxModelName = 48;
const modelName = new RegExp(`^[a-z_][a-z0-9_]{0,${maxModelName - 1}}$`);
const columnName = /^[a-z_][a-z0-9_]{0,62}$/;

/** A check's name in run records and logs, e.g. `not_null(day)`. */
export function checkName(check: CheckSpec): string {
  switch (check.kind) {
    case 'not_null':
    case 'accepted_values':
      return `${check.kind}(${check.column})`;
    case 'unique':
      return `unique(${check.columns.join(', ')})`;
    case 'row_count_anomaly':
      return `row_count_anomaly(${check.dateColumn})`;
  }
}

function column(file: string, where: string, value: unknown): string {
  if (typeof value !== 'string' || !columnName.test(value)) throw new ModelError(file, `${where}: "${String(value)}" is not a lower-case column name`);
  return value;
}

/** One entry of a `tests:` list: `not_null` or `{accepted_values: {values: [...]}}`. */
function parseCheck(file: string, where: string, entry: unknown, ofColumn: string | undefined): CheckSpec {
  const [kind, args] = typeof entry === 'string' ? [entry, {}] : entry && typeof entry === 'object' && Object.keys(entry).length === 1 ? Object.entries(entry)[0]! : [undefined, undefined];
  const options = (args ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object') throw new ModelError(file, `${where}: the options of ${kind} must be a mapping`);
  switch (kind) {
    case 'not_null':
      return { kind, column: column(file, where, options.column ?? ofColumn) };
    case 'unique': {
      const columns = options.columns ?? (ofColumn === undefined ? undefined : [ofColumn]);
      if (!Array.isArray(columns) || columns.length === 0) throw new ModelError(file, `${where}: unique needs columns: [...]`);
      return { kind, columns: columns.map((c) => column(file, where, c)) };
    }
    case 'accepted_values': {
      const values = options.values;
      if (!Array.isArray(values) || values.length === 0 || !values.every((v) => ['string', 'number'].includes(typeof v))) {
        throw new ModelError(file, `${where}: accepted_values needs values: [...] (strings or numbers)`);
      }
      return { kind, column: column(file, where, options.column ?? ofColumn), values: values.map(String) };
    }
    case 'row_count_anomaly': {
      const measure = options.measure ?? 'count(*)';
      if (typeof measure !== 'string' || /;|--|\/\*/.test(measure)) throw new ModelError(file, `${where}: measure must be one SQL expression, e.g. sum(events)`);
      return { kind, dateColumn: column(file, where, options.date_column ?? ofColumn), measure };
    }
    default:
      throw new ModelError(file, `${where}: unknown check ${JSON.stringify(kind ?? entry)} (not_null, unique, accepted_values, row_count_anomaly)`);
  }
}

/** The checks of a model's `.yml` (dbt's layout: `columns: [{name, tests}]` and model-level `tests`). */
export function parseChecks(file: string, text: string): CheckSpec[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ModelError(file, `not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ModelError(file, 'must be a mapping with columns and/or tests');
  const checks: CheckSpec[] = [];
  const { columns = [], tests, data_tests, ...rest } = doc as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new ModelError(file, `${unknown[0]}: is not a key of a checks file (columns, tests)`);
  if (!Array.isArray(columns)) throw new ModelError(file, 'columns must be a list of {name, tests}');
  columns.forEach((c: unknown, i) => {
    const entry = (c ?? {}) as Record<string, unknown>;
    const name = column(file, `columns[${i}].name`, entry.name);
    const list = entry.tests ?? entry.data_tests ?? [];
    if (!Array.isArray(list)) throw new ModelError(file, `columns[${i}].tests must be a list`);
    list.forEach((t, j) => checks.push(parseCheck(file, `columns[${i}].tests[${j}]`, t, name)));
  });
  const modelTests = tests ?? data_tests ?? [];
  if (!Array.isArray(modelTests)) throw new ModelError(file, 'tests must be a list');
  modelTests.forEach((t, j) => checks.push(parseCheck(file, `tests[${j}]`, t, undefined)));
  return checks;
}

/** Reads every `<name>.sql` of `dir` (sorted by name) with its checks file, if any. */
export async function readModelFiles(dir: string): Promise<ModelFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw new ModelError(dir, `cannot read the models folder (FERRY_MODELS): ${(err as Error).message}`, { cause: err });
  }
  const models: ModelFile[] = [];
  for (const entry of names.filter((n) => n.endsWith('.sql'))) {
    const path = join(dir, entry);
    const name = entry.slice(0, -'.sql'.length);
    if (!modelName.test(name)) throw new ModelError(path, `"${name}" is no model name: lower-case letters, digits and _, at most ${maxModelName} characters`);
    const yml = names.find((n) => n === `${name}.yml` || n === `${name}.yaml`);
    const checks = yml ? parseChecks(join(dir, yml), await readFile(join(dir, yml), 'utf8')) : [];
    models.push({ name, path, template: await readFile(path, 'utf8'), checks });
  }
  for (const entry of names.filter((n) => /\.ya?ml$/.test(n))) {
    if (!names.includes(entry.replace(/\.ya?ml$/, '.sql'))) throw new ModelError(join(dir, entry), 'declares checks for no model (no .sql file of that name)');
  }
  return models;
}
