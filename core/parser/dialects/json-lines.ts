import type { Dialect, FieldValue, LineRecord } from '../dialect.js';

function toField(value: unknown): FieldValue | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Looks a field up by dotted path (`http.request.method`); a key that itself holds dots wins. */
function lookup(object: Record<string, unknown>, path: string): unknown {
  if (path in object) return object[path];
  let current: unknown = object;
  let start = 0;
  while (start <= path.length) {
    if (typeof current !== 'object' || current === null) return undefined;
    const dot = path.indexOf('.', start);
    const part = dot < 0 ? path.slice(start) : path.slice(start, dot);
    current = (current as Record<string, unknown>)[part];
    if (dot < 0) return current;
    start = dot + 1;
  }
  return undefined;
}

class JsonRecord implements LineRecord {
  constructor(private readonly object: Record<string, unknown>) {}

  get(field: string): FieldValue | undefined {
    return toField(lookup(this.object, field));
  }
}

/**
 * One JSON object per line (application logs). Fields are dotted paths into the object; nested
 * objects and arrays read as JSON text, numbers and booleans as their JSON text. A line is this
 * dialect only if it is a JSON object holding every path in `require`, so several JSON shapes
 * can be told apart by listing them in order.
 */
export function jsonLinesDialect(name: string, require: readonly string[] = []): Dialect {
  return {
    name,
    fields: undefined,
    parse(line) {
      if (line.charCodeAt(0) !== 0x7b /* { */) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return undefined;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const object = value as Record<string, unknown>;
      for (const path of require) if (lookup(object, path) === undefined) return undefined;
      return [new JsonRecord(object)];
    },
  };
}
