import { describe, expect, it } from 'vitest';
import { ParseError } from '../../core/errors.js';
import { columnConverter, toColumnValue } from '../../core/parser/column-value.js';
import { jsonLinesDialect } from '../../core/parser/dialects/json-lines.js';

const ctx = { sourceKey: 'logs/app/a.log', lineNumber: 1 };

describe('JSON lines dialect', () => {
  const dialect = jsonLinesDialect('app', ['msg']);
  const line = '{"ts":"2026-11-23T10:00:00.5Z","msg":"task \\"x\\" saved","level":"info","http":{"method":"POST","status":201,"ok":true},"tags":["a","b"],"user.id":"u-1","none":null,"empty":""}';

  it.each([
    ['a top-level string, unescaped', 'msg', 'task "x" saved'],
    ['a nested path', 'http.method', 'POST'],
    ['a number as its JSON text', 'http.status', '201'],
    ['a boolean', 'http.ok', 'true'],
    ['an object as JSON', 'http', '{"method":"POST","status":201,"ok":true}'],
    ['an array as JSON', 'tags', '["a","b"]'],
    ['an array element by index', 'tags.1', 'b'],
    ['a key that itself holds a dot', 'user.id', 'u-1'],
    ['null as SQL NULL', 'none', null],
    ['"" as an empty string, not NULL', 'empty', ''],
    ['a missing path as absent', 'http.nope.deeper', undefined],
  ])('reads %s', (_what, path, expected) => {
    expect(dialect.reader([path])(line, ctx)![0]![0]).toEqual(expected);
  });

  it('replaces NUL and lone surrogates in strings and keys with U+FFFD and counts each value so changed', () => {
    const context = { ...ctx, replaced: 0 };
    const reader = dialect.reader(['msg', 'ctx', 'other']);
    const text = '{"msg":"a\\u0000b","ctx":{"k\\u0000":["\\ud800","\\ud83d\\ude00",{"x":"\\udfff\\u0000"}],"ok":"\\u00e9"},"other":"\\\\u0000"}';
    expect(reader(text, context)).toEqual([['a\uFFFDb', '{"ok":"é","k\uFFFD":["\uFFFD","😀",{"x":"\uFFFD\uFFFD"}]}', '\\u0000']]);
    // msg, the key k\0, "\ud800" and "\udfff\u0000"; not the escaped backslash of `other`.
    expect(context.replaced).toBe(4);
    expect(reader('{"msg":"caf\\u00e9 \\ud83d\\ude00"}', context)).toEqual([['café 😀', undefined, undefined]]);
    expect(context.replaced).toBe(4);
  });

  it.each([
    ['not JSON', '{"msg": '],
    ['a JSON array', '["msg"]'],
    ['an object without a required path', '{"message":"x"}'],
    ['a nginx line', '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 5 "-" "ua"'],
  ])('does not claim %s', (_what, text) => {
    expect(dialect.reader(['msg'])(text, ctx)).toBeUndefined();
  });
});

