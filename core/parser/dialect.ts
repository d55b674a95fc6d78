/** A field's value: text, or null when the line has the field but it is empty (`-` in nginx). */
export type FieldValue = string | null;

/**
 * One record's values, in the order of the fields its reader was made for. `undefined` means the
 * record does not have that field at all, so rules can tell "absent" from "empty".
 */
export type RecordValues = (FieldValue | undefined)[];

/** Where a line came from, for dialects that record it. */
export interface LineContext {
  sourceKey: string;
  lineNumber: number;
  /**
   * Values of this input in which a reader replaced characters no warehouse can store with
   * U+FFFD (`core/model/storable-text.ts`); readers add to it, the summary reports it.
   */
  replaced?: number;
  /**
   * Rejects one record of the current line alone, with its reason (a collector line's payload),
   * while the line's other records are kept. Without it, a reader throws and the line is rejected.
   */
  rejectRecord?: (reason: string) => void;
  /** Hears the request id a collector line carries (for the input's summary). */
  requestId?: (id: string) => void;
}

/**
 * Reads one line: `undefined` when the line is not in this dialect (the next configured dialect
 * is tried), else its records (most formats give one; a collector line gives one per event).
 * Throws `ParseError` when the line is clearly this dialect but unusable, so the reason reaches
 * the rejected file.
 *
 * A reader made with `deferFrom` may leave the fields from that index on unread (undefined) and
 * fill them in `complete`, called only for records the rules keep, so lines that are ignored do
 * not pay for the fields only their rows would have needed. `complete` must leave a slot as it is
 * when the record does not have that field.
 */
export type LineReader = ((line: string, context: LineContext) => RecordValues[] | undefined) & {
  complete?: (values: RecordValues) => void;
  /**
   * Indices of the fields whose values this reader itself encodes as JSON text (when not null),
   * so a JSON column takes them as they are instead of parsing each one again to check it.
   */
  jsonText?: ReadonlySet<number>;
};

/**
 * A log or event line format. Lines are read through a reader made for the fields a rules file
 * uses, so a dialect only extracts and converts what some rule or column reads, and rules and
 * columns find each field at a fixed array index instead of looking it up by name per line.
 *
 * Adding a dialect is one file implementing this and one entry in `dialects/registry.ts`.
 */
export interface Dialect {
  readonly name: string;
  /** Field names every record has; `undefined` when records are open-ended (JSON by path). */
  readonly fields: readonly string[] | undefined;
  /**
   * A reader whose records hold the values of `fields`, in that order; fields from index
   * `deferFrom` on may be left for `complete` (see `LineReader`). `jsonFields`: indices of fields
   * that only JSON columns read; a reader may hand those over as JSON text already (as a JSON
   * column would store them) and list them in its `jsonText`.
   */
  reader(fields: readonly string[], deferFrom?: number, jsonFields?: ReadonlySet<number>): LineReader;
}
