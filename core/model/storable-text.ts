import { isUtf8 } from 'node:buffer';

/**
 * The one rule for characters no warehouse can store: NUL (PostgreSQL text and jsonb refuse it),
 * lone UTF-16 surrogates (not characters; jsonb refuses their escapes) and invalid UTF-8 are
 * replaced with U+FFFD, and each value so changed is counted. Replacing rather than refusing:
 * a client drops a batch it gets a 4xx for, so one stray character would lose all its events.
 */
export const replacementCharacter = '\uFFFD';

/** How many replaced values a `Replacements` names, for one log line. */
const namedFields = 5;

// The fast tests, one scan each: most text has none of these and is returned as it is.
// In JavaScript text any surrogate is suspect (paired ones, such as emoji, are then kept) ...
const suspectText = /[\0\uD800-\uDFFF]/;
// ... and in text Node decoded from UTF-8, which is well-formed, invalid bytes became U+FFFD.
const suspectDecoded = /[\0\uFFFD]/;

function replaceUnstorable(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0 && (c < 0xd800 || c > 0xdfff)) continue;
    if (c <= 0xdbff && c !== 0) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    out += `${text.slice(from, i)}${replacementCharacter}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** `text` with NUL and lone surrogates replaced by U+FFFD; the same string when it has none. */
export function storableText(text: string): string {
  return suspectText.test(text) ? replaceUnstorable(text) : text;
}

// Buffer's own UTF-8 decoding, which `toString('utf8', start, end)` ends in (protobufjs reads its
// strings so): the collector decodes every protobuf string through here.
type Utf8Sliceable = Buffer & { utf8Slice?: (start: number, end: number) => string };

/** Where a value sits (`payloads[0].parameters[1]`; '' at the top), made only when it is named. */
export type FieldPath = () => string;

function fieldName(path: FieldPath, name: string): string {
  const parent = path();
  return parent === '' ? name : `${parent}.${name}`;
}

/**
 * Applies the rule to the values of one decoded document, counting the values it changed and
 * naming the first few (`payloads[0].parameters[1].value`). Top-level values keep what was sent
 * (`original`), which the session id is computed from.
 */
export class Replacements {
  count = 0;
  readonly fields: string[] = [];
  /** Top-level fields as sent (text, or UTF-8 bytes that were not valid), for those replaced. */
  original: Map<string, string | Uint8Array> | undefined;

  /** `value` made storable; counted as `path.name` when anything was replaced. */
  text(value: string, path: FieldPath, name: string): string {
    if (!suspectText.test(value)) return value;
    const clean = replaceUnstorable(value);
    if (clean !== value) this.add(path, name, value);
    return clean;
  }

  /**
   * The UTF-8 bytes `bytes[start, end)` as storable text: invalid sequences and NUL become U+FFFD.
   * Counted as `path.name` when anything was replaced.
   */
  utf8(bytes: Buffer, start: number, end: number, path: FieldPath, name: string): string {
    const decoded = (bytes as Utf8Sliceable).utf8Slice?.(start, end) ?? bytes.toString('utf8', start, end);
    if (!suspectDecoded.test(decoded)) return decoded;
    const hasNul = decoded.includes('\0');
    const raw = bytes.subarray(start, end);
    const valid = isUtf8(raw);
    if (valid && !hasNul) return decoded; // a U+FFFD the client sent
    this.add(path, name, valid ? decoded : Uint8Array.from(raw));
    return hasNul ? decoded.replaceAll('\0', replacementCharacter) : decoded;
  }

  private add(path: FieldPath, name: string, original: string | Uint8Array): void {
    const field = fieldName(path, name);
    if (this.count++ < namedFields) this.fields.push(field);
    if (field === name) (this.original ??= new Map()).set(name, original);
  }
}
