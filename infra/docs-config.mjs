// `npm run docs:config`: writes docs/configuration.md from the settings declared in core/config.ts.
import { build } from 'esbuild';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = await mkdtemp(join(tmpdir(), 'ferry-docs-config-'));
try {
  const out = join(dir, 'config-doc.mjs');
  await build({
    stdin: { contents: "export { settings } from './core/config.ts'; export { renderConfigurationDoc } from './infra/config-doc.ts';", resolveDir: process.cwd(), loader: 'ts' },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  const { settings, renderConfigurationDoc } = await import(pathToFileURL(out).href);
  await writeFile('docs/configuration.md', renderConfigurationDoc(settings));
  console.log(`wrote docs/configuration.md (${settings.length} settings)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
