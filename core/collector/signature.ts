import { hash, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors.js';
import { isStorableEpochSeconds } from '../model/timestamps.js';

/** `required`: every request signed; `optional`: unsigned accepted, but any signature header is verified; `off`: not checked. */
export type SignatureMode = 'required' | 'optional' | 'off';

/** Signature settings; the secret is never logged. */
export interface SignaturePolicy {
  mode: SignatureMode;
  secret: string | undefined;
  /** Largest accepted |server time − X-Hamustro-Time| in seconds; 0 turns the check off. */
  replayWindowS: number;
}

/** Hamustro's signature: `base64(sha256(time + "|" + md5hex(body) + "|" + secret))`. */
export function hamustroSignature(time: string, body: Uint8Array, secret: string): string {
  // One-shot crypto.hash: for small inputs it costs a fraction of createHash().update().digest().
  return hash('sha256', `${time}|${hash('md5', body, 'hex')}|${secret}`, 'base64');
}

/**
 * Verifies `X-Hamustro-Time`/`X-Hamustro-Signature` over the body bytes as sent. Improves on
 * Hamustro with a constant-time comparison and a replay window. Returns the client's send time
 * (for clock-skew correction downstream), or null when the request carries none.
 */
export function verifySignature(policy: SignaturePolicy, headers: Record<string, string | undefined>, body: Uint8Array, now: Date): Date | null {
  const time = headers['x-hamustro-time'];
  const signature = headers['x-hamustro-signature'];
  // A time past year 9999 could not be stored as `sent_at`: it is no time, as text is not.
  const sentAt = time !== undefined && /^\d{1,12}$/.test(time.trim()) && isStorableEpochSeconds(time.trim()) ? new Date(Number(time.trim()) * 1000) : null;
  if (policy.mode === 'off') return sentAt;
  if (policy.mode === 'optional' && time === undefined && signature === undefined) return null;
  if (time === undefined) throw new SignatureError('X-Hamustro-Time header is missing');
  if (sentAt === null) throw new SignatureError('X-Hamustro-Time must be epoch seconds (up to year 9999)');
  if (signature === undefined) throw new SignatureError('X-Hamustro-Signature header is missing');
  const expected = Buffer.from(hamustroSignature(time.trim(), body, policy.secret ?? ''));
  const given = Buffer.from(signature.trim());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SignatureError('X-Hamustro-Signature does not match');
  if (policy.replayWindowS > 0 && Math.abs(now.getTime() - sentAt.getTime()) > policy.replayWindowS * 1000) {
    throw new SignatureError(`X-Hamustro-Time is outside the replay window of ${policy.replayWindowS} s (FERRY_REPLAY_WINDOW_S)`);
  }
  return sentAt;
}