describe('column values', () => {
  it.each([
    ['timestamp', '2026-11-23 10:00:00', '2026-11-23 10:00:00'],
    ['timestamp', '2026-11-23T10:00:00.5Z', '2026-11-23 10:00:00.500000'],
    ['timestamp', '2026-11-23T11:00:00+01:00', '2026-11-23 10:00:00'],
    ['timestamp', '1795428000', '2026-11-23 10:00:00'],
    ['timestamp', '1795428000123', '2026-11-23 10:00:00.123000'],
    ['bigint', '-9223372036854775808', '-9223372036854775808'],
    ['bigint', '00000000000000000042', '42'],
    ['bigint', '-0009223372036854775808', '-9223372036854775808'],
    ['bigint', '0000000000000000000000009223372036854775807', '9223372036854775807'],
    ['bigint', '000', '0'],
    ['bigint', '-00', '0'],
    ['bigint', '0', '0'],
    ['double', '0.012', '0.012'],
    ['double', '1e-3', '1e-3'],
    ['json', '{"a":1}', '{"a":1}'],
    ['json', 'plain text', '"plain text"'],
    ['json', '{"a":"\\u0000"}', '"{\\"a\\":\\"\\\\u0000\\"}"'],
    ['json', '["\\ud800"]', '"[\\"\\\\ud800\\"]"'],
    ['json', '{"\\u0000":1}', '"{\\"\\\\u0000\\":1}"'],
    ['json', '{"a":"\\ud83d\\ude00 \\\\u0000"}', '{"a":"\\ud83d\\ude00 \\\\u0000"}'],
    ['text', '', ''],
    ['bigint', '', null],
  ] as const)('%s %j → %j', (type, value, expected) => {
    expect(toColumnValue({ name: 'c', type }, value)).toBe(expected);
  });

  it.each([
    ['bigint', '12x', 'column c: "12x" is not a 64-bit integer'],
    ['bigint', '9223372036854775808', 'column c: "9223372036854775808" is not a 64-bit integer'],
    ['bigint', '0009223372036854775808', 'column c: "0009223372036854775808" is not a 64-bit integer'],
    ['bigint', '18446744073709551616', 'column c: "18446744073709551616" is not a 64-bit integer'],
    ['bigint', '-', 'column c: "-" is not a 64-bit integer'],
    ['bigint', '+1', 'column c: "+1" is not a 64-bit integer'],
    ['double', 'NaN', 'column c: "NaN" is not a number'],
    ['timestamp', 'yesterday', 'column c: "yesterday" is not a timestamp (ISO 8601, YYYY-MM-DD HH:MM:SS or epoch seconds)'],
    ['timestamp', '99999-01-01T00:00:00Z', 'column c: "99999-01-01T00:00:00Z" is not a timestamp (ISO 8601, YYYY-MM-DD HH:MM:SS or epoch seconds)'],
  ] as const)('rejects %s %j with a reason naming the column', (type, value, message) => {
    expect(() => toColumnValue({ name: 'c', type }, value)).toThrow(new ParseError(message, { field: 'c' }));
  });

  it('takes a JSON column\'s values as they are when the dialect says it encoded them', () => {
    const trusted = columnConverter({ name: 'c', type: 'json', required: true }, { jsonText: true });
    expect(trusted('{"a":1}')).toBe('{"a":1}');
    expect(columnConverter({ name: 'c', type: 'json' })('plain')).toBe('"plain"');
    expect(() => trusted(null)).toThrow('column c is required but has no value');
  });

  it('rejects an empty required column and keeps optional ones NULL', () => {
    expect(() => toColumnValue({ name: 'event', type: 'text', required: true }, null)).toThrow('column event is required but has no value');
    expect(toColumnValue({ name: 'event', type: 'text' }, undefined)).toBeNull();
  });

  it('converts a run of times through one converter exactly as each alone (the same-second shortcut)', () => {
    const values = [
      '2026-11-23T10:00:00.5Z', '2026-11-23T10:00:00.123456789Z', '2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00Z', '2026-11-23T10:00:00.09Z',
      '2026-11-23T10:00:00.5+01:00', '2026-11-23T10:00:01.001Z', '2026-11-23T10:00:01.9999Z', '2026-11-23T10:00:01.Z', '2026-11-23T10:00:01.5ZZ',
      '2026-11-23T10:00:01.5Z', '2026-11-23 10:00:01', '2026-11-23T10:00:01.75Z', '2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.1Z',
    ];
    const convert = columnConverter({ name: 'c', type: 'timestamp' });
    const alone = (value: string) => {
      try {
        return toColumnValue({ name: 'c', type: 'timestamp' }, value);
      } catch (err) {
        return (err as Error).message;
      }
    };
    const inRun = values.map((value) => {
      try {
        return convert(value);
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(inRun).toEqual(values.map(alone));
    expect(inRun.slice(0, 5)).toEqual(['2026-11-23 10:00:00.500000', '2026-11-23 10:00:00.123000', '2026-11-23 10:00:00', '2026-11-23 10:00:00', '2026-11-23 10:00:00.090000']);
    expect(inRun[8]).toMatch(/is not a timestamp/);
    expect(inRun[9]).toMatch(/is not a timestamp/);
  });
});
