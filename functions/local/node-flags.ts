/**
 * The Node options the local runner is started with: by `npm start` and `npm run ferry`, by the
 * `ferry` bin's first lines (written by infra/build.mjs) and by the container image
 * (test/integration/node-flags.test.ts holds the four equal to this list); the benchmarks and
 * black-box tests start it the same way.
 *
 * `--single-threaded-gc`: V8 collects garbage on the thread that allocates, without helper
 * threads. On the one- and two-core boxes the local runner is made for, the helpers only contend
 * with the collector, the parse thread and the warehouse for the same cores, and the pipeline
 * spends less CPU in all (docs/PERFORMANCE.md, "Pipeline CPU"). V8 takes this flag only on the
 * command line: NODE_OPTIONS refuses it, and setting it once running crashes the process.
 */
export const nodeFlags: readonly string[] = ['--single-threaded-gc'];
