import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import type { RunViewData } from '../../core/run-view/run-view-data.js';
import { daysBefore } from '../../core/transform/volume-anomaly.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { waitFor } from '../support/ferry-query.js';
import { fixtureBytes, fixtureJson, repoPath } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

// Debian's Chromium, as in clients-browser.test.ts; no browser is downloaded at run time.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserFound = existsSync(chromium);
const browserRequired = process.env.FERRY_REQUIRE_BROWSER === '1';
const notRunReason = `no Chromium at ${chromium} (apt-get install chromium, as .ci/run does, or set CHROMIUM_PATH)`;
if (!browserFound && !browserRequired) process.stderr.write(`\nrun-view-browser.test.ts NOT RUN: ${notRunReason}\n`);

/** Where tests leave files for a person to look at (git-ignored). */
const outputDir = repoPath('test/.output');

/** A parsed events file of one session; `spoil` puts a NUL escape in one row's parameters, which PostgreSQL refuses. */
async function putParsed(store: FsBlobStore, key: string, session: string, spoil = false): Promise<void> {
  const collection = { ...decodeCollectionJson(fixtureJson('collections/ios-two-events.json')), session };
  const rows = flattenRawRecord({ received_at: new Date().toISOString(), sent_at: null, ip: null, collection }, `raw/${session}`);
  if (spoil) rows[0]![eventTable.columns.findIndex((c) => c.name === 'parameters')] = '{"note":"a\\u0000b"}';
  await store.put(key, gzipSync(rows.map(encodeCsvRow).join('')), { ferry_rows: String(rows.length) });
}

