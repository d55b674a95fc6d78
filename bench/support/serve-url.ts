import type { ChildProcess } from 'node:child_process';

/** The collector URL a starting `ferry serve` child prints on stdout; rejects if it exits first. */
export function serveUrl(child: ChildProcess): Promise<string> {
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /collecting on (http:\/\/[^/\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`ferry serve exited with ${code}`)));
  });
  return url.then((found) => {
    child.stdout!.resume();
    return found;
  });
}
