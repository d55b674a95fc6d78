import type { Reporter, TestModule, Vitest } from 'vitest/node';

const goldenSql = ['/test/integration/golden-sql.test.ts', '/test/integration/transform-golden-sql.test.ts'];

/**
 * Ends the run with what depends on this machine: which PostgreSQL the suite ran on, and
 * whether the golden SQL check by sqlfluff (an additional tool, not an npm package) ran — if it
 * did not, which tests were skipped and why. A run never passes silently without it.
 */
export default class ChecksReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>): Promise<void> {
    const context = this.vitest!.getRootProject().getProvidedContext();
    const ran: string[] = [];
    const notRun: string[] = [];
    if (context.postgres) ran.push(context.postgres);
    const golden = modules.filter((m) => goldenSql.some((g) => m.moduleId.endsWith(g)));
    if (golden.length > 0 && context.sqlfluff) {
      if ('version' in context.sqlfluff) ran.push(`golden SQL parsed by sqlfluff ${context.sqlfluff.version}`);
      else {
        const skipped = golden.reduce((n, m) => n + [...m.children.allTests('skipped')].length, 0);
        notRun.push(`golden SQL parse by sqlfluff (${skipped} tests skipped): ${context.sqlfluff.missing}; \`apt-get install sqlfluff\` adds it (.ci/run does)`);
      }
    }
    // After the default reporter's summary, which it prints in the same round of hooks.
    await new Promise(setImmediate);
    this.vitest!.logger.log(`Checks ran: ${ran.join('; ') || 'none that depend on this machine'}`);
    if (notRun.length > 0) this.vitest!.logger.log(`Checks NOT run: ${notRun.join('; ')}`);
  }
}
