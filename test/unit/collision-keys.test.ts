import { describe, expect, it } from 'vitest';
import { CollisionKeys } from '../../core/loader/collision-keys.js';

const sessionNr = ['text', 'bigint'] as const;

describe('CollisionKeys', () => {
  it('groups keys by their first column, in the order groups first came, with each group\'s count and first row', () => {
    const keys = new CollisionKeys(sessionNr);
    for (const key of [['b', '1'], ['a', '1'], ['b', '2'], ['c', '7'], ['a', '2'], ['b', '3']]) keys.add(key);
    expect(keys.params()).toEqual(['{"b","a","c"}', '{3,2,1}', '{0,3,5}', '{"1","2","3","1","2","7"}']);
    expect(keys.mayHoldTwice()).toBe(false);
  });

  it('tells a key added twice, within its group only', () => {
    const keys = new CollisionKeys(sessionNr);
    for (const key of [['a', '1'], ['b', '1'], ['a', '2'], ['c', '-7'], ['c', '0']]) keys.add(key);
    expect(keys.mayHoldTwice()).toBe(false);
    keys.add(['a', '1']);
    expect(keys.mayHoldTwice()).toBe(true);
  });

  it.each([
    ['an integer written with a leading zero, which PostgreSQL reads as another key\'s', ['a', '01']],
    ['an integer written with a plus sign', ['a', '+1']],
    ['an integer with spaces around it', ['a', ' 1']],
    ['a NULL', ['a', null]],
    ['a NULL group', [null, '1']],
  ])('counts a key it cannot tell by its text as maybe held twice: %s', (_name, key) => {
    const keys = new CollisionKeys(sessionNr);
    keys.add(['a', '1']);
    keys.add(key);
    expect(keys.mayHoldTwice()).toBe(true);
  });

  it('counts every key of a column type whose text is not its value\'s only one (a timestamp) as maybe held twice', () => {
    const keys = new CollisionKeys(['text', 'timestamp']);
    keys.add(['a', '2026-11-25 10:00:00']);
    expect(keys.mayHoldTwice()).toBe(true);
  });

  it('passes a key of three columns as one array per column after the first', () => {
    const keys = new CollisionKeys(['text', 'bigint', 'text']);
    for (const key of [['a', '1', 'x'], ['a', '1', 'y'], ['b', '2', 'x']]) keys.add(key);
    expect(keys.mayHoldTwice()).toBe(false);
    expect(keys.params()).toEqual(['{"a","b"}', '{2,1}', '{0,2}', '{"1","1","2"}', '{"x","y","x"}']);
  });

  it('names the groups that may hold a key twice, and leaves groups out of the parameters on request', () => {
    const keys = new CollisionKeys(sessionNr);
    for (const key of [['a', '1'], ['b', '1'], ['a', '1'], ['c', '01'], ['d', '3'], ['b', '2']]) keys.add(key);
    expect(keys.size).toBe(4);
    expect(keys.groupsHoldingTwice()).toEqual(new Set(['a', 'c']));
    expect(keys.params(keys.groupsHoldingTwice())).toEqual(['{"b","d"}', '{2,1}', '{0,2}', '{"1","2","3"}']);
  });
});
