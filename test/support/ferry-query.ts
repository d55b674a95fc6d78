import { spawnSync } from 'node:child_process';
import type { Row } from '../../core/ports/warehouse.js';
import { ferryCli } from './ferry-process.js';

/** Rows of `ferry query --json` run as a user would (on a running serve's embedded server, or one it starts). */
export function ferryQuery(env: Record<string, string>, sql: string): Row[] {
  const result = spawnSync(process.execPath, [ferryCli, 'query', sql, '--json'], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`ferry query failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Row[];
}

/** Polls `probe` every 200 ms until it returns a value, for at most `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
