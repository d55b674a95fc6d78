import { describe, expect, it } from 'vitest';
import { encodeCsvRow } from '../../core/parser/csv.js';
import { FerryError } from '../../core/errors.js';

describe('encodeCsvRow', () => {
  it.each([
    [['a', 'b'], 'a,b\n'],
    [[null, 'x', null], ',x,\n'],
    [['', null], '"",\n'],
    [['has,comma'], '"has,comma"\n'],
    [['say "hi"'], '"say ""hi"""\n'],
    [['line\nbreak', 'cr\rx'], '"line\nbreak","cr\rx"\n'],
    [['ünïcødé ✓'], 'ünïcødé ✓\n'],
    [[' padded '], ' padded \n'],
  ])('encodes %j', (values, expected) => {
    expect(encodeCsvRow(values)).toBe(expected);
  });

  it('refuses NUL characters, which no warehouse stores', () => {
    expect(() => encodeCsvRow(['a\0b'])).toThrow(FerryError);
  });
});
