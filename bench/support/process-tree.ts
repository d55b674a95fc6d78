import { readdirSync, readFileSync } from 'node:fs';

/** `pid` and its live descendants, from `/proc` (Linux). */
export function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) out.push(...processTree(Number(child)));
    }
  } catch {
    // exited while walking
  }
  return out;
}
