/** The process boundary of kubeseal, injectable so tests can drive the whole CLI in-process too. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SealedSecretsError, writeOutputFile, writePrivateFile } from '../src/index.js';

export interface CliIo {
  readStdin(): Promise<Buffer>;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  writeStdout(s: string | Buffer): void;
  writeStderr(s: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  now(): Date;
  /** Where a Pod's ServiceAccount is mounted (default /var/run/secrets/kubernetes.io/serviceaccount). */
  serviceAccountDir?: string;
}

/** Input larger than this is refused: no Secret comes near it (etcd caps objects at 1.5 MiB). */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

export function processIo(): CliIo {
  // A closed pipe (`| head`) ends the run quietly; a full disk is an error, not a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') process.stderr.write(`error: cannot write standard output: ${e.code ?? e.message}\n`);
    process.exit(1);
  });
  return {
    readStdin: () => readStream(process.stdin, 'standard input'),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    writeStdout: (s) => void process.stdout.write(s),
    writeStderr: (s) => void process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    // For tests and unusual mounts only; Pods have it at the default path.
    serviceAccountDir: process.env['KUBESEAL_SERVICE_ACCOUNT_DIR'] || undefined,
  };
}

function readStream(stream: NodeJS.ReadableStream, what: string): Promise<Buffer> {
  return new Promise((resolveRead, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_INPUT_BYTES) {
        reject(new SealedSecretsError('ERR_TOO_LARGE', `${what} is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`));
        stream.removeAllListeners('data');
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => resolveRead(Buffer.concat(chunks)));
    stream.on('error', (e: NodeJS.ErrnoException) =>
      reject(new SealedSecretsError('ERR_IO', `cannot read ${what}: ${e.code ?? e.message}`)),
    );
  });
}

export async function readInputFile(io: CliIo, path: string, what = 'file'): Promise<Buffer> {
  try {
    const buf = await readFile(resolve(io.cwd, path));
    if (buf.length > MAX_INPUT_BYTES) throw new SealedSecretsError('ERR_TOO_LARGE', `${what} ${path} is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`);
    return buf;
  } catch (e) {
    if (e instanceof SealedSecretsError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'read error');
    throw new SealedSecretsError('ERR_IO', `cannot read ${what} ${path}: ${why}`);
  }
}

/**
 * Writes output that is not secret (SealedSecrets) atomically: a temporary file beside it,
 * then a rename; nothing is left on failure. An existing file keeps its mode and a symlink
 * of the user's keeps pointing at it; a new file gets 0644 less the umask.
 */
export async function writeFileAtomic(io: CliIo, path: string, content: string | Buffer): Promise<void> {
  await writeOutputFile(path, content, { cwd: io.cwd });
}

/**
 * Writes plaintext or key material: a new 0600 file renamed into place, whatever the
 * existing file's mode; a symlinked path is refused.
 */
export async function writePrivateFileAtomic(io: CliIo, path: string, content: string | Buffer, what: string): Promise<void> {
  await writePrivateFile(path, content, { cwd: io.cwd, what });
}
