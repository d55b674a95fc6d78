import { describe, expect, it } from 'vitest';
import { ParseError } from '../../core/errors.js';
import { jsonLinesDialect } from '../../core/parser/dialects/json-lines.js';
import { nginxDialect, timedLogFormat } from '../../core/parser/dialects/nginx.js';
import { compileRules } from '../../core/parser/rules/compile-rules.js';
import { compileRuleSets } from '../../core/parser/rules/load-rules.js';
import { planFor } from '../../core/parser/rules/rule-plan.js';
import type { RuleSet } from '../../core/parser/rules/rule-set.js';

const options = { clockSkewThresholdS: 300 };
const ctx = { sourceKey: 'logs/app/a.log', lineNumber: 3 };

/** Reads `line` with the plan's first dialect that takes it, classifies it and encodes the rows. */
function run(yaml: string | RuleSet, line: string): string[] | string {
  const plan = planFor(typeof yaml === 'string' ? compileRules(yaml, 'test.yml', options) : yaml);
  const records = plan.read(line, ctx);
  if (!records) return 'no dialect';
  return records.map((values) => {
    const decision = plan.classify(values, ctx.sourceKey, ctx.lineNumber);
    if (decision.kind !== 'route') return `${decision.kind}: ${decision.reason}`;
    plan.complete(values);
    return `${decision.table.row(values)}\n`;
  });
}

const jsonRules = (rules: string, columns = '      msg: text\n') => `source: app
prefix: logs/app/
dialects:
  - name: app
    type: json
tables:
  out:
    columns:
${columns}rules:
${rules}`;

