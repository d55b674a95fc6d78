import { randomFillSync } from 'node:crypto';
import type { IdSource } from '../ports/id-source.js';

// Crockford base32: lexical order of the text equals numeric order of the value.
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The 10-character time part of an id made at `at`: names that start with it sort by time. */
export function timeSortablePrefix(at: Date): string {
  return encodeTime(at.getTime());
}

/** Whether `name` is a whole id of `timeSortableIds` (so it starts with its time). */
export function isTimeSortableId(name: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(name);
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = alphabet[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/**
 * ULID-shaped ids: 10 characters of milliseconds then 16 of randomness from the OS CSPRNG —
 * unlike Hamustro's unseeded `math/rand`, two processes started together never collide.
 */
export const timeSortableIds: IdSource = {
  next(at: Date): string {
    const bytes = randomTen();
    let random = '';
    for (let i = 0; i < 16; i++) {
      // 80 random bits → 16 base32 characters, 5 bits each.
      const bit = i * 5;
      const byte = bit >> 3;
      const word = ((bytes[byte] ?? 0) << 8) | (bytes[byte + 1] ?? 0);
      random += alphabet[(word >> (11 - (bit & 7))) & 31];
    }
    return encodeTime(at.getTime()) + random;
  },
};

// The OS CSPRNG is asked for many ids' bytes at once (as randomUUID does): one call per id cost
// a system call, more than the rest of the id (one per collector request).
const pool = Buffer.alloc(10 * 256);
let used = pool.length;

/** The next 10 bytes of the pool, refilled when spent. */
function randomTen(): Buffer {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 10;
  return pool.subarray(used - 10, used);
}
