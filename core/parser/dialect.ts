/** A field's value: text, or null when the line has the field but it is empty (`-` in nginx). */
export type FieldValue = string | null;

/**
 * The fields of one record a dialect read from a line. `get` answers `undefined` for a field the
 * record does not have at all, so rules can tell "absent" from "empty".
 */
export interface LineRecord {
  get(field: string): FieldValue | undefined;
}

/** Where a line came from, for dialects that record it. */
export interface LineContext {
  sourceKey: string;
  lineNumber: number;
}

/**
 * A log or event line format. `parse` answers `undefined` when the line is not in this dialect
 * (the next configured dialect is tried), the records it holds when it is (most formats give one;
 * a collector line gives one per event), and throws `ParseError` when the line is clearly this
 * dialect but unusable, so the reason reaches the rejected file.
 *
 * Adding a dialect is one file implementing this and one entry in `dialects/registry.ts`.
 */
export interface Dialect {
  readonly name: string;
  /** Field names every record has; `undefined` when records are open-ended (JSON by path). */
  readonly fields: readonly string[] | undefined;
  parse(line: string, context: LineContext): LineRecord[] | undefined;
}

/** A record whose fields are a name → index map over one array of values (no per-line objects). */
export class IndexedRecord implements LineRecord {
  constructor(private readonly index: ReadonlyMap<string, number>, private readonly values: readonly FieldValue[]) {}

  get(field: string): FieldValue | undefined {
    const i = this.index.get(field);
    return i === undefined ? undefined : this.values[i];
  }
}
