import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

/** sqlfluff's version, or why it is not there (then its checks are reported as not run). */
export type Sqlfluff = { version: string } | { missing: string };

declare module 'vitest' {
  export interface ProvidedContext {
    sqlfluff: Sqlfluff;
  }
}

/**
 * sqlfluff is a Python tool no npm package brings, so the golden SQL check it does is an
 * additional one: run when it is on the PATH (CI installs it), otherwise reported as not run.
 * Only a missing executable counts as absent; one that is there but fails, fails its tests.
 */
export async function findSqlfluff(): Promise<Sqlfluff> {
  try {
    const { stdout } = await promisify(execFile)('sqlfluff', ['--version']);
    return { version: /version (\S+)/.exec(stdout)?.[1] ?? stdout.trim() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: 'sqlfluff is not on the PATH' };
    return { version: `unknown (sqlfluff --version failed: ${(err as Error).message})` };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('sqlfluff', await findSqlfluff());
}
