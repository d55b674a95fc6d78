import { describe, expect, it } from 'vitest';
import { CollisionKeys } from '../../core/loader/collision-keys.js';

describe('CollisionKeys', () => {
  it('groups keys by their first column, in the order groups first came, with each group\'s count and first row', () => {
    const keys = new CollisionKeys();
    for (const key of [['b', '1'], ['a', '1'], ['b', '2'], ['c', '7'], ['a', '2'], ['b', '3']]) keys.add(key);
    expect(keys.params(2)).toEqual(['{"b","a","c"}', '{3,2,1}', '{0,3,5}', '{"1","2","3","1","2","7"}']);
    expect(keys.heldTwice()).toBe(false);
  });

  it('tells a key added twice, within its group only', () => {
    const keys = new CollisionKeys();
    for (const key of [['a', '1'], ['b', '1'], ['a', '2']]) keys.add(key);
    expect(keys.heldTwice()).toBe(false);
    keys.add(['a', '1']);
    expect(keys.heldTwice()).toBe(true);
  });

  it('passes a key of three columns as one array per column after the first', () => {
    const keys = new CollisionKeys();
    for (const key of [['a', '1', 'x'], ['a', '1', 'y'], ['b', '2', 'x']]) keys.add(key);
    expect(keys.heldTwice()).toBe(false);
    expect(keys.params(3)).toEqual(['{"a","b"}', '{2,1}', '{0,2}', '{"1","1","2"}', '{"x","y","x"}']);
  });
});
