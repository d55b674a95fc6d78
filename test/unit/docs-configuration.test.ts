import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settings } from '../../core/config.js';
import { renderConfigurationDoc } from '../../infra/config-doc.js';
import { repoPath } from '../support/fixtures.js';

describe('docs/configuration.md', () => {
  it('is the page generated from the settings declared in core/config.ts (regenerate with `npm run docs:config`)', () => {
    const committed = readFileSync(repoPath('docs/configuration.md'), 'utf8');
    const current = renderConfigurationDoc(settings);
    expect(committed === current, 'docs/configuration.md is out of date: run `npm run docs:config` and commit it').toBe(true);
  });

  it('lists every setting once, with its default', () => {
    const committed = readFileSync(repoPath('docs/configuration.md'), 'utf8');
    for (const s of settings) {
      const rows = committed.split('\n').filter((line) => line.startsWith(`| \`${s.env}\` |`));
      expect(rows, s.env).toHaveLength(1);
      if (s.default !== undefined) expect(rows[0]).toContain(`\`${s.default}\``);
    }
  });
});