describe('the run view of ferry serve in headless Chromium', () => {
  if (!browserFound && browserRequired) {
    it('has a browser to run in (FERRY_REQUIRE_BROWSER=1)', () => {
      throw new Error(`FERRY_REQUIRE_BROWSER=1 but the browser test cannot run: ${notRunReason}`);
    });
    return;
  }

  const schema = uniqueSchema('runview');
  const today = new Date().toISOString().slice(0, 10);
  const [anomalous] = daysBefore(today, 1) as [string];
  const badKey = `parsed/events/${today}/02-nul.csv.gz`;
  const stuckKey = `logs/nginx/${today.replaceAll('-', '/')}/api-stuck.log.gz`;
  let dir: string;
  let ferry: FerryProcess;
  let context: BrowserContext;
  let scripted: BrowserContext;
  let db: pg.Client;

  beforeAll(async () => {
    if (!browserFound) return;
    dir = await mkdtemp(join(tmpdir(), 'ferry-run-view-'));
    const store = new FsBlobStore(join(dir, 'store'));
    // A failed load: one of three parsed files holds a value PostgreSQL refuses, so it is quarantined.
    await putParsed(store, `parsed/events/${today}/01-good.csv.gz`, 's-good');
    await putParsed(store, badKey, 's-bad', true);
    await putParsed(store, `parsed/events/${today}/03-good.csv.gz`, 's-good-too');
    // A stuck input: a log whose parsed output cannot be written (a file where its folder goes), three hours old.
    await store.put(stuckKey, gzipSync(fixtureBytes('logs/api-nginx.log')));
    const threeHoursAgo = new Date(Date.now() - 3 * 3600_000);
    await utimes(join(dir, 'store', stuckKey), threeHoursAgo, threeHoursAgo);
    await mkdir(join(dir, 'store', 'parsed'), { recursive: true });
    await writeFile(join(dir, 'store', 'parsed', 'api_requests'), 'in the way');

    ferry = await startFerry({ FERRY_DATA_DIR: dir, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_LOAD_INTERVAL_S: '1', FERRY_LOG_LEVEL: 'error', FERRY_RULES: repoPath('docs/rules/api-nginx.yml') });
    db = new pg.Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    await waitFor(async () => ((await db.query(`SELECT count(*)::int AS n FROM "${schema}".load_quarantine`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n > 0 ? true : undefined), 'the refused file in the quarantine');
    await waitFor(async () => ((await db.query(`SELECT count(*)::int AS n FROM "${schema}".source_counts`).catch(() => ({ rows: [{ n: -1 }] }))).rows[0].n >= 0 ? true : undefined), 'source_counts to exist');
    // An anomalous day: eight days of events at about 1,000 accepted lines, then yesterday at 400.
    for (const [i, day] of daysBefore(today, 9).entries()) {
      const accepted = day === anomalous ? 400 : 1000 + i * 10;
      await db.query(
        `INSERT INTO "${schema}".source_counts (summary_key, source, source_key, source_etag, date, lines, accepted, ignored, rejected, ignored_by, rows, collisions, replaced)
         VALUES ($1, 'events', $2, 'etag', $3, $4, $5, 0, 3, '{}', '{}', 0, 0)`,
        [`summaries/${day}/history.json`, `raw/events/${day.replaceAll('-', '/')}/history.ndjson.gz`, day, accepted + 3, accepted],
      );
    }
    const { chromium: browserType } = await import('playwright-core');
    const launch = (profile: string, javaScriptEnabled: boolean) =>
      browserType.launchPersistentContext(join(dir, profile), {
        executablePath: chromium,
        headless: true,
        viewport: { width: 1280, height: 1000 },
        javaScriptEnabled,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    // The page must be usable without script; with script it draws charts.
    context = await launch('profile', false);
    scripted = await launch('profile-js', true);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await scripted?.close();
    await db?.end();
    if (ferry) {
      ferry.child.kill('SIGTERM');
      await new Promise((done) => ferry.child.once('exit', done));
    }
    if (browserFound) await dropSchema(schema);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!browserFound)('shows the quarantined file first, the stuck input in the backlog and the anomalous day flagged, with JavaScript off', async () => {
    const page = await context.newPage();
    const response = await page.goto(`${ferry.url}/`);
    expect(response?.status()).toBe(200);

    const failures = page.locator('#failures');
    await expect.poll(() => failures.textContent()).toContain(badKey);
    expect(await failures.locator('article.failure[data-kind="quarantined"]').count()).toBe(1);
    expect(await failures.textContent()).toContain('22P05');
    // Failures come before every other section.
    expect(await page.locator('section').first().getAttribute('id')).toBe('failures');

    const backlog = page.locator('#backlog');
    expect(await backlog.textContent()).toContain(stuckKey);
    expect(await backlog.locator('tr.stuck').filter({ hasText: 'logs/nginx/' }).textContent()).toMatch(/3\.0 h/);

    const anomaly = page.locator(`#quality tr.anomaly[data-date="${anomalous}"]`);
    expect(await anomaly.count()).toBe(1);
    expect(await anomaly.textContent()).toContain('outside 0.9×–1.15× median');
    expect(await page.locator('#quality tr.anomaly').count()).toBe(1);

    expect(await page.locator('#runs .bar.success').count()).toBeGreaterThan(0);
    await mkdir(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, 'run-view.png'), fullPage: true });
    await page.close();
  });

  it.skipIf(!browserFound)('draws the charts with JavaScript on: lines per day of each source and events per hour, with uPlot served by ferry serve', async () => {
    const page = await scripted.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const assets: string[] = [];
    page.on('response', (r) => r.url().includes('/assets/') && assets.push(`${r.status()} ${new URL(r.url()).pathname}`));
    expect((await page.goto(`${ferry.url}/`))?.status()).toBe(200);

    const quality = page.locator('#quality .chart[data-source="events"]');
    await expect.poll(() => quality.getAttribute('data-drawn')).toBe('true');
    const hourly = page.locator('#hourly-chart');
    await expect.poll(() => hourly.getAttribute('data-drawn')).toBe('true');
    // Drawn, not only made: the canvases have painted pixels.
    const painted = (canvas: ReturnType<typeof page.locator>) =>
      canvas.evaluate((c: HTMLCanvasElement) => {
        const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let count = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) count++;
        return { width: c.width, height: c.height, count };
      });
    for (const canvas of [quality.locator('canvas'), hourly.locator('canvas')]) {
      const { width, height, count } = await painted(canvas);
      expect(width * height).toBeGreaterThan(0);
      expect(count).toBeGreaterThan(500);
    }
    expect(await quality.locator('.u-legend').textContent()).toMatch(/lines.*accepted.*rejected.*outside 0\.9×–1\.15× median/);
    expect(assets.sort()).toEqual(['200 /assets/uplot.min.css', '200 /assets/uplot.min.js']);
    expect(errors).toEqual([]);
    // The tables are still there under the charts.
    expect(await page.locator(`#quality tr.anomaly[data-date="${anomalous}"]`).count()).toBe(1);
    await mkdir(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, 'run-view-charts.png'), fullPage: true });
    await page.close();
  });

  it.skipIf(!browserFound)('serves the same data as JSON under /api/runs/<date>', async () => {
    const response = await fetch(`${ferry.url}/api/runs/${today}`);
    expect(response.status).toBe(200);
    const data = (await response.json()) as RunViewData;
    expect(data.failures.map((f) => f.keys)).toContainEqual([badKey]);
    expect(data.backlog.parse.prefixes.find((p) => p.prefix === 'logs/nginx/')).toMatchObject({ count: 1, oldest_key: stuckKey });
    const events = data.quality.find((q) => q.source === 'events')!;
    expect(events.days.find((d) => d.date === anomalous)).toMatchObject({ accepted: 400, verdict: 'fail', median: 1040 });
    expect(events.days.filter((d) => d.verdict === 'fail').map((d) => d.date)).toEqual([anomalous]);
    // The two loaded files' events, received this hour (the third file was quarantined).
    expect(data.events_per_hour.length).toBe(new Date().getUTCHours() + 1);
    expect(data.events_per_hour.reduce((sum, h) => sum + h.events, 0)).toBe(4);
    expect((await fetch(`${ferry.url}/api/runs/2026-13-45`)).status).toBe(400);
  });
});
