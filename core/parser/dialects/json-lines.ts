import { storableText } from '../../model/storable-text.js';
import { toJsonText, unstorableEscape } from '../column-value.js';
import type { Dialect, FieldValue, LineContext, RecordValues } from '../dialect.js';

function toField(value: unknown): FieldValue | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * A value as a JSON column stores it: objects and arrays as they serialise (not parsed again to
 * check), strings as `toJsonText` makes them, empty as empty (the column decides about NULL).
 */
function toJsonField(value: unknown): FieldValue | undefined {
  if (typeof value === 'string') return value === '' ? '' : toJsonText(value);
  return toField(value);
}

/**
 * Makes the strings and keys of a parsed object or array storable in place (NUL and lone
 * surrogates become U+FFFD, `storable-text.ts`); answers how many of them changed.
 */
function makeStorable(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let changed = 0;
  const clean = (item: unknown): unknown => {
    if (typeof item !== 'string') {
      changed += makeStorable(item);
      return item;
    }
    const text = storableText(item);
    if (text !== item) changed++;
    return text;
  };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = clean(value[i]);
    return changed;
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const item = clean(object[key]);
    const cleanKey = storableText(key);
    if (cleanKey !== key) {
      delete object[key];
      changed++;
    }
    object[cleanKey] = item; // an own `__proto__` (JSON.parse makes one) is set as such
  }
  return changed;
}

type PathReader = (object: Record<string, unknown>) => unknown;

/**
 * A reader of one dotted path (`http.request.method`; `tags.1` indexes an array); a key that
 * itself holds the dots wins. Only own properties count, so `constructor` is not a field.
 */
function pathReader(path: string): PathReader {
  const parts = path.split('.');
  if (parts.length === 1) return (object) => (Object.hasOwn(object, path) ? object[path] : undefined);
  return (object) => {
    if (Object.hasOwn(object, path)) return object[path];
    let current: unknown = object;
    for (const part of parts) {
      if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return undefined;
      current = (current as Record<string, unknown>)[part];
    }
    return current;
  };
}

/**
 * One JSON object per line (application logs). Fields are dotted paths into the object; nested
 * objects and arrays read as JSON text, numbers and booleans as their JSON text. A line is this
 * dialect only if it is a JSON object holding every path in `require`, so several JSON shapes
 * can be told apart by listing them in order. Only the paths a reader was made for are read.
 * `null` is NULL and `""` an empty string, as in nginx lines; NUL and lone surrogates in strings
 * and keys become U+FFFD, each value so changed counted in `LineContext.replaced`.
 */
export function jsonLinesDialect(name: string, require: readonly string[] = []): Dialect {
  return {
    name,
    fields: undefined,
    reader(fields, deferFrom = fields.length, jsonFields = new Set<number>()) {
      const required = require.map(pathReader);
      const wanted = fields.map(pathReader);
      // Deferred fields only JSON columns read are handed over as JSON text (see `Dialect.reader`).
      const convert = fields.map((_, i) => (i >= deferFrom && jsonFields.has(i) ? toJsonField : toField));
      // The object of the line read last: `complete` is only called for that line's record.
      let last: Record<string, unknown> = {};
      const read = (line: string, context: LineContext): RecordValues[] | undefined => {
        if (line.charCodeAt(0) !== 0x7b /* { */) return undefined;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          return undefined;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
        const object = value as Record<string, unknown>;
        for (const path of required) if (path(object) === undefined) return undefined;
        // Only a `\u` escape puts NUL or a lone surrogate into parsed JSON (raw control characters
        // are not JSON), so most lines skip the walk.
        if (line.includes('\\u') && unstorableEscape.test(line)) {
          const changed = makeStorable(object);
          if (changed > 0) context.replaced = (context.replaced ?? 0) + changed;
        }
        const values: RecordValues = new Array(wanted.length);
        for (let i = 0; i < deferFrom; i++) values[i] = toField(wanted[i]!(object));
        last = object;
        return [values];
      };
      const complete = (values: RecordValues): void => {
        for (let i = deferFrom; i < wanted.length; i++) {
          const value = convert[i]!(wanted[i]!(last));
          if (value !== undefined) values[i] = value;
        }
      };
      return Object.assign(read, { complete, jsonText: new Set([...jsonFields].filter((i) => i >= deferFrom)) });
    },
  };
}
