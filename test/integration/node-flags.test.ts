import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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
    expect((await readFile(ferryCli, 'utf8')).split('\n').slice(0, 2)).toEqual(['#!/bin/sh', `':' //; exec node ${flags} "$0" "$@"`]);
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(await readFile(repoPath('Dockerfile'), 'utf8'))![1]!) as string[];
    expect(entrypoint).toEqual(['node', ...nodeFlags, 'dist/local/ferry.js']);
  });

  it('reach Node when the built bin is run as a program, through its first lines', async () => {
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

  it('start the bin where env has no -S (BusyBox, as on Alpine): its hashbang runs as a kernel would run it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-busybox-env-'));
    dirs.push(dir);
    // An env that takes the hashbang's argument as it comes, one word, and knows no -S.
    const env = join(dir, 'env');
    await writeFile(env, '#!/bin/sh\ncase "$1" in -S*) echo "env: unrecognized option: S" >&2; exit 1;; esac\nexec /usr/bin/env "$@"\n', { mode: 0o755 });
    // Linux passes the interpreter everything after its path as one argument, then the file.
    const [interpreter, ...rest] = (await readFile(ferryCli, 'utf8')).split('\n')[0]!.slice(2).trim().split(' ');
    const argument = rest.join(' ');
    const program = basename(interpreter!) === 'env' ? env : interpreter!;
    const { code, stdout, stderr } = await run(program, [...(argument ? [argument] : []), ferryCli, 'help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ferry — event pipeline/);
  });
});

function run(program: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
