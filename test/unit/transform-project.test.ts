import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresTransform } from '../../core/transform/dialects/postgres.js';
import { transformDialectFor } from '../../core/transform/dialects/transform-dialect-for.js';
import { parseChecks, readModelFiles, type ModelFile } from '../../core/transform/model-files.js';
import { buildProject } from '../../core/transform/project.js';
import { repoPath } from '../support/fixtures.js';

const target = new PostgresTransform('ferry', 'analytics').renderTarget();
const file = (name: string, template: string): ModelFile => ({ name, path: `models/${name}.sql`, template, checks: [] });
const build = (...files: ModelFile[]) => buildProject(files, target, '2026-11-24');

describe('models and their DAG', () => {
  it('orders models after the models they ref, whatever the file order', () => {
    const project = build(
      file('c', "SELECT * FROM {{ ref('b') }}"),
      file('b', "SELECT * FROM {{ ref('a') }} JOIN {{ source('ferry', 'events') }} e ON true"),
      file('a', 'SELECT 1 AS x'),
      file('d', "SELECT * FROM {{ ref('a') }}"),
    );
    expect(project.models.map((m) => m.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(project.get('b')).toMatchObject({ refs: ['a'], sources: ['events'], config: { materialized: 'table' } });
    expect(project.get('b').template.render({ runDate: '2026-11-24', incremental: false })).toBe('SELECT * FROM "analytics"."a" JOIN "ferry"."events" e ON true');
  });

  it('fails at start on a ref() cycle, naming the file that closes it', () => {
    expect(() => build(file('a', "SELECT * FROM {{ ref('b') }}"), file('b', "SELECT * FROM {{ ref('c') }}"), file('c', "SELECT * FROM {{ ref('a') }}"))).toThrow(
      'models/c.sql: ref() cycle: a → b → c → a',
    );
    expect(() => build(file('self', "SELECT * FROM {{ ref('self') }}"))).toThrow('models/self.sql: ref() cycle: self → self');
  });

  it('fails at start on a ref() to no model, naming the file', () => {
    expect(() => build(file('a', 'SELECT 1 AS x'), file('b', "SELECT * FROM {{ ref('nope') }}"))).toThrow("models/b.sql: ref('nope') names no model (models: a, b)");
  });

  it('finds refs in every branch of is_incremental()', () => {
    const project = build(file('a', 'SELECT 1 AS x'), file('b', "SELECT * FROM {% if is_incremental() %}{{ ref('a') }}{% else %}(SELECT 1 AS x) t{% endif %}"));
    expect(project.get('b').refs).toEqual(['a']);
  });

  it.each([
    ['a template that does not compile', 'SELECT {% if %}', /models\/m\.sql: template does not compile: .*unexpected token/],
    ['an undefined variable', 'SELECT {{ nope }}', /models\/m\.sql: template does not render: .*null or undefined/],
    ['a source other than ferry', "SELECT * FROM {{ source('crm', 'users') }}", "models/m.sql: source(\"crm\", …): the only source is 'ferry', Ferry's own tables (FERRY_WAREHOUSE_SCHEMA)"],
    ['a ref that is no SQL name', "SELECT * FROM {{ ref('Bad Name') }}", 'models/m.sql: ref(): "Bad Name" is not a lower-case SQL name in quotes'],
    ['an unknown config key', "{{ config(materialised='table') }}SELECT 1", 'models/m.sql: config(materialised=…): unknown setting (materialized, partition_by, unique_key)'],
    ['a materialization Ferry has not', "{{ config(materialized='ephemeral') }}SELECT 1", `models/m.sql: config(materialized="ephemeral"): must be 'table', 'view' or 'incremental'`],
    ['an incremental model without partition_by', "{{ config(materialized='incremental') }}SELECT 1", /models\/m\.sql: config\(materialized='incremental'\) needs partition_by/],
    ['something other than a SELECT', 'DELETE FROM ferry.events', 'models/m.sql: a model is one SELECT (or WITH … SELECT) statement'],
  ])('names the file and the problem for %s', (_case, template, message) => {
    expect(() => build(file('m', template))).toThrow(message);
  });

  it('renders per-dialect branches, quoting and variables for each warehouse', () => {
    const template = "{{ config(materialized='incremental', partition_by='day') }}SELECT {% if dialect == 'tsql' %}TOP 1 {% endif %}'{{ run_date }}' AS day, '{{ warehouse }}' AS w FROM {{ this }}, {{ ref('a') }};";
    const render = (kind: 'postgres' | 'redshift' | 'synapse') => {
      const project = buildProject([file('a', 'SELECT 1 AS x'), file('m', template)], transformDialectFor(kind, 'ferry', 'analytics').renderTarget(), '2026-11-24');
      return project.get('m').template.render({ runDate: '2026-11-24', incremental: false });
    };
    expect(render('postgres')).toBe(`SELECT '2026-11-24' AS day, 'postgres' AS w FROM "analytics"."m", "analytics"."a"`);
    expect(render('redshift')).toBe(`SELECT '2026-11-24' AS day, 'redshift' AS w FROM "analytics"."m", "analytics"."a"`);
    expect(render('synapse')).toBe(`SELECT TOP 1 '2026-11-24' AS day, 'synapse' AS w FROM [analytics].[m], [analytics].[a]`);
  });

  it('selects dbt-style: a model, with its descendants (name+), with its ancestors (+name)', () => {
    const project = build(file('a', 'SELECT 1 AS x'), file('b', "SELECT * FROM {{ ref('a') }}"), file('c', "SELECT * FROM {{ ref('b') }}"), file('z', 'SELECT 1 AS x'));
    expect([...project.select(['b'])]).toEqual(['b']);
    expect([...project.select(['b+'])].sort()).toEqual(['b', 'c']);
    expect([...project.select(['+b'])].sort()).toEqual(['a', 'b']);
    expect([...project.select(['a+,z'])].sort()).toEqual(['a', 'b', 'c', 'z']);
    expect(() => project.select(['nope'])).toThrow(/no model named nope/);
  });

  it('adds a unique check for a declared unique_key', () => {
    const project = build(file('m', "{{ config(unique_key=['day', 'platform']) }}SELECT 1 AS day, 2 AS platform"));
    expect(project.get('m').checks).toEqual([{ kind: 'unique', columns: ['day', 'platform'] }]);
  });
});

describe('checks files', () => {
  it('reads dbt-style column and model checks', () => {
    const yml = `columns:
  - name: day
    tests: [not_null, unique]
  - name: platform
    data_tests:
      - accepted_values: { values: [iOS, Android, 7] }
tests:
  - unique: { columns: [day, platform] }
  - row_count_anomaly: { date_column: day, measure: sum(users) }
`;
    expect(parseChecks('m.yml', yml)).toEqual([
      { kind: 'not_null', column: 'day' },
      { kind: 'unique', columns: ['day'] },
      { kind: 'accepted_values', column: 'platform', values: ['iOS', 'Android', '7'] },
      { kind: 'unique', columns: ['day', 'platform'] },
      { kind: 'row_count_anomaly', dateColumn: 'day', measure: 'sum(users)' },
    ]);
  });

  it.each([
    ['columns:\n  - name: day\n    tests: [not_nul]\n', 'm.yml: columns[0].tests[0]: unknown check "not_nul" (not_null, unique, accepted_values, row_count_anomaly)'],
    ['columns:\n  - name: Day\n    tests: [not_null]\n', 'm.yml: columns[0].name: "Day" is not a lower-case column name'],
    ['tests:\n  - accepted_values: { column: x }\n', 'm.yml: tests[0]: accepted_values needs values: [...] (strings or numbers)'],
    ['tests:\n  - row_count_anomaly: { date_column: day, measure: "1; DROP TABLE x" }\n', 'm.yml: tests[0]: measure must be one SQL expression, e.g. sum(events)'],
    ['colums: []\n', 'm.yml: colums: is not a key of a checks file (columns, tests)'],
    ['columns: [\n', /m\.yml: not valid YAML/],
  ])('names the file and entry of a bad checks file (%#)', (yml, message) => {
    expect(() => parseChecks('m.yml', yml)).toThrow(message);
  });

  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('refuses a model file name that is no SQL name, and a checks file without its model', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-models-'));
    await writeFile(join(dir, 'Daily Users.sql'), 'SELECT 1');
    await expect(readModelFiles(dir)).rejects.toThrow(`${join(dir, 'Daily Users.sql')}: "Daily Users" is no model name`);
    await rm(join(dir, 'Daily Users.sql'));
    await writeFile(join(dir, 'orphan.yml'), 'tests: []');
    await expect(readModelFiles(dir)).rejects.toThrow(`${join(dir, 'orphan.yml')}: declares checks for no model`);
  });

  it('reads the example models with their checks', async () => {
    const files = await readModelFiles(repoPath('examples/models'));
    expect(files.map((f) => f.name)).toEqual(['api_latency', 'daily_active_users', 'events_per_day', 'platform_share', 'task_events', 'task_funnel']);
    expect(files.find((f) => f.name === 'events_per_day')!.checks).toContainEqual({ kind: 'row_count_anomaly', dateColumn: 'day', measure: 'sum(events)' });
  });
});
