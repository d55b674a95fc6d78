import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionId } from '../../core/collector/session.js';
import { fixtureJson } from '../support/fixtures.js';
import { postTrack } from '../support/http-client.js';
import { startFerry } from '../support/ferry-process.js';

async function storedEvents(storeDir: string): Promise<Set<string>> {
  const found = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ndjson.gz')) {
        for (const line of gunzipSync(await readFile(path)).toString('utf8').split('\n').filter(Boolean)) {
          const { collection } = JSON.parse(line);
          for (const p of collection.payloads) found.add(`${collection.device_id}/${p.nr}/${p.event}`);
        }
      }
    }
  };
  await walk(join(storeDir, 'raw'));
  return found;
}

describe('collector crash safety', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('after kill -9 mid-load, every request that got 200 is in storage, whole', { timeout: 180_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-crash-'));
    dirs.push(dataDir);
    const ferry = await startFerry({ FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'error', FERRY_BATCH_WINDOW_MS: '5' });
    const base = fixtureJson('collections/web-quoted-values.json');
    const acknowledged: string[] = [];
    let sent = 0;
    let stop = false;
    const client = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const device = `crash-device-${worker}`;
        const c: Record<string, unknown> = { ...base, device_id: device };
        c.session = sessionId({ ...(c as Parameters<typeof sessionId>[0]), env: 4 });
        const nr = i + 1;
        c.payloads = [{ at: 1479900000 + i, event: `Crash.${worker}.${i}`, nr, parameters: [{ name: 'i', value: String(i) }] }];
        sent++;
        try {
          if ((await postTrack(ferry.url, JSON.stringify(c))) === 200) acknowledged.push(`${device}/${nr}/Crash.${worker}.${i}`);
        } catch {
          return; // connection reset by the kill: not acknowledged
        }
      }
    };
    const clients = Array.from({ length: 16 }, (_, w) => client(w));
    while (acknowledged.length < 1500) await new Promise((r) => setTimeout(r, 20));
    ferry.child.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    await new Promise((r) => ferry.child.exitCode !== null || ferry.child.signalCode !== null ? r(undefined) : ferry.child.on('exit', r));

    const stored = await storedEvents(join(dataDir, 'store'));
    const missing = acknowledged.filter((e) => !stored.has(e));
    expect(missing).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(1500);
    expect(sent).toBeGreaterThan(acknowledged.length - 1);

    // The runner restarts on the same data dir after the crash (stale lock taken over), removes
    // what the killed puts left half-written, and stops cleanly.
    const again = await startFerry({ FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'error' });
    // (The new runner's own puts may be under way: only files of processes that are gone count.)
    const alive = (pid: number) => {
      try {
        return process.kill(pid, 0);
      } catch {
        return false;
      }
    };
    const leftovers = (await readdir(join(dataDir, 'store', '.ferry-tmp')).catch(() => [])).filter((name) => !alive(Number(name.split('-')[0])));
    expect(leftovers).toEqual([]);
    const exited = new Promise((resolve) => again.child.on('exit', resolve));
    again.child.kill('SIGTERM');
    expect(await exited, again.stderr()).toBe(0);
  });
});
