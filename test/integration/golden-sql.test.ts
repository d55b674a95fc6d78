import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkCopyInto } from '../support/copy-into-check.js';
import { repoPath } from '../support/fixtures.js';

/**
 * The golden SQL of the warehouses that cannot run here, parsed by a real SQL parser: Debian's
 * `sqlfluff` (CI installs it) with its `redshift` and `tsql` dialects. A statement it cannot parse
 * fails the test. sqlfluff 1.4.5 predates Synapse's `COPY INTO`; that one statement is checked by
 * `checkCopyInto` instead, and said so in the README. sqlfluff is no npm package: without it the
 * tests that need it are skipped and the run's last lines say so (test/support/checks-reporter.ts).
 */
const run = promisify(execFile);
const sqlfluffDialect: Record<string, string> = { redshift: 'redshift', azuresql: 'tsql', synapse: 'tsql', fabric: 'tsql' };
const copyInto = /^COPY INTO [\s\S]*?\n\);$/gm;

const sqlfluff = inject('sqlfluff');
const noSqlfluff = !('version' in sqlfluff);
let dir: string | undefined;
let config: string;

/** Parses `sql` with sqlfluff; returns its exit code and the lines naming unparsable sections. */
async function parse(sql: string, dialect: string, name: string): Promise<{ code: number; problems: string[] }> {
  const file = join(dir!, name.replaceAll('/', '-'));
  await writeFile(file, sql);
  try {
    const { stdout, stderr } = await run('sqlfluff', ['parse', '--config', config, '--dialect', dialect, file], { maxBuffer: 64 * 1024 * 1024 });
    // sqlfluff skips what it will not parse (e.g. large files) with exit code 0: that is no pass.
    const skipped = `${stdout}\n${stderr}`.split('\n').filter((l) => /skipping/i.test(l));
    return { code: skipped.length > 0 ? 1 : 0, problems: skipped };
  } catch (err) {
    const { code, stdout } = err as { code: number; stdout: string };
    return { code, problems: stdout.split('\n').filter((l) => / PRS /.test(l)) };
  }
}

async function goldenFiles(): Promise<{ name: string; dialect: string; sql: string }[]> {
  const out = [];
  for (const folder of Object.keys(sqlfluffDialect)) {
    for (const file of (await readdir(repoPath(`test/golden/${folder}`))).filter((f) => f.endsWith('.sql')).sort()) {
      out.push({ name: `${folder}/${file}`, dialect: sqlfluffDialect[folder]!, sql: await readFile(repoPath(`test/golden/${folder}/${file}`), 'utf8') });
    }
  }
  return out;
}

describe('golden warehouse SQL parsed by sqlfluff', () => {
  beforeAll(async () => {
    if (noSqlfluff) return;
    expect(sqlfluff).toEqual({ version: expect.stringMatching(/^\d/) });
    dir = await mkdtemp(join(tmpdir(), 'ferry-sqlfluff-'));
    config = join(dir, '.sqlfluff');
    // The golden load runs are longer than sqlfluff's default 20,000-byte limit.
    await writeFile(config, '[sqlfluff]\nlarge_file_skip_byte_limit = 0\n');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has golden files for every dialect', async () => {
    const names = (await goldenFiles()).map((f) => f.name);
    for (const folder of Object.keys(sqlfluffDialect)) {
      expect(names).toEqual(expect.arrayContaining([`${folder}/load-run.sql`, `${folder}/load-mismatch.sql`, `${folder}/status.sql`]));
    }
  });

  it('passes every golden COPY INTO statement through the hand check', async () => {
    const results = (await goldenFiles()).map(({ name, sql }) => {
      const copies = sql.match(copyInto) ?? [];
      const credential = name.startsWith('fabric/') ? 'caller' : 'managed identity';
      return { file: name, problems: copies.flatMap((statement) => checkCopyInto(statement, credential)), copies: copies.length };
    });
    for (const r of results) expect({ file: r.file, problems: r.problems }).toEqual({ file: r.file, problems: [] });
    // Synapse's and Fabric's load runs really do contain COPY INTO, so the hand check ran.
    expect(results.filter((r) => /^(synapse|fabric)\/load/.test(r.file)).every((r) => r.copies > 0)).toBe(true);
  });

  it.skipIf(noSqlfluff)('parses every golden statement but COPY INTO with sqlfluff', { timeout: 900_000 }, async () => {
    const files = await goldenFiles();
    const results = await Promise.all(
      files.map(async ({ name, dialect, sql }) => {
        const rest = sql.replace(copyInto, '-- COPY INTO: checked by checkCopyInto (sqlfluff 1.4.5 predates it)');
        return { name, ...(await parse(rest, dialect, name)) };
      }),
    );
    for (const r of results) expect({ file: r.name, problems: r.problems, code: r.code }).toEqual({ file: r.name, problems: [], code: 0 });
  });

  it.skipIf(noSqlfluff)('can fail: the parser rejects LIMIT in T-SQL and an unbound placeholder in Redshift, even in a large file', { timeout: 600_000 }, async () => {
    const files = await goldenFiles();
    const tsql = files.find((f) => f.name === 'synapse/load-run.sql')!;
    const redshift = files.find((f) => f.name === 'redshift/load-run.sql')!;
    expect(tsql.sql.replace(copyInto, '').length).toBeGreaterThan(20_000);
    const tsqlRest = tsql.sql.replace(copyInto, '');
    expect((await parse(`${tsqlRest}SELECT file_key FROM [ferry].[load_manifest] LIMIT 1;\n`, 'tsql', 'bad-tsql.sql')).code).not.toBe(0);
    expect((await parse(`${redshift.sql}SELECT file_key FROM "ferry"."load_manifest" WHERE file_key = $1;\n`, 'redshift', 'bad-redshift.sql')).code).not.toBe(0);
  });

  it('the COPY INTO check refuses what Synapse would load wrongly', () => {
    const good = `COPY INTO [ferry].[s] ([a], [b])
FROM 'https://acct.blob.core.windows.net/ferry/parsed/x.csv.gz'
WITH (
  FILE_TYPE = 'CSV',
  CREDENTIAL = (IDENTITY = 'Managed Identity'),
  COMPRESSION = 'GZIP',
  FIELDQUOTE = '"',
  FIELDTERMINATOR = ',',
  ROWTERMINATOR = '0x0A',
  MAXERRORS = 0
);`;
    expect(checkCopyInto(good)).toEqual([]);
    expect(checkCopyInto(good.replace("'0x0A'", "'\\n'"))).toEqual(["ROWTERMINATOR must be '0x0A', is '\\n'"]);
    expect(checkCopyInto(good.replace('MAXERRORS = 0', 'MAXERRORS = 10'))).toEqual(['MAXERRORS must be 0, is 10']);
    expect(checkCopyInto(good.replace('FILE_TYPE', 'FILETYPE'))).toContain('unknown option FILETYPE');
    expect(checkCopyInto(good.replace('https://acct.blob.core.windows.net', 'http://example.com'))[0]).toMatch(/^not a blob URL/);
    expect(checkCopyInto(good, 'caller')).toEqual(["CREDENTIAL must be absent (storage is read with the caller's identity)"]);
  });
});
