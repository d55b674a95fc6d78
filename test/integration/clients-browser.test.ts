import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { ferryQuery, waitFor } from '../support/ferry-query.js';
import { repoPath } from '../support/fixtures.js';

// Debian's Chromium, which .ci/run installs; no browser is downloaded at run time.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserFound = existsSync(chromium);
const browserRequired = process.env.FERRY_REQUIRE_BROWSER === '1';
const notRunReason = `no Chromium at ${chromium} (apt-get install chromium, as .ci/run does, or set CHROMIUM_PATH)`;
if (!browserFound && !browserRequired) process.stderr.write(`\nclients-browser.test.ts NOT RUN: ${notRunReason}\n`);

const secret = 'browser-test-secret';

/** Serves the test page and the client as tsc builds it for publishing, from an origin of its own. */
async function startPageServer(clientDist: string): Promise<{ server: Server; origin: string }> {
  const page = await readFile(repoPath('test/fixtures/browser/index.html'));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    if (path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page);
    }
    const file = normalize(join(clientDist, path.replace(/^\/client\//, '')));
    if (!path.startsWith('/client/') || !file.startsWith(clientDist) || !existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'application/json' });
    readFile(file).then((bytes) => res.end(bytes), () => res.end());
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  // `localhost` for the page, 127.0.0.1 for the collector: different origins (and hosts).
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

describe('the JS client in headless Chromium, cross-origin to ferry serve with CORS on', () => {
  if (!browserFound && browserRequired) {
    it('has a browser to run in (FERRY_REQUIRE_BROWSER=1)', () => {
      throw new Error(`FERRY_REQUIRE_BROWSER=1 but the browser test cannot run: ${notRunReason}`);
    });
    return;
  }

  let dir: string;
  let ferry: FerryProcess;
  let env: Record<string, string>;
  let pages: Awaited<ReturnType<typeof startPageServer>>;
  let context: BrowserContext;
  beforeAll(async () => {
    if (!browserFound) return;
    dir = await mkdtemp(join(tmpdir(), 'ferry-browser-'));
    const clientDist = join(dir, 'client');
    const build = spawnSync(process.execPath, [repoPath('node_modules/typescript/bin/tsc'), '-p', repoPath('clients/js'), '--outDir', clientDist], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building clients/js failed: ${build.stdout}${build.stderr}`);
    pages = await startPageServer(clientDist);
    env = { FERRY_DATA_DIR: join(dir, 'data'), FERRY_LOAD_INTERVAL_S: '1', FERRY_LOG_LEVEL: 'error', FERRY_CORS_ORIGINS: pages.origin, FERRY_SHARED_SECRET: secret };
    ferry = await startFerry(env);
    const { chromium: browserType } = await import('playwright-core');
    context = await browserType.launchPersistentContext(join(dir, 'profile'), {
      executablePath: chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    pages?.server.close();
    if (ferry) {
      ferry.child.kill('SIGTERM');
      await new Promise((done) => ferry.child.once('exit', done));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const rowsOf = (session: string) => ferryQuery(env, `select nr::int as nr, event, env, browser from ferry.events where session = '${session}' order by nr`);
  const loaded = (session: string, count: number) => waitFor(() => {
    const rows = rowsOf(session);
    return rows.length >= count ? rows : undefined;
  }, `${count} events of session ${session} in the warehouse`);

  it.skipIf(!browserFound)('sends a signed, gzip\'d batch after the preflight, and flushes queued events when the user leaves the page; all arrive in the warehouse', async () => {
    const page = await context.newPage();
    const posts: Record<string, string>[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(request.headers());
    });
    const console: string[] = [];
    page.on('console', (message) => console.push(message.text()));
    await page.goto(`${pages.origin}/index.html?collector=${encodeURIComponent(ferry.url)}&secret=${secret}`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);

    const batchSession = await page.evaluate(() => (window as unknown as { sendBatch(n: number): Promise<string> }).sendBatch(12));
    const report = await page.evaluate(() => (window as unknown as { report: unknown }).report);
    expect(report, console.join('\n')).toEqual({ sent: [{ nrs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], status: 200 }], dropped: [], retries: [] });
    expect(posts[0]).toMatchObject({ 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-hamustro-signature': expect.any(String), 'x-hamustro-time': expect.stringMatching(/^\d+$/) });

    const queued = await page.evaluate(() => (window as unknown as { queueUntilHide(n: number): { session: string; pending: number } }).queueUntilHide(3));
    expect(queued.pending).toBe(3);
    // The user leaves: pagehide fires and the client sends with keepalive, which outlives the page.
    await page.goto('about:blank');

    const batch = await loaded(batchSession, 12);
    expect(batch).toHaveLength(12);
    expect(batch[0]).toEqual({ nr: 1, event: 'Page.Click', env: 'TESTING', browser: 'Chromium' });
    expect((await loaded(queued.session, 3)).map((row) => [row.nr, row.event])).toEqual([[1, 'Page.Leave'], [2, 'Page.Leave'], [3, 'Page.Leave']]);
    await page.close();
  });
});
