/**
 * -v/--v N: kubeseal's own debug lines on stderr, by klog's levels as client-go uses them
 * (4: which configuration was chosen; 6: each request and its status; 7: request headers,
 * the Authorization value masked). Never a token, a key, a password or a body.
 */
import type { CliIo } from './io.js';
import type { KubesealArgs } from './parser.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function debugLogger(io: CliIo, args: Pick<KubesealArgs, 'v'>): (level: number, line: string) => void {
  const verbosity = Number(args.v ?? 0);
  return (level, line) => {
    if (verbosity < level) return;
    const t = io.now();
    const stamp = `${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(t.getUTCMilliseconds(), 3)}000`;
    io.writeStderr(`I${stamp} ${process.pid} kubeseal] ${line}\n`);
  };
}
