import { appendFileSync, closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cutLogIfLarge } from '../../functions/local/embedded-postgres.js';

describe('the embedded server log', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is cut past its limit while the server keeps writing to it, the older part kept once beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-log-'));
    dirs.push(dir);
    const log = join(dir, 'postgres.log');
    // The server holds the log open for appending, as SupervisedServer opens it for its child.
    const fd = openSync(log, 'a');
    try {
      writeSync(fd, 'old line\n'.repeat(200));
      expect(await cutLogIfLarge(log, 4096)).toBe(false);
      writeSync(fd, 'old line\n'.repeat(400));
      expect(await cutLogIfLarge(log, 4096)).toBe(true);
      expect(readFileSync(log, 'utf8')).toBe('');
      expect(readFileSync(`${log}.1`, 'utf8')).toBe('old line\n'.repeat(600));
      writeSync(fd, 'new line\n');
      expect(readFileSync(log, 'utf8')).toBe('new line\n'); // written at the new end: no hole of NULs
      appendFileSync(log, 'x'.repeat(5000));
      expect(await cutLogIfLarge(log, 4096)).toBe(true);
      expect(readFileSync(`${log}.1`, 'utf8')).toBe(`new line\n${'x'.repeat(5000)}`); // one older part, not a growing chain
    } finally {
      closeSync(fd);
    }
  });

  it('is left alone when there is none yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-log-'));
    dirs.push(dir);
    expect(await cutLogIfLarge(join(dir, 'postgres.log'), 10)).toBe(false);
  });
});
