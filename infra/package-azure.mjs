// `npm run package:azure`: the zip a Flex Consumption app is deployed from
// (`az functionapp deployment source config-zip` or `func azure functionapp publish --no-build`):
// host.json, a deployment package.json whose `main` is the one bundle, the bundle, and the rules
// files FERRY_RULES may name: the examples in docs/rules/ and a team's own under rules/ (any depth), and
// the SQL models FERRY_MODELS may name: examples/models/ and a team's own under models/. Nothing is downloaded: the bundle holds every dependency except
// @azure/functions-core, which the Functions host provides.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

const out = process.argv[2] ?? 'dist/ferry-azure.zip';
const manifest = JSON.parse(await readFile('package.json', 'utf8'));
const deployManifest = {
  name: manifest.name,
  version: manifest.version,
  type: 'module',
  main: manifest.main,
  engines: { node: '>=22' },
};

const files = [
  'host.json',
  manifest.main,
  `${manifest.main}.map`,
  ...(await readdir('docs/rules')).filter((f) => f.endsWith('.yml')).map((f) => `docs/rules/${f}`),
  ...(existsSync('rules') ? await readdir('rules', { recursive: true }) : []).filter((f) => f.endsWith('.yml')).sort().map((f) => `rules/${f}`),
  ...(await readdir('examples/models')).filter((f) => /\.(sql|yml)$/.test(f)).sort().map((f) => `examples/models/${f}`),
  ...(existsSync('models') ? await readdir('models', { recursive: true }) : []).filter((f) => /\.(sql|yml)$/.test(f)).sort().map((f) => `models/${f}`),
];

const zip = new yazl.ZipFile();
// A fixed mtime keeps the zip byte-identical for identical inputs.
const mtime = new Date('2020-01-01T00:00:00Z');
zip.addBuffer(Buffer.from(`${JSON.stringify(deployManifest, null, 2)}\n`), 'package.json', { mtime });
for (const file of files) zip.addBuffer(await readFile(file), file, { mtime });
zip.end();
await mkdir(dirname(out), { recursive: true });
await pipeline(zip.outputStream, createWriteStream(out));
console.log(`wrote ${join(out)} (${files.length + 1} files)`);
