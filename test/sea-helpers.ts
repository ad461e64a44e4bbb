/** The single-file kubeseal (release/kubeseal-linux-x64, built by test/global-setup.ts), run as a user who has nothing else. */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SEA_BIN = fileURLToPath(new URL('../release/kubeseal-linux-x64', import.meta.url));

export interface Alone {
  dir: string;
  exe: string;
  /** PATH is an empty directory: no node, nothing else. */
  env: Record<string, string>;
  run(args: string[], opts?: { input?: string; env?: Record<string, string> }): { code: number | null; stdout: string; stderr: string };
}

/** Copies the binary alone into a new empty directory. */
export function aloneCopy(): Alone {
  if (!existsSync(SEA_BIN)) throw new Error(`${SEA_BIN} is missing: npm run build, then node scripts/release.mjs sea (test/global-setup.ts does it)`);
  const dir = mkdtempSync(join(tmpdir(), 'kubeseal-alone-'));
  const exe = join(dir, 'kubeseal');
  copyFileSync(SEA_BIN, exe);
  chmodSync(exe, 0o755);
  const emptyPath = join(dir, '.empty-path');
  mkdirSync(emptyPath);
  const env = { PATH: emptyPath, HOME: dir };
  return {
    dir,
    exe,
    env,
    run(args, opts = {}) {
      const r = spawnSync(exe, args, { cwd: dir, input: opts.input ?? '', env: { ...env, ...(opts.env ?? {}) }, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
