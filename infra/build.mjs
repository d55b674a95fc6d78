// Builds one esbuild bundle per function entry: the local runner/CLI now; the AWS handlers
// (one zip each, via serverless-esbuild) and the single Azure bundle build from the same sources.
import { build } from 'esbuild';
import { chmod, readFile, writeFile } from 'node:fs/promises';

const requireBanner = "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);";

const entries = [
  // The local CLI and its parse thread's script: one build split into chunks, so code a command does not
  // use (the cloud SDKs, the SQL Server driver, loaded by dynamic import) is never loaded; the
  // packages stay external (the PostgreSQL binaries and PGlite's WASM ship beside their JS).
  { in: ['functions/local/ferry.ts', 'functions/local/parse-worker.ts'], outdir: 'dist/local', external: 'packages', splitting: true },
  { in: 'bench/collector.ts', out: 'dist/bench/collector.js', external: 'packages' },
  { in: 'bench/bare-http-server.ts', out: 'dist/bench/bare-http-server.js', external: 'packages' },
  { in: 'bench/parser.ts', out: 'dist/bench/parser.js', external: 'packages' },
  { in: 'bench/loader.ts', out: 'dist/bench/loader.js', external: 'packages' },
  { in: 'bench/scale.ts', out: 'dist/bench/scale.js', external: 'packages' },
  { in: 'bench/memory.ts', out: 'dist/bench/memory.js', external: 'packages' },
  { in: 'bench/pipeline.ts', out: 'dist/bench/pipeline.js', external: 'packages' },
  { in: 'bench/stages.ts', out: 'dist/bench/stages.js', external: 'packages' },
  // The Azure Functions app: one bundle; the host provides @azure/functions-core.
  // ESM output has no `require`; without the banner's, @azure/functions cannot load the host's
  // functions-core, falls into its test mode and registers nothing.
  // Azure Functions runs it on Node 22 (infra/azure/azuredeploy.json), as Lambda runs the AWS
  // bundles (serverless.yml's esbuild target); the rest runs on the Node package.json's engines names.
  { in: 'functions/azure/index.ts', out: 'dist/azure/index.js', external: ['@azure/functions-core'], banner: requireBanner, target: 'node22' },
];

await Promise.all(
  entries.map((entry) =>
    build({
      entryPoints: Array.isArray(entry.in) ? entry.in : [entry.in],
      ...(entry.splitting ? { outdir: entry.outdir, splitting: true, chunkNames: 'chunks/[name]-[hash]' } : { outfile: entry.out }),
      bundle: true,
      platform: 'node',
      target: entry.target ?? 'node20',
      format: 'esm',
      sourcemap: true,
      packages: entry.external === 'packages' ? 'external' : undefined,
      external: Array.isArray(entry.external) ? entry.external : undefined,
      banner: entry.banner ? { js: entry.banner } : undefined,
      logLevel: 'warning',
    }),
  ),
);
await writeBinHeader('dist/local/ferry.js');
await chmod('dist/local/ferry.js', 0o755);

/**
 * Starts the bin with sh, which execs Node with the local runner's flags
 * (functions/local/node-flags.ts; test/integration/node-flags.test.ts holds them equal): `"$0"`
 * is the bin, `"$@"` its arguments; Node reads the two lines as a hashbang and a string. A
 * hashbang cannot pass Node a flag where `env` has no `-S` (BusyBox, as on Alpine). The map's
 * generated lines move down by the two.
 */
async function writeBinHeader(bin) {
  const header = `#!/bin/sh\n':' //; exec node --single-threaded-gc "$0" "$@"\n`;
  await writeFile(bin, header + (await readFile(bin, 'utf8')));
  const map = JSON.parse(await readFile(`${bin}.map`, 'utf8'));
  await writeFile(`${bin}.map`, JSON.stringify({ ...map, mappings: `;;${map.mappings}` }));
}
