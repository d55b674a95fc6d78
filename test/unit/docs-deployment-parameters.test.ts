import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { repoPath } from '../support/fixtures.js';

/**
 * What docs/rules.md, docs/deploy-aws.md and docs/deploy-azure.md promise about deployment
 * parameters: a team's rules files without editing Ferry's descriptors, and no unsigned public
 * collector on Azure unless asked for.
 */

const examples = 'docs/rules/api-nginx.yml,docs/rules/app-json.yml';

/** Evaluates the few ARM template functions the settings below use: if, empty, parameters, literals. */
function armValue(expression: string, parameters: Record<string, unknown>): unknown {
  let rest = expression.replace(/^\[/, '').replace(/\]$/, '');
  const value = (): unknown => {
    rest = rest.trimStart();
    const literal = /^'((?:[^']|'')*)'/.exec(rest);
    if (literal) {
      rest = rest.slice(literal[0].length);
      return literal[1]!.replaceAll("''", "'");
    }
    const call = /^([a-zA-Z]+)\(/.exec(rest)!;
    rest = rest.slice(call[0].length);
    const args: unknown[] = [];
    while (!rest.trimStart().startsWith(')')) {
      args.push(value());
      rest = rest.trimStart().replace(/^,/, '');
    }
    rest = rest.trimStart().slice(1);
    switch (call[1]) {
      case 'parameters':
        return parameters[args[0] as string];
      case 'if':
        return args[0] ? args[1] : args[2];
      case 'empty':
        return args[0] === '' || args[0] === undefined;
      default:
        throw new Error(`armValue: ${call[1]} is not handled`);
    }
  };
  return value();
}

function zipEntries(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names.sort()));
      zip.readEntry();
    });
  });
}

describe('rules files as a deployment parameter', () => {
  it('serverless.yml: FERRY_RULES is the `rules` parameter (the examples by default), and rules/ is packaged', async () => {
    const sls = parse(await readFile(repoPath('serverless.yml'), 'utf8')) as { params: { default: Record<string, string> }; provider: { environment: Record<string, string> }; package: { patterns: string[] } };
    expect(sls.params.default.rules).toBe(examples);
    expect(sls.provider.environment.FERRY_RULES).toBe('${param:rules}');
    expect(sls.package.patterns).toEqual(expect.arrayContaining(['docs/rules/*.yml', 'rules/**/*.yml']));
  });

  it('the ARM template: FERRY_RULES is the `rules` parameter, the examples by default', async () => {
    const arm = JSON.parse(await readFile(repoPath('infra/azure/azuredeploy.json'), 'utf8'));
    const settings = appSettings(arm);
    expect(arm.parameters.rules.defaultValue).toBe(examples);
    expect(armValue(settings.FERRY_RULES!, { rules: 'rules/nginx.yml' })).toBe('rules/nginx.yml');
  });

  describe('the Azure zip', () => {
    let dir: string;
    beforeAll(async () => {
      // A checkout with a team's rules/ folder beside Ferry's examples; the bundle is a stand-in.
      dir = await mkdtemp(join(tmpdir(), 'ferry-rules-zip-'));
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'ferry', version: '0.0.0', main: 'app.js' }));
      for (const file of ['host.json', 'app.js', 'app.js.map']) await writeFile(join(dir, file), '{}');
      await mkdir(join(dir, 'docs'));
      await symlink(repoPath('docs/rules'), join(dir, 'docs/rules'));
      await symlink(repoPath('examples'), join(dir, 'examples'));
      await mkdir(join(dir, 'rules/team'), { recursive: true });
      await writeFile(join(dir, 'rules/shop-nginx.yml'), 'source: shop\n');
      await writeFile(join(dir, 'rules/team/checkout.yml'), 'source: checkout\n');
      await writeFile(join(dir, 'rules/notes.txt'), 'not a rules file');
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('carries the team\'s rules/ files (any depth) beside docs/rules/', async () => {
      execFileSync(process.execPath, [repoPath('infra/package-azure.mjs'), join(dir, 'out.zip')], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH }, stdio: 'pipe' });
      const entries = await zipEntries(join(dir, 'out.zip'));
      expect(entries).toEqual(expect.arrayContaining(['docs/rules/api-nginx.yml', 'rules/shop-nginx.yml', 'rules/team/checkout.yml']));
      expect(entries).not.toContain('rules/notes.txt');
    });
  });
});

/** The app settings of the template's function app, by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the template is untyped data
function appSettings(arm: any): Record<string, string> {
  const site = arm.resources.find((r: { type: string }) => r.type === 'Microsoft.Web/sites');
  return Object.fromEntries(site.properties.siteConfig.appSettings.map((s: { name: string; value: string }) => [s.name, s.value]));
}

describe('the shared secret on Azure', () => {
  it('is a required template parameter (no default), with an explicit opt-out that is off by default', async () => {
    const arm = JSON.parse(await readFile(repoPath('infra/azure/azuredeploy.json'), 'utf8'));
    expect(arm.parameters.sharedSecret).toMatchObject({ type: 'securestring' });
    expect(arm.parameters.sharedSecret).not.toHaveProperty('defaultValue');
    expect(arm.parameters.allowUnsignedRequests).toMatchObject({ type: 'bool', defaultValue: false });
  });

  it.each([
    [{ sharedSecret: 's3cret', allowUnsignedRequests: false }, 'required'],
    [{ sharedSecret: 's3cret', allowUnsignedRequests: true }, 'optional'],
    [{ sharedSecret: '', allowUnsignedRequests: true }, 'off'],
  ])('%o sets FERRY_SIGNATURE=%s and the app starts', async (parameters, mode) => {
    const settings = appSettings(JSON.parse(await readFile(repoPath('infra/azure/azuredeploy.json'), 'utf8')));
    const env = { FERRY_SHARED_SECRET: armValue(settings.FERRY_SHARED_SECRET!, parameters) as string, FERRY_SIGNATURE: armValue(settings.FERRY_SIGNATURE!, parameters) as string };
    expect(env.FERRY_SIGNATURE).toBe(mode);
    expect(readConfig(env).collector.signature.mode).toBe(mode);
  });

  it('an empty secret without the opt-out does not deploy a public collector: the app refuses to start, naming FERRY_SHARED_SECRET', async () => {
    const settings = appSettings(JSON.parse(await readFile(repoPath('infra/azure/azuredeploy.json'), 'utf8')));
    const parameters = { sharedSecret: '', allowUnsignedRequests: false };
    const env = { FERRY_SHARED_SECRET: armValue(settings.FERRY_SHARED_SECRET!, parameters) as string, FERRY_SIGNATURE: armValue(settings.FERRY_SIGNATURE!, parameters) as string };
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(/FERRY_SHARED_SECRET: is required when FERRY_SIGNATURE=required/);
  });
});
