import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPath } from '../support/fixtures.js';

const text = (path: string) => readFileSync(repoPath(path), 'utf8');
const major = (version: string) => Number(/(\d+)/.exec(version)![1]);

/**
 * The cloud bundles are compiled for the Node.js their platform runs them on: a bundle built for
 * an older target works but wastes newer syntax, one for a newer target can fail to load.
 */
describe('Node.js versions of the bundles and their runtimes', () => {
  it('the Lambda bundles target the Node.js of the Lambda runtime', () => {
    const serverless = parse(text('serverless.yml')) as { provider: { runtime: string }; custom: { esbuild: { target: string } } };
    expect(serverless.provider.runtime).toMatch(/^nodejs\d+\.x$/);
    expect(major(serverless.custom.esbuild.target)).toBe(major(serverless.provider.runtime));
  });

  it('the Azure Functions bundle targets the Node.js the Function App is deployed with', () => {
    const template = text('infra/azure/azuredeploy.json');
    const runtime = /"runtime":\s*\{\s*"name":\s*"node",\s*"version":\s*"(\d+)"/.exec(template);
    expect(runtime).not.toBeNull();
    const azureEntry = text('infra/build.mjs').split('\n').find((line) => line.includes("'functions/azure/index.ts'"));
    expect(azureEntry).toMatch(/target: 'node(\d+)'/);
    expect(major(/target: 'node(\d+)'/.exec(azureEntry!)![1]!)).toBe(Number(runtime![1]));
  });

  it('Lambda and Azure Functions run the same Node.js major', () => {
    const serverless = parse(text('serverless.yml')) as { provider: { runtime: string } };
    const azure = /"runtime":\s*\{\s*"name":\s*"node",\s*"version":\s*"(\d+)"/.exec(text('infra/azure/azuredeploy.json'))![1]!;
    expect(major(serverless.provider.runtime)).toBe(Number(azure));
  });
});
