import { settings } from '../../../core/config.js';
import { commandHelp, usageError, type Command } from './command.js';

/** `ferry help`: every command's synopsis and summary, then every setting from `settings`. */
export function generalHelp(commands: readonly Command[]): string {
  const lines = ['ferry — event pipeline (collector → object storage → parser → warehouse)', '', 'Usage:'];
  for (const command of commands) {
    lines.push(...command.synopsis.map((s) => `  ferry ${s}`));
    lines.push(...command.summary.split('\n').map((l) => `      ${l}`));
  }
  lines.push('  ferry --version', '      prints the version', '', 'ferry <command> --help describes one command.', '', 'Configuration (environment):');
  lines.push(...settings.map((s) => `  ${s.env.padEnd(24)} ${s.description}${s.default ? ` Default: ${s.default}.` : ''}`));
  return `${lines.join('\n')}\n`;
}

/** `ferry help [command]`, over the given commands (itself included). */
export function helpCommand(commands: () => readonly Command[]): Command {
  return {
    name: 'help',
    synopsis: ['help [command]'],
    summary: 'This text, or one command\'s options.',
    positionals: true,
    // Reads no configuration: help works whatever the environment holds.
    async run({ positionals }) {
      const [name, ...extra] = positionals;
      if (extra.length > 0) throw usageError('help', 'ferry help takes at most one command');
      if (name === undefined) {
        process.stdout.write(generalHelp(commands()));
        return;
      }
      const command = commands().find((c) => c.name === name);
      if (!command) throw usageError('help', `unknown command "${name}"`);
      process.stdout.write(commandHelp(command));
    },
  };
}
