/**
 * Splits SQL text into its statements at top-level semicolons, so `ferry query "select 1;
 * select 2"` runs both (a driver's prepared-statement path takes one). Semicolons inside quotes
 * ('…', E'…' with backslash escapes, "…", […]), dollar quotes ($tag$…$tag$) and comments
 * (-- …, /* … *\/) do not split. Statements that are only whitespace or comments are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let meaningful = false;
  let i = 0;
  const end = (to: number) => {
    if (meaningful) statements.push(sql.slice(start, to).trim());
    start = to + 1;
    meaningful = false;
  };
  // Index just past the closing `close` of a quote opened before `from`; `escapes` honours backslashes.
  const skipQuoted = (from: number, close: string, escapes: boolean): number => {
    for (let j = from; j < sql.length; j++) {
      if (escapes && sql[j] === '\\') j++;
      else if (sql[j] === close) {
        if (close !== ']' && sql[j + 1] === close) j++; // '' and "" stand for the quote itself
        else return j + 1;
      }
    }
    return sql.length;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? sql.length : eol + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        const step = sql.startsWith('/*', i) ? 1 : sql.startsWith('*/', i) ? -1 : 0;
        depth += step;
        i += step === 0 ? 1 : 2;
      }
    } else if (c === ';') {
      end(i);
      i++;
    } else {
      meaningful ||= !/\s/.test(c);
      if (c === "'") i = skipQuoted(i + 1, "'", (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !/[\w$]/.test(sql[i - 2] ?? ''));
      else if (c === '"') i = skipQuoted(i + 1, '"', false);
      else if (c === '[') i = skipQuoted(i + 1, ']', false);
      else if (c === '$') {
        const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
        if (tag && !/[\w$]/.test(sql[i - 1] ?? '')) {
          const close = sql.indexOf(tag, i + tag.length);
          i = close < 0 ? sql.length : close + tag.length;
        } else i++;
      } else i++;
    }
  }
  end(sql.length);
  return statements;
}
