import { InvalidInputError } from '../errors.js';
import type { Collection } from '../model/collection.js';
import { isStorableEpochSeconds } from '../model/timestamps.js';

/**
 * Refuses what the parser could not turn into rows, so that a 200 means every event loads. The
 * decoders already bound `nr` and `env` and make text storable; what is left is the time: `at`
 * beyond year 9999 is a valid uint64 but no warehouse timestamp.
 */
export function assertLoadable(c: Collection): void {
  for (let i = 0; i < c.payloads.length; i++) {
    const at = c.payloads[i]!.at;
    if (!isStorableEpochSeconds(at)) throw new InvalidInputError(`payloads[${i}].at: ${at} is beyond year 9999`, { field: `payloads[${i}].at` });
  }
}
