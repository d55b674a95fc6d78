import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../support/fixtures.js';

const root = repoPath('');

/** The Markdown a reader starts from: the README, every page under docs/, the client's README. */
function pages(): string[] {
  const docs = readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md')).map((f) => repoPath(`docs/${f}`));
  return [repoPath('README.md'), ...docs, repoPath('clients/js/README.md')].filter((p) => existsSync(p));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative links outside code: `[text](target)`, targets without a scheme. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/i.test(target));
}

describe('documentation links', () => {
  it.each(pages().map((p) => [relative(root, p), p]))('every relative link in %s resolves (files and #anchors)', (_name, page) => {
    const markdown = readFileSync(page, 'utf8');
    const broken: string[] = [];
    for (const link of linksOf(markdown)) {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? page : join(dirname(page), decodeURIComponent(path));
      if (!existsSync(target)) {
        broken.push(`${link}: no such file`);
        continue;
      }
      if (anchor !== undefined && statSync(target).isFile() && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
        broken.push(`${link}: no heading for #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the pages the README is to point at exist', () => {
    for (const page of ['clients.md', 'rules.md', 'warehouses.md', 'deploy-aws.md', 'deploy-azure.md', 'configuration.md', 'operations.md', 'PERFORMANCE.md']) {
      expect(existsSync(repoPath(`docs/${page}`)), page).toBe(true);
    }
    expect(existsSync(repoPath('LICENSE'))).toBe(true);
  });

  it('the README points to every page under docs/', () => {
    const readme = readFileSync(repoPath('README.md'), 'utf8');
    const linked = new Set(linksOf(readme).map((l) => l.split('#')[0]));
    const missing = readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md') && !linked.has(`docs/${f}`));
    expect(missing).toEqual([]);
  });
});