describe('rule plans', () => {
  it('is made once per rule set, with table columns first in the field layout', () => {
    const set = compileRules(jsonRules('  - table: out\n', '      msg: text\n      level: text\n'), 'test.yml', options);
    expect(planFor(set)).toBe(planFor(set));
    expect(planFor(set).fields).toEqual(['msg', 'level', 'source_key', 'line_number']);
  });

  it('lets a record\'s own field win over the built-in field of the same name', () => {
    const yaml = jsonRules('  - table: out\n', '      source_key: text\n      line_number: bigint\n      source: text\n');
    expect(run(yaml, '{"source_key":"mine","source":null}')).toEqual(['mine,3,\n']);
    expect(run(yaml, '{"msg":"x"}')).toEqual(['logs/app/a.log,3,app\n']);
  });

  it('writes set fields over the record\'s own values only for the rule that matched', () => {
    const yaml = jsonRules(`  - pattern_msg: ^(\\w+) saved$
    table: out
    msg: 'Saved.{0}'
  - table: out
`);
    expect(run(yaml, '{"msg":"task saved"}')).toEqual(['Saved.task,logs/app/a.log,3\n']);
    expect(run(yaml, '{"msg":"task deleted"}')).toEqual(['task deleted,logs/app/a.log,3\n']);
  });

  it('reads the fields only rows use just for the records the rules keep', () => {
    const yaml = jsonRules(`  - match_level: debug
    ignore: true
  - table: out
`, '      ctx: json\n      level: text\n');
    const plan = planFor(compileRules(yaml, 'test.yml', options));
    expect(plan.fields.slice(0, 1)).toEqual(['level']);
    const ctxSlot = plan.fields.indexOf('ctx');
    const [ignored] = plan.read('{"level":"debug","ctx":{"a":1}}', ctx)!;
    expect(plan.classify(ignored!, ctx.sourceKey, 1)).toEqual({ kind: 'ignore', reason: 'rule' });
    expect(ignored![ctxSlot]).toBeUndefined();
    expect(run(yaml, '{"level":"info","ctx":{"a":1}}')).toEqual(['"{""a"":1}",info,logs/app/a.log,3\n']);
  });

  it('encodes repeated values of consecutive rows the same, also after a row that failed', () => {
    // One compiled set, so every row goes through the same plan and its remembered values.
    const yaml = compileRules(jsonRules('  - table: out\n', '      a: text\n      b: { type: text, required: true }\n      c: json\n'), 'test.yml', options);
    const rows = ['{"a":"x","b":"q\\"","c":{"k":1}}', '{"a":"x","b":null,"c":{"k":1}}', '{"a":"x","b":"q\\"","c":"plain"}', '{"a":"x","b":"q\\"","c":"plain"}', '{"a":null,"b":"q\\"","c":null}'];
    const out = rows.map((line) => {
      try {
        return run(yaml, line);
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(out).toEqual([
      ['x,"q""","{""k"":1}",logs/app/a.log,3\n'],
      'column b is required but has no value',
      ['x,"q""","""plain""",logs/app/a.log,3\n'],
      ['x,"q""","""plain""",logs/app/a.log,3\n'],
      [',"q""",,logs/app/a.log,3\n'],
    ]);
  });

  it('stores a JSON column the same whether the dialect hands its field over as JSON text or a text column also reads it', () => {
    const jsonOnly = compileRules(jsonRules('  - table: out\n', '      c: json\n'), 'test.yml', options);
    // Here `c` also feeds a text column, so it reaches the JSON column as plain text and is checked there.
    const shared = compileRules(jsonRules('  - table: out\n', '      c: json\n      c_text: { type: text, from: c }\n'), 'test.yml', options);
    const suffix = ',logs/app/a.log,3\n';
    const values = ['{"k":[1,"x"]}', '[1,2]', '"abc"', '"123"', '"{\\"a\\":1}"', '"not {json"', '7.5', 'true', '""', 'null', '"with \\"quotes\\", a comma"'];
    for (const line of [...values.map((v) => `{"c":${v}}`), '{"msg":"no c"}']) {
      const [one] = run(jsonOnly, line) as string[];
      const [both] = run(shared, line) as string[];
      const stored = one!.slice(0, -suffix.length);
      expect({ line, stored: both!.startsWith(`${stored},`) }).toEqual({ line, stored: true });
    }
    expect(run(jsonOnly, '{"c":{"k":1}}')).toEqual([`"{""k"":1}"${suffix}`]);
    expect(run(jsonOnly, '{"c":"abc"}')).toEqual([`"""abc"""${suffix}`]);
    expect(run(jsonOnly, '{"c":"123"}')).toEqual([`123${suffix}`]);
    expect(run(jsonOnly, '{"c":""}')).toEqual([suffix.slice(1)].map((s) => `,${s}`));
    // The plan offers the dialect only the field no other column reads.
    const offered = (yaml: string) => {
      const set = compileRules(yaml, 'test.yml', options);
      const dialect = set.dialects[0]!;
      let jsonFields: ReadonlySet<number> | undefined;
      const spy = { ...dialect, reader: (fields: readonly string[], deferFrom?: number, json?: ReadonlySet<number>) => ((jsonFields = json), dialect.reader(fields, deferFrom, json)) };
      const plan = planFor({ ...set, dialects: [spy] });
      return [...(jsonFields ?? [])].map((slot) => plan.fields[slot]);
    };
    expect(offered(jsonRules('  - table: out\n', '      c: json\n      d: text\n'))).toEqual(['c']);
    expect(offered(jsonRules('  - table: out\n', '      c: json\n      c_text: { type: text, from: c }\n'))).toEqual([]);
    expect(offered(jsonRules('  - match_c: x\n    table: out\n', '      c: json\n'))).toEqual([]);
    // A built-in field is filled with plain text when the record lacks it, so it is checked by the column.
    expect(offered(jsonRules('  - table: out\n', '      c: json\n      source_json: { type: json, from: source }\n'))).toEqual(['c']);
    expect(run(jsonRules('  - table: out\n', '      source_json: { type: json, from: source }\n'), '{"msg":"x"}')).toEqual(['"""app""",logs/app/a.log,3\n']);
  });

  it('does not read inherited properties as fields', () => {
    const yaml = jsonRules('  - table: out\n', '      constructor: text\n      to_string: { type: text, from: toString }\n');
    expect(run(yaml, '{"msg":"x"}')).toEqual([',,logs/app/a.log,3\n']);
    expect(jsonLinesDialect('j').reader(['constructor', 'a.constructor', 'a.b'])('{"a":{"b":1}}', ctx)).toEqual([[undefined, undefined, '1']]);
  });

  it('rejects a record whose value does not fit its column, naming the column', () => {
    const yaml = jsonRules('  - table: out\n', '      n: bigint\n');
    const plan = planFor(compileRules(yaml, 'test.yml', options));
    const [values] = plan.read('{"n":"12x"}', ctx)!;
    plan.complete(values!);
    const decision = plan.classify(values!, ctx.sourceKey, 1);
    expect(decision.kind).toBe('route');
    if (decision.kind !== 'route') return;
    expect(() => decision.table.row(values!)).toThrow(ParseError);
    expect(() => decision.table.row(values!)).toThrow('column n: "12x" is not a 64-bit integer');
  });

  it('hands the collector\'s rows to the events table as they are, and maps them for other layouts', () => {
    const [events] = compileRuleSets([], options);
    const plan = planFor(events!);
    const collection = { device_id: 'd', client_id: 'c', session: 's', system_version: '1', product_version: '2', env: 'PRODUCTION', payloads: [{ at: '1795428000', event: 'E', nr: 1 }, { at: '1795428001', event: 'F', nr: 2 }] };
    const line = JSON.stringify({ received_at: '2026-11-23T10:00:00Z', sent_at: null, ip: '203.0.113.9', collection });
    const records = plan.read(line, { sourceKey: 'raw/events/x', lineNumber: 1 })!;
    expect(records).toHaveLength(2);
    expect(records.every((r) => r.length === plan.fields.length)).toBe(true);
    expect(records[1]![plan.fields.indexOf('event')]).toBe('F');
    const dialect = events!.dialects[0]!;
    expect(dialect.reader(['event', 'nowhere', 'device_id'])(line, { sourceKey: 'raw/events/x', lineNumber: 1 })).toEqual([['E', undefined, 'd'], ['F', undefined, 'd']]);
  });

  it('takes JSON a dialect encoded as it is, and checks it again once a rule overwrites it', () => {
    const collection = { device_id: 'd', client_id: 'c', session: 's', system_version: '1', product_version: '2', env: 'PRODUCTION', payloads: [{ at: '1795428000', event: 'E', nr: 1, parameters: [{ name: 'k', value: 'v' }] }] };
    const line = JSON.stringify({ received_at: '2026-11-23T10:00:00Z', sent_at: null, ip: null, collection });
    const reader = compileRuleSets([], options)[0]!.dialects[0]!.reader(['event', 'parameters']);
    expect(reader.jsonText).toEqual(new Set([1]));
    const rules = (overwrite: string) => `source: events
prefix: raw/events/
dialects: [ferry_collector]
tables:
  out:
    columns:
      event: text
      parameters: json
rules:
  - match_event: E
    table: out
${overwrite}`;
    expect(run(rules(''), line)).toEqual(['E,"{""k"":""v""}",logs/app/a.log,3\n']);
    // A rule's text is not the dialect's JSON: stored as a JSON string, as any other plain value.
    expect(run(rules("    parameters: 'not json'\n"), line)).toEqual(['E,"""not json""",logs/app/a.log,3\n']);
  });

  it('reads only the nginx fields it was asked for, derived ones included', () => {
    const line = '10.0.0.1 - - [23/Nov/2026:10:00:01 +0100] "GET /api/v1/tasks/7?x=1 HTTP/1.1" 200 5 "-" "say \\x22hi\\x22" 0.012 0.010, 0.020 "api.example.com"';
    const reader = nginxDialect('t', `${timedLogFormat} "$host"`).reader(['upstream_response_time', 'query', 'time', 'nope', 'http_user_agent', 'method']);
    expect(reader(line, ctx)).toEqual([['0.030', 'x=1', '2026-11-23 09:00:01', undefined, 'say "hi"', 'GET']]);
  });
});
