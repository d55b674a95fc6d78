import type { RuleSet } from './rules/rule-set.js';

/** The parts of a date a `dated_keys` template names, each exactly once. */
const dateTokens = ['{yyyy}', '{mm}', '{dd}'] as const;

/**
 * Why `template` cannot be a rules file's `dated_keys` (the start of its keys after `prefix`,
 * naming their UTC date, such as `{yyyy}/{mm}/{dd}/` or `dt={yyyy}-{mm}-{dd}/`), if it cannot.
 */
export function datedKeysProblem(template: string): string | undefined {
  const shape = 'must name the date the keys start with, after the prefix, by {yyyy}, {mm} and {dd}, such as {yyyy}/{mm}/{dd}/';
  for (const token of dateTokens) {
    if (template.split(token).length !== 2) return `${shape}; "${template}" has ${template.includes(token) ? 'more than one' : 'no'} ${token}`;
  }
  const literal = dateTokens.reduce((text, token) => text.replace(token, ''), template);
  if (/[{}]/.test(literal)) return `${shape}; "${template}" has a brace that is not one of them`;
  if (template.startsWith('/') || template.includes('\\') || template.includes('//')) return `${shape}; "${template}" has a leading /, a backslash or an empty segment`;
  if (template.split('/').some((s) => s === '.' || s === '..')) return `${shape}; "${template}" has a "." or ".." segment`;
  return undefined;
}

/** The key prefix of a rules file's objects dated `date` (`YYYY-MM-DD`): `logs/nginx/` + `{yyyy}/{mm}/{dd}/` → `logs/nginx/2026/11/26/`. */
export function datedKeyPrefix(prefix: string, template: string, date: string): string {
  const [yyyy, mm, dd] = date.split('-') as [string, string, string];
  return prefix + template.replace('{yyyy}', yyyy).replace('{mm}', mm).replace('{dd}', dd);
}

/**
 * The key prefixes a sweep for log files lists, sorted: per rules file (those whose prefix is in
 * `skip` aside) its partitions of `dates` when it declares `dated_keys` and dates are given, else
 * its whole prefix — one request per 1,000 objects of its whole history on S3 and Azure. A prefix
 * inside another that is listed whole is left to that one.
 */
export function logListings(ruleSets: readonly RuleSet[], skip: readonly string[], dates?: readonly string[]): string[] {
  const sets = ruleSets.filter((s) => !skip.includes(s.prefix));
  const whole = sets.filter((s) => s.datedKeys === undefined || dates === undefined).map((s) => s.prefix);
  const listings = sets.flatMap((s) => (s.datedKeys === undefined || dates === undefined ? [s.prefix] : dates.map((d) => datedKeyPrefix(s.prefix, s.datedKeys!, d))));
  return [...new Set(listings)].filter((p) => !whole.some((w) => w !== p && p.startsWith(w))).sort();
}
