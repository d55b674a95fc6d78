import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeFlags } from '../../functions/local/node-flags.js';
import { ferryCli } from '../support/ferry-process.js';
import { repoPath } from '../support/fixtures.js';

describe("the local runner's Node flags", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('are the ones npm start, npm run ferry, the bin and the container image start Node with', async () => {
    expect(nodeFlags).toContain('--single-threaded-gc');
    const flags = nodeFlags.join(' ');
    const scripts = (JSON.parse(await readFile(repoPath('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toMatch(new RegExp(`&& node ${flags} dist/local/ferry\\.js serve$`));
    expect(scripts.ferry).toBe(`node ${flags} dist/local/ferry.js`);
    expect((await readFile(repoPath('functions/local/ferry.ts'), 'utf8')).split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    expect((await readFile(ferryCli, 'utf8')).split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(await readFile(repoPath('Dockerfile'), 'utf8'))![1]!) as string[];
    expect(entrypoint).toEqual(['node', ...nodeFlags, 'dist/local/ferry.js']);
  });

  it('reach Node when the built bin is run as a program, through its hashbang', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-flags-'));
    dirs.push(dir);
    const child = spawn(ferryCli, ['serve', '--only', 'collector'], {
      env: { PATH: process.env.PATH, PORT: '0', FERRY_STORE_URL: `file://${join(dir, 'store')}`, FERRY_SHARED_SECRET: 'flags-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('collecting on')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`the bin exited with ${code}`)));
      });
      const argv = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
      expect(argv.slice(1, 1 + nodeFlags.length)).toEqual(nodeFlags);
      expect(argv[1 + nodeFlags.length]).toBe(ferryCli);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
