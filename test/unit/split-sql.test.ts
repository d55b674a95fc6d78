import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../functions/local/split-sql.js';

describe('splitStatements (ferry query runs each statement)', () => {
  it.each([
    ['one statement', 'select 1', ['select 1']],
    ['a trailing semicolon', 'select 1;', ['select 1']],
    ['two statements', 'select 1; select 2', ['select 1', 'select 2']],
    ['empty statements and comment-only ones dropped', ';; select 1 ;\n-- done;\n /* also; done */ ;', ['select 1']],
    ['a semicolon in a string', "select 'a;b', 'it''s; fine'; select 2", ["select 'a;b', 'it''s; fine'", 'select 2']],
    ['a backslash-escaped quote in an E string', "select E'a\\';b'; select 2", ["select E'a\\';b'", 'select 2']],
    ['a backslash in a plain string is not an escape', "select 'C:\\'; select 2", ["select 'C:\\'", 'select 2']],
    ['a semicolon in a quoted identifier', 'select 1 as "a;b"; select 2', ['select 1 as "a;b"', 'select 2']],
    ['a semicolon in a bracketed identifier', 'select 1 as [a;b]; select 2', ['select 1 as [a;b]', 'select 2']],
    ['a dollar-quoted body', 'do $f$ begin perform 1; end $f$; select 2', ['do $f$ begin perform 1; end $f$', 'select 2']],
    ['an anonymous dollar quote', 'select $$a;b$$; select $1', ['select $$a;b$$', 'select $1']],
    ['a semicolon in comments', 'select 1 -- a; b\n, 2 /* c; /* nested; */ d; */; select 3', ['select 1 -- a; b\n, 2 /* c; /* nested; */ d; */', 'select 3']],
    ['nothing but whitespace', '  \n ', []],
  ])('%s', (_what, sql, expected) => {
    expect(splitStatements(sql)).toEqual(expected);
  });
});
