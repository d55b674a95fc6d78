import type { ColumnType } from '../model/table-definition.js';

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) built value by value, joined 4,096 values at a
 * time as it grows, so that a long literal is a few strings rather than one per value.
 */
export class ArrayText {
  private readonly joined: string[] = [];
  private pending: string[] = [];

  add(value: string | null): void {
    this.pending.push(value === null ? 'NULL' : `"${/["\\]/.test(value) ? value.replace(/["\\]/g, '\\$&') : value}"`);
    if (this.pending.length === 4096) this.flush();
  }

  text(): string {
    this.flush();
    return `{${this.joined.join(',')}}`;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.joined.push(this.pending.join(','));
    this.pending = [];
  }
}

/** Decimal text of an integer as PostgreSQL writes it back: no sign but `-`, no leading zero. */
const canonicalInteger = /^(?:0|-?[1-9][0-9]*)$/;

/**
 * The collision keys (`(session, nr)`) of a run copied straight into its target, grouped by the
 * key's first column, as the parameters of the PostgreSQL dialect's `collidesSql` and
 * `storedGroupsSql`: the groups' values, each group's row count, where its rows start, then the
 * key's other columns in group order. Grouping lets the check look a whole session up once, and
 * probe row by row only a session the target held before. Whether the run itself holds a key
 * twice is told here (`mayHoldTwice`, and which groups: `groupsHoldingTwice`), by the keys'
 * text: so a value whose text is not the only one of its value (`05` for `5`, a NULL, a type
 * other than text and bigint) counts as a maybe, which sends its group to the merge.
 */
export class CollisionKeys {
  private readonly groups = new Map<string, string[]>();
  /** Groups with a key whose text cannot tell. */
  private readonly uncertain = new Set<string>();

  /** `types`: the key's column types, in the table's `collisionKey` order. */
  constructor(private readonly types: readonly ColumnType[]) {}

  /** A key's values, in the table's `collisionKey` order. */
  add(key: readonly (string | null)[]): void {
    const group = key[0] ?? '';
    for (let i = 0; i < key.length; i++) if (!this.exact(this.types[i]!, key[i] ?? null)) this.uncertain.add(group);
    // The other columns joined by NUL, which the parser never lets into a stored value.
    const rest = key.length === 2 ? (key[1] ?? '') : key.slice(1).join('\0');
    const rows = this.groups.get(group);
    if (rows) rows.push(rest);
    else this.groups.set(group, [rest]);
  }

  /** How many groups (sessions) the run holds. */
  get size(): number {
    return this.groups.size;
  }

  /** Whether the run may hold one key twice: an equal key added twice, or a key whose text cannot tell. */
  mayHoldTwice(): boolean {
    return this.groupsHoldingTwice().size > 0;
  }

  /** The groups that may hold one key twice (`mayHoldTwice`, group by group). */
  groupsHoldingTwice(): Set<string> {
    const found = new Set(this.uncertain);
    for (const [group, rows] of this.groups) if (twice(rows)) found.add(group);
    return found;
  }

  /** `collidesSql`'s and `storedGroupsSql`'s parameters, for every group but those in `leaving`. */
  params(leaving?: ReadonlySet<string>): string[] {
    const groups = new ArrayText();
    const counts: number[] = [];
    const starts: number[] = [];
    const rest = this.types.slice(1).map(() => new ArrayText());
    let start = 0;
    for (const [group, rows] of this.groups) {
      if (leaving?.has(group)) continue;
      groups.add(group);
      counts.push(rows.length);
      starts.push(start);
      start += rows.length;
      for (const row of rows) {
        if (rest.length === 1) rest[0]!.add(row);
        else row.split('\0').forEach((v, i) => rest[i]!.add(v));
      }
    }
    return [groups.text(), `{${counts.join(',')}}`, `{${starts.join(',')}}`, ...rest.map((r) => r.text())];
  }

  /** Whether equal text is equal value and back, for a value of `type`. */
  private exact(type: ColumnType, value: string | null): boolean {
    if (value === null) return false;
    return type === 'text' || (type === 'bigint' && canonicalInteger.test(value));
  }
}

function twice(rows: readonly string[]): boolean {
  return rows.length > 1 && new Set(rows).size < rows.length;
}
