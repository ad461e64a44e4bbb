/** Runs the built CLIs as a user would: a child process with stdin, stdout, stderr and an exit code. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBESEAL = fileURLToPath(new URL('../dist/kubeseal.cjs', import.meta.url));
export const KEYS_CLI = fileURLToPath(new URL('../dist/sealed-secrets-keys.cjs', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  /** Run under this umask (through /bin/sh), e.g. 0 to check that nothing relies on the user's. */
  umask?: number;
}

export function kubeseal(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCli(KUBESEAL, args, opts);
}

/** The security team's sealed-secrets-keys. */
export function keysCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCli(KEYS_CLI, args, opts);
}

function runCli(script: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: opts.cwd ?? tmpdir(), ...(opts.env ?? {}) };
    const [cmd, argv] =
      opts.umask === undefined
        ? [process.execPath, [script, ...args]]
        : ['/bin/sh', ['-c', `umask ${opts.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, process.execPath, script, ...args]];
    const child = spawn(cmd, argv, { cwd: opts.cwd ?? tmpdir(), env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export function tempDir(files: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeseal-test-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
