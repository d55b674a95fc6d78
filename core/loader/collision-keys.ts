/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) built value by value, joined as it grows: a
 * batch's keys held as one string per value cost several times their text in heap.
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

/**
 * The collision keys (`(session, nr)`) of a run copied straight into its target, grouped by the
 * key's first column, as the parameters of the PostgreSQL dialect's `collidesSql`: the groups'
 * values, each group's row count, where its rows start, then the key's other columns in group
 * order. Grouping lets the check look a whole session up once, and probe row by row only a
 * session the target held before. A key the run itself holds twice needs no look at the target
 * (`heldTwice`).
 */
export class CollisionKeys {
  private readonly groups = new Map<string | null, string[]>();

  /** A key's columns, in the table's `collisionKey` order. */
  add(key: readonly (string | null)[]): void {
    const group = key[0]!;
    // The other columns joined by NUL, which the parser never lets into a stored value. They are
    // NOT NULL (a row without one fails the COPY before its keys are asked for).
    const rest = key.length === 2 ? (key[1] ?? '') : key.slice(1).join('\0');
    const rows = this.groups.get(group);
    if (rows) rows.push(rest);
    else this.groups.set(group, [rest]);
  }

  /** Whether one key was added twice. */
  heldTwice(): boolean {
    for (const rows of this.groups.values()) if (rows.length > 1 && new Set(rows).size < rows.length) return true;
    return false;
  }

  /** `collidesSql`'s parameters for a key of `columns` columns. */
  params(columns: number): string[] {
    const groups = new ArrayText();
    const counts: number[] = [];
    const starts: number[] = [];
    const rest = Array.from({ length: columns - 1 }, () => new ArrayText());
    let start = 0;
    for (const [group, rows] of this.groups) {
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
}
