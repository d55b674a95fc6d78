import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FerryConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { dialectFor } from '../../core/loader/dialects/dialect-for.js';
import { sourceCountsTable } from '../../core/loader/source-counts.js';
import type { TableDefinition } from '../../core/model/table-definition.js';
import { compileRules } from '../../core/parser/rules/compile-rules.js';
import { compileRuleSets, loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { withRejectionRules } from '../../core/rejections/rejection-rules.js';
import { bookkeepingSql } from '../../core/runs/bookkeeping-sql.js';
import { RunRecordsSql } from '../../core/runs/run-records.js';
import { transformDialectFor } from '../../core/transform/dialects/transform-dialect-for.js';
import { RecordingWarehouse } from '../support/recording-warehouse.js';
import { planFor, type Decision } from '../../core/parser/rules/rule-plan.js';
import { ruleSetFor } from '../../core/parser/rules/rule-set.js';

const options = { clockSkewThresholdS: 300 };

function rules(body: string, head = ''): string {
  return `source: app
prefix: logs/app/
dialects:
  - name: app
    type: json
    require: [msg]
${head}tables:
  out:
    columns:
      event: text
      level: text
      user: { type: text, from: ctx.user }
rules:
${body}`;
}

function decide(yaml: string, fields: Record<string, string | null>): Decision & { row?: Record<string, unknown> } {
  const set = compileRules(yaml, 'test.yml', options);
  const plan = planFor(set);
  // A record as a dialect reader hands it over: the plan's fields in order, absent ones undefined.
  const values = plan.fields.map((f) => (Object.hasOwn(fields, f) ? fields[f] : undefined));
  const decision = plan.classify(values, 'logs/app/x.log', 7);
  if (decision.kind !== 'route') return decision;
  const { table } = decision.table;
  const row = Object.fromEntries(table.definition.columns.map((c, i) => [c.name, values[plan.fields.indexOf(table.fields[i]!)] ?? null]));
  return { ...decision, row };
}

function problems(yaml: string): string[] {
  try {
    compileRules(yaml, 'test.yml', options);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.reason}`);
    throw err;
  }
  return [];
}

describe('rule semantics', () => {
  it('the first matching rule decides, in file order', () => {
    const yaml = rules(`  - match_level: error
    table: out
    event: first
  - match_level: error
    table: out
    event: second
`);
    expect(decide(yaml, { level: 'error' }).row).toMatchObject({ event: 'first', level: 'error' });
  });

  it('conditions combine with AND', () => {
    const yaml = rules(`  - match_level: error
    pattern_msg: ^disk
    table: out
    event: disk_error
  - pattern_msg: ^disk
    table: out
    event: disk_other
`);
    expect(decide(yaml, { level: 'error', msg: 'disk full' }).row?.event).toBe('disk_error');
    expect(decide(yaml, { level: 'info', msg: 'disk full' }).row?.event).toBe('disk_other');
  });

  it('substitutes regex groups of all patterns, in condition order', () => {
    const yaml = rules(`  - pattern_msg: ^(\\w+) (\\w+)
    pattern_level: ^(.)
    table: out
    event: '{1}.{0}/{2}'
`);
    expect(decide(yaml, { msg: 'task created', level: 'info' }).row?.event).toBe('created.task/i');
  });

  it('matches any of a list, and null as empty or absent', () => {
    const yaml = rules(`  - match_level: [warn, error]
    table: out
    event: bad
  - match_level: null
    table: out
    event: no_level
`);
    expect(decide(yaml, { level: 'warn' }).row?.event).toBe('bad');
    expect(decide(yaml, { level: null }).row?.event).toBe('no_level');
    expect(decide(yaml, {}).row?.event).toBe('no_level');
    expect(decide(yaml, { level: 'info' })).toEqual({ kind: 'ignore', reason: 'unmatched' });
  });

  it('compares numbers as their text', () => {
    const yaml = rules(`  - match_status: 404
    table: out
    event: missing
`);
    expect(decide(yaml, { status: '404' }).row?.event).toBe('missing');
  });

  it('ignores, routes, and rejects or ignores unmatched records as configured', () => {
    const body = `  - pattern_msg: ^healthz
    ignore: true
  - pattern_msg: .
    table: out
`;
    expect(decide(rules(body), { msg: 'healthz ok' })).toEqual({ kind: 'ignore', reason: 'rule' });
    expect(decide(rules(body), { msg: 'hello', level: 'info' }).row).toEqual({ event: null, level: 'info', user: null, source_key: 'logs/app/x.log', line_number: '7' });
    expect(decide(rules(body), { msg: '' })).toEqual({ kind: 'ignore', reason: 'unmatched' });
    expect(decide(rules(body, 'unmatched: reject\n'), { msg: '' })).toEqual({ kind: 'reject', reason: 'no rule matched' });
  });

  it('filters records before the rules (production only) and can filter on the source', () => {
    const body = `  - table: out
    event: kept
`;
    expect(decide(rules(body, 'filter:\n  match_env: production\n'), { env: 'staging' })).toEqual({ kind: 'ignore', reason: 'filtered' });
    expect(decide(rules(body, 'filter:\n  match_env: production\n'), { env: 'production' }).row?.event).toBe('kept');
    expect(decide(rules(body, 'filter:\n  pattern_source_key: /x\\.log$\n'), {}).row?.event).toBe('kept');
    expect(decide(rules(body, 'filter:\n  pattern_source_key: /y\\.log$\n'), {})).toEqual({ kind: 'ignore', reason: 'filtered' });
  });

  it('routes to the built-in events table and picks the rule set with the longest prefix', () => {
    const sets = compileRuleSets(
      [{ path: 'a.yml', text: rules('  - table: out\n') }, { path: 'b.yml', text: rules('  - table: out\n').replace('source: app', 'source: deep').replace('logs/app/', 'logs/app/deep/') }],
      options,
    );
    expect(sets.map((s) => s.source)).toEqual(['events', 'app', 'deep']);
    expect(ruleSetFor(sets, 'logs/app/deep/1.log')?.source).toBe('deep');
    expect(ruleSetFor(sets, 'logs/app/1.log')?.source).toBe('app');
    expect(ruleSetFor(sets, 'raw/events/2026/x.ndjson.gz')?.source).toBe('events');
    expect(ruleSetFor(sets, 'elsewhere/1.log')).toBeUndefined();
  });
});

describe('rules file errors name the file, rule index, key and reason', () => {
  it.each([
    ['an unknown rule key (a typo of table)', rules('  - match_level: x\n    tabel: out\n'), ['test.yml: rules[0]: needs a table to route to, or ignore: true', 'test.yml: rules[0].tabel: is not a rule keyword (match_<field>, pattern_<field>, table, ignore)']],
    ['a set field no column reads', rules('  - table: out\n    evnt: x\n'), ['test.yml: rules[0].evnt: is neither a rule keyword (match_<field>, pattern_<field>, table, ignore) nor a field that a column of out reads']],
    ['a bad regex', rules('  - pattern_msg: "(unclosed"\n    table: out\n'), [expect.stringMatching(/^test\.yml: rules\[0\]\.pattern_msg: is not a valid regular expression/)]],
    ['a group the patterns do not have', rules('  - pattern_msg: ^(a)\n    table: out\n    event: "{1}"\n'), ['test.yml: rules[0].event: {1} refers to a regex group the rule\'s patterns do not have (they have 1)']],
    ['an unknown table', rules('  - table: nope\n'), [expect.stringMatching(/^test\.yml: rules\[0\]\.table: "nope" is not a table of this file/)]],
    ['table and ignore together', rules('  - table: out\n    ignore: true\n'), ['test.yml: rules[0]: has both table and ignore: true']],
    ['a bad match value', rules('  - match_level: {a: 1}\n    table: out\n'), ['test.yml: rules[0].match_level: must be a value, a list of values, or null (empty)']],
    ['an unknown top-level key', rules('  - table: out\n', 'rule:\n  - x\n'), [expect.stringMatching(/^test\.yml: rule: is not a rules-file key/)]],
    ['an unknown dialect preset', rules('  - table: out\n').replace('  - name: app\n    type: json\n    require: [msg]', '  - nginx_fancy'), [expect.stringMatching(/^test\.yml: dialects\[0\]: "nginx_fancy" is not a dialect preset/)]],
    ['a bad log_format', rules('  - table: out\n').replace('  - name: app\n    type: json\n    require: [msg]', '  - {name: n, type: nginx, log_format: "$a$b"}'), [expect.stringMatching(/^test\.yml: dialects\[0\]\.log_format: \$a and \$b have no separator/)]],
    ['a bad column type', rules('  - table: out\n').replace('event: text', 'event: string'), ['test.yml: tables.out.columns.event.type: must be one of text, bigint, double, timestamp, json']],
    ['a key naming no column', rules('  - table: out\n').replace('    columns:', '    key: [id]\n    columns:'), ['test.yml: tables.out.key: "id" is not a column of out']],
    ['a prefix without a slash', rules('  - table: out\n').replace('logs/app/', 'logs'), [expect.stringMatching(/^test\.yml: prefix: must be an object key prefix/)]],
    ['a prefix climbing out of the store', rules('  - table: out\n').replace('logs/app/', '../../../x/'), ['test.yml: prefix: must be an object key prefix ending in "/", such as logs/nginx/; "../../../x/" has a "." or ".." segment']],
    ['a prefix with a .. segment inside', rules('  - table: out\n').replace('logs/app/', 'logs/../../x/'), [expect.stringMatching(/^test\.yml: prefix: .*"logs\/\.\.\/\.\.\/x\/" has a "\." or "\.\." segment$/)]],
    ['an absolute prefix', rules('  - table: out\n').replace('logs/app/', '/etc/'), [expect.stringMatching(/^test\.yml: prefix: .*"\/etc\/" is an absolute path$/)]],
    ['a drive-letter prefix', rules('  - table: out\n').replace('logs/app/', 'C:/logs/'), [expect.stringMatching(/"C:\/logs\/" is an absolute path$/)]],
    ['a prefix with a backslash', rules('  - table: out\n').replace('logs/app/', '"logs\\\\..\\\\x/"'), [expect.stringMatching(/^test\.yml: prefix: .* has a backslash$/)]],
    ['a prefix with an empty segment', rules('  - table: out\n').replace('logs/app/', 'logs//app/'), [expect.stringMatching(/has an empty segment/)]],
    ['a table named like Ferry\'s own', rules('  - table: load_manifest\n').replace('  out:\n', '  load_manifest:\n'), [
      'test.yml: tables.load_manifest: "load_manifest" is one of Ferry\'s own tables (load_manifest, load_failures, load_quarantine, load_collisions, load_leases, source_counts, runs, rejections, transform_state, transform_inputs, transform_changes, transform_lease, ferry_staging_…); choose another name',
      'test.yml: rules[0].table: "load_manifest" is one of Ferry\'s own tables; rows cannot be routed to it',
    ]],
    ['a rule routing to source_counts', rules('  - table: source_counts\n'), ['test.yml: rules[0].table: "source_counts" is one of Ferry\'s own tables; rows cannot be routed to it']],
    ['a table named rejections (the refused requests\')', rules('  - table: rejections\n').replace('  out:\n', '  rejections:\n'), [
      expect.stringMatching(/^test\.yml: tables\.rejections: "rejections" is one of Ferry's own tables \(.*\); choose another name$/),
      'test.yml: rules[0].table: "rejections" is one of Ferry\'s own tables; rows cannot be routed to it',
    ]],
    ['a rule routing to runs, undeclared', rules('  - table: runs\n'), ['test.yml: rules[0].table: "runs" is one of Ferry\'s own tables; rows cannot be routed to it']],
    ['a table named like a Synapse staging table', rules('  - table: ferry_staging_out\n').replace('  out:\n', '  ferry_staging_out:\n'), [
      expect.stringMatching(/^test\.yml: tables\.ferry_staging_out: "ferry_staging_out" is one of Ferry's own tables/),
      'test.yml: rules[0].table: "ferry_staging_out" is one of Ferry\'s own tables; rows cannot be routed to it',
    ]],
    ['a declared events table (the collector\'s, routed to by name)', rules('  - table: out\n').replace('  out:\n', '  events:\n'), [
      expect.stringMatching(/^test\.yml: tables\.events: "events" is a built-in table; route to it without declaring it$/),
      expect.stringMatching(/^test\.yml: rules\[0\]\.table: "out" is not a table of this file/),
    ]],
    ['YAML that does not parse', 'source: [unclosed\n', [expect.stringMatching(/^test\.yml: line \d+: /)]],
    ['no rules', rules(''), ['test.yml: rules: must be a non-empty list of rules']],
  ])('%s', (_what, yaml, expected) => {
    expect(problems(yaml)).toEqual(expected);
  });

  it('checks fields against the dialects when they are fixed', () => {
    const yaml = `source: web
prefix: logs/web/
dialects: [nginx_combined]
tables:
  hits:
    columns:
      path: text
      agent: { type: text, from: user_agent }
rules:
  - match_methd: GET
    table: hits
`;
    expect(problems(yaml)).toEqual([
      'test.yml: rules[0].match_methd: no dialect of this file has a field "methd"',
      'test.yml: tables.hits.columns.agent: reads field "user_agent", which no dialect has and no rule sets',
    ]);
  });

  it('refuses two files for one source or prefix, and one table declared two ways', () => {
    const a = rules('  - table: out\n');
    const b = a.replace('source: app', 'source: other').replace('event: text', 'event: bigint');
    expect(() => compileRuleSets([{ path: 'a.yml', text: a }, { path: 'b.yml', text: a }], options)).toThrow(/already used by a\.yml/);
    expect(() => compileRuleSets([{ path: 'a.yml', text: a }, { path: 'b.yml', text: b.replace('logs/app/', 'logs/b/') }], options)).toThrow(/b\.yml: tables\.out: is declared differently in a\.yml/);
  });
});

describe('reserved table names', () => {
  const warehouseKinds = ['postgres', 'redshift', 'azuresql', 'synapse', 'fabric'] as const;

  /** Every table Ferry itself creates in its schema, from the DDL each warehouse is sent. */
  async function ferryTables(): Promise<Set<string>> {
    const names = new Set<string>([sourceCountsTable.name]);
    const add = (statement: string) => {
      for (const m of statement.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(?:"ferry"|\[ferry\]|ferry)\.(?:"([a-z_]+)"|\[([a-z_]+)\]|([a-z_]+))/g)) names.add(m[1] ?? m[2] ?? m[3]!);
    };
    const target: TableDefinition = { name: 'out', columns: [{ name: 'id', type: 'text', required: true }], key: ['id'] };
    for (const kind of warehouseKinds) {
      const warehouse = new RecordingWarehouse();
      await dialectFor({ warehouse: { kind, redshiftIamRole: 'arn:aws:iam::123456789012:role/ferry-copy' } as FerryConfig['warehouse'], warehouseSchema: 'ferry' }).ensureSchema(warehouse, [target]);
      for (const entry of warehouse.log) if (entry.kind === 'query' || entry.kind === 'execute') add(entry.sql.replace(/IF OBJECT_ID\([^)]*\) IS NULL /, ''));
      new RunRecordsSql(bookkeepingSql(kind), 'ferry').createStatements('ferry').forEach(add);
      transformDialectFor(kind, 'ferry', 'models').createStatements().forEach(add);
    }
    for (const set of withRejectionRules(compileRuleSets([], options), options)) for (const table of set.tables.keys()) if (table !== 'events') names.add(table);
    names.delete('out'); // the target table itself
    return names;
  }

  it('are every table Ferry keeps in its schema, on every warehouse, and a rules file declaring any of them is refused', async () => {
    const tables = await ferryTables();
    expect([...tables].sort()).toEqual(expect.arrayContaining(['load_manifest', 'rejections', 'runs', 'source_counts', 'transform_state']));
    for (const name of tables) {
      const yaml = rules(`  - table: ${name}\n`).replace('  out:\n', `  ${name}:\n`);
      expect(problems(yaml), name).toEqual([
        expect.stringMatching(new RegExp(`^test\\.yml: tables\\.${name}: "${name}" is one of Ferry's own tables`)),
        `test.yml: rules[0].table: "${name}" is one of Ferry's own tables; rows cannot be routed to it`,
      ]);
    }
  });

  it('leave Ferry\'s own rejection rules their table, and refuse a rules file naming it at load, with the file', async () => {
    const sets = withRejectionRules(compileRuleSets([], options), options);
    expect(sets.map((s) => [...s.tables.keys()])).toEqual([['events'], ['rejections']]);
    const dir = await mkdtemp(join(tmpdir(), 'ferry-rules-'));
    try {
      const file = join(dir, 'refusals.yml');
      await writeFile(file, rules('  - table: rejections\n').replace('  out:\n', '  rejections:\n'));
      const refused = await loadRuleSets([file], options).then(() => undefined, (err: unknown) => err);
      expect(refused).toBeInstanceOf(ConfigError);
      expect((refused as ConfigError).problems.map((p) => p.key)).toEqual([`${file}: tables.rejections`, `${file}: rules[0].table`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dated_keys (how a source\'s keys start with their date)', () => {
  const dated = (template: string) => rules('  - table: out\n', `dated_keys: "${template}"\n`);

  it('is read for templates naming the year, month and day once each', () => {
    expect(compileRules(dated('{yyyy}/{mm}/{dd}/'), 'test.yml', options).datedKeys).toBe('{yyyy}/{mm}/{dd}/');
    expect(compileRules(dated('dt={yyyy}-{mm}-{dd}/'), 'test.yml', options).datedKeys).toBe('dt={yyyy}-{mm}-{dd}/');
    expect(compileRules(dated('{yyyy}{mm}{dd}-'), 'test.yml', options).datedKeys).toBe('{yyyy}{mm}{dd}-');
    expect(compileRules(rules('  - table: out\n'), 'test.yml', options).datedKeys).toBeUndefined();
  });

  it('is refused, naming the key and what is wrong, when it cannot name a date', () => {
    expect(problems(dated('{yyyy}/{mm}/'))).toEqual([expect.stringMatching(/^test\.yml: dated_keys: must name the date .* has no \{dd\}$/)]);
    expect(problems(dated('{yyyy}/{mm}/{dd}/{dd}/'))).toEqual([expect.stringMatching(/has more than one \{dd\}$/)]);
    expect(problems(dated('{yyyy}/{mm}/{dd}/{hh}/'))).toEqual([expect.stringMatching(/has a brace that is not one of them$/)]);
    expect(problems(dated('/{yyyy}/{mm}/{dd}/'))).toEqual([expect.stringMatching(/leading \/, a backslash or an empty segment$/)]);
    expect(problems(dated('../{yyyy}/{mm}/{dd}/'))).toEqual([expect.stringMatching(/has a "\." or "\.\." segment$/)]);
    expect(problems(rules('  - table: out\n', 'dated_keys: [2026]\n'))).toEqual([expect.stringMatching(/^test\.yml: dated_keys: must name the date/)]);
  });
});
