import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { repoPath } from '../support/fixtures.js';

const marker = '<!-- test: docs-clients.test.ts runs this block as written -->';

/** The shell blocks of docs/clients.md that follow the marker, verbatim, with the output their last comment promises. */
function testedBlocks(): { code: string; expected: string }[] {
  const doc = readFileSync(repoPath('docs/clients.md'), 'utf8');
  return doc.split(marker).slice(1).map((part) => {
    const match = /^\s*```sh\n([\s\S]*?)```/.exec(part);
    if (!match) throw new Error(`docs/clients.md: no sh block right after "${marker}"`);
    const code = match[1]!;
    const comments = code.trimEnd().split('\n').filter((line) => line.startsWith('# '));
    return { code, expected: comments[comments.length - 1]!.slice(2) };
  });
}

function bash(code: string, env: Record<string, string> = {}) {
  // stdin closed: bash reads /etc/bash.bashrc when its stdin is a socket.
  return spawnSync('bash', ['-eo', 'pipefail', '-c', code], { cwd: repoPath(''), env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('docs/clients.md examples, run exactly as written', () => {
  const blocks = testedBlocks();
  const [session, ...signed] = blocks;

  it('has the session example and two signature examples', () => {
    expect(blocks).toHaveLength(3);
    for (const block of signed) expect(block.code).toContain('X-Hamustro-Signature');
  });

  it('the session formula example prints the session of the example body', () => {
    const result = bash(session!.code);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(session!.expected);
    const body = JSON.parse(readFileSync(repoPath('test/fixtures/collections/ios-two-events.json'), 'utf8'));
    expect(body.session).toBe(session!.expected);
  });

  describe('the signature examples against ferry serve with FERRY_SHARED_SECRET=my-shared-secret', () => {
    let dir: string;
    let ferry: FerryProcess;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ferry-docs-clients-'));
      ferry = await startFerry({ FERRY_DATA_DIR: dir, FERRY_SHARED_SECRET: 'my-shared-secret', FERRY_LOAD_INTERVAL_S: '3600', FERRY_LOG_LEVEL: 'error' });
    }, 90_000);
    afterAll(async () => {
      if (ferry) {
        ferry.child.kill('SIGTERM');
        await new Promise((done) => ferry.child.once('exit', done));
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it.each([0, 1])('example %i is answered as the doc says (200, both events stored)', (i) => {
      const block = signed[i]!;
      const [status, body] = block.expected.split(' … ');
      const result = bash(block.code, { COLLECTOR: ferry.url });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.split('\r\n')[0]).toBe(status);
      expect(result.stdout.trimEnd().endsWith(body!)).toBe(true);
    });

    it.each([0, 1])('example %i with another secret is refused with 401: the signature is really checked', (i) => {
      const result = bash(signed[i]!.code, { COLLECTOR: ferry.url, SECRET: 'not-the-secret' });
      expect(result.stdout.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
      expect(result.stdout).toContain('{"error":"X-Hamustro-Signature does not match"}');
    });
  });
});
