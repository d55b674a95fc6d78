import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeFlags } from '../../functions/local/node-flags.js';

/** The built CLI bundle, as users run it. */
export const ferryCli = fileURLToPath(new URL('../../dist/local/ferry.js', import.meta.url));

/** Node's arguments that run the CLI with `args` as `npm start` and the `ferry` bin do: its Node flags first. */
export function ferryArgs(...args: string[]): string[] {
  return [...nodeFlags, ferryCli, ...args];
}

/** Runs one `ferry` command with `env` (and PATH) to its end. */
export function runFerry(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ferryArgs(...args), { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });
}

/** A `ferry serve` child process and the URL it listens on. */
export interface FerryProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resident memory of the child now, in bytes (Linux `VmRSS`). */
  rss(): Promise<number>;
}

/** Starts `ferry serve` with `env` (PORT defaults to 0) and waits until it listens. */
export async function startFerry(env: Record<string, string>): Promise<FerryProcess> {
  const child = spawn(process.execPath, ferryArgs('serve'), { env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry serve did not start: ${err}`)), 60_000);
    const check = () => {
      const match = /collecting on (http:\/\/[^/]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`ferry serve exited with ${code}: ${err}`)));
  });
  return {
    child, url, stdout: () => out, stderr: () => err,
    rss: async () => {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
  };
}
