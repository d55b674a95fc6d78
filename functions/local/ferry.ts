import { parseArgs } from 'node:util';
import packageJson from '../../package.json' with { type: 'json' };
import { readConfig, unknownSettings, type FerryConfig } from '../../core/config.js';
import { ConfigError, FerryError } from '../../core/errors.js';
import { commandHelp, usageError, type Command } from './commands/command.js';
import { compareCommand } from './commands/compare.js';
import { helpCommand } from './commands/help.js';
import { loadCommand } from './commands/load.js';
import { mirrorReplayCommand } from './commands/mirror-replay.js';
import { putCommand } from './commands/put.js';
import { queryCommand } from './commands/query.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { transformCommand } from './commands/transform.js';

const commands: readonly Command[] = [
  serveCommand,
  queryCommand,
  loadCommand,
  statusCommand,
  transformCommand,
  compareCommand,
  mirrorReplayCommand,
  putCommand,
  helpCommand(() => commands),
];

/** Reads the command's options with `parseArgs` (strict: an unknown option is a usage error). */
function parseCommandArgs(command: Command, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
  } catch (err) {
    throw usageError(command.name, (err as Error).message.split('\n')[0]!);
  }
}

async function main(argv: string[]): Promise<void> {
  const [name = 'help', ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`ferry ${packageJson.version}\n`);
    return;
  }
  const command = commands.find((c) => c.name === (name === '--help' || name === '-h' ? 'help' : name));
  if (!command) throw new FerryError('usage', `unknown command "${name}"; try ferry help`);
  const { values, positionals } = parseCommandArgs(command, rest);
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return;
  }
  let config: FerryConfig | undefined;
  await command.run({ values, positionals, config: () => (config ??= readEnvironment()) });
}

/** The configuration, after a warning for each FERRY_* variable that is no setting (a typo). */
function readEnvironment(): FerryConfig {
  for (const unknown of unknownSettings(process.env)) process.stderr.write(`ferry: warning: ${unknown.key} ${unknown.reason}\n`);
  return readConfig(process.env);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`ferry: invalid configuration\n${err.problems.map((p) => `  ${p.key}: ${p.reason}`).join('\n')}\n`);
    process.exit(2);
  }
  process.stderr.write(`ferry: ${(err as Error).message}\n`);
  process.exit(err instanceof FerryError && err.code === 'usage' ? 2 : 1);
});
