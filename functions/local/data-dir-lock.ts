import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '../../core/errors.js';

/** Whether process `pid` exists (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * An exclusive lock on a data dir (a pid file): one `ferry serve` parses its store and owns its
 * embedded server, and a command that starts that server for itself holds it meanwhile. A lock
 * left by a dead process is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, 'ferry.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new UnavailableError(`data dir ${dataDir} is in use by process ${pid}`, { key: path });
      }
      await rm(path, { force: true });
    }
  }
  throw new UnavailableError(`could not lock data dir ${dataDir}`, { key: path });
}
