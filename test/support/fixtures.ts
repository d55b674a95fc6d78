import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Raw bytes of a fixture, by path under `test/fixtures/`. */
export function fixtureBytes(path: string): Buffer {
  return readFileSync(join(root, path));
}

/** A JSON fixture, parsed. */
export function fixtureJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(fixtureBytes(path).toString('utf8')) as T;
}

/** Names (without `.json`) of the fixtures in a folder under `test/fixtures/`. */
export function fixtureNames(folder: string): string[] {
  return readdirSync(join(root, folder))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Absolute path of a file in the repository (e.g. the example rules under `docs/rules/`). */
export function repoPath(path: string): string {
  return join(root, '..', '..', path);
}
