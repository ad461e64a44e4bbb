/**
 * How both CLIs write files: a temporary file beside the target, written, fsynced and
 * renamed into place, so a reader sees the old file or the new one, and a failure leaves
 * the old file and no temporary file behind.
 *
 * Private material (plaintext Secrets, private keys): the temporary file is created with
 * O_CREAT|O_EXCL, mode 0600 and a random name, so it is 0600 from the moment it exists,
 * whatever the umask or the mode of the file it replaces; a target that is a symbolic
 * link is refused, not followed, so nothing private lands where the link points.
 *
 * Other output (SealedSecrets are not secret): an existing file keeps its mode, and a
 * symbolic link the user owns (a dotfiles setup) is followed; one owned by someone else
 * (planted in a shared directory such as /tmp) is refused.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SealedSecretsError } from './errors.js';

export interface WriteFileOptions {
  /** The directory a relative path is resolved against (default: the process's). */
  cwd?: string;
  /** How error messages name the file (default: the path as given). */
  display?: string;
}

export interface PrivateFileOptions extends WriteFileOptions {
  /** What the file holds, for error messages: "private keys", "plaintext Secrets". */
  what: string;
}

const PRIVATE_MODE = 0o600;

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return code ?? 'write error';
  }
}

function writeError(shown: string, e: unknown): SealedSecretsError {
  return e instanceof SealedSecretsError ? e : new SealedSecretsError('ERR_IO', `cannot write ${shown}: ${why(e)}`);
}

async function lstatOrUndefined(path: string, shown: string) {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw writeError(shown, e);
  }
}

/**
 * The temporary file, then the rename. `exactMode` sets the mode whatever the umask
 * (private files, and existing files keeping theirs); otherwise the umask applies.
 */
async function replaceFile(target: string, content: string | Buffer, mode: number, exactMode: boolean, shown: string): Promise<void> {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  let created = false;
  try {
    fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
    created = true;
    if (exactMode) await fh.chmod(mode);
    await fh.writeFile(content);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, target);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    if (created) await unlink(tmp).catch(() => undefined);
    throw writeError(shown, e);
  }
  // The rename itself survives a crash once the directory is synced (best effort: not every file system allows it).
  try {
    const d = await open(dir, constants.O_RDONLY);
    await d.sync().finally(() => d.close());
  } catch {
    // The file is written; durability of the directory entry is not guaranteed here.
  }
}

/**
 * Writes private material: 0600 from the moment the file exists, replacing (never
 * reusing) an existing file, refusing a symbolic link.
 */
export async function writePrivateFile(path: string, content: string | Buffer, opts: PrivateFileOptions): Promise<void> {
  const target = resolve(opts.cwd ?? process.cwd(), path);
  const shown = opts.display ?? path;
  const st = await lstatOrUndefined(target, shown);
  if (st?.isSymbolicLink()) {
    throw new SealedSecretsError('ERR_IO', `refusing to write ${opts.what} to ${shown}: it is a symbolic link`, {
      hint: 'give the path of the file itself, or remove the link (private material is never written through a link)',
    });
  }
  await replaceFile(target, content, PRIVATE_MODE, true, shown);
}

/**
 * Writes output that is not secret (SealedSecrets): an existing file keeps its mode, a
 * new one gets `newMode` (less the umask); a symbolic link owned by the user (or root)
 * is followed, one owned by anyone else is refused.
 */
export async function writeOutputFile(path: string, content: string | Buffer, opts: WriteFileOptions & { newMode?: number } = {}): Promise<void> {
  let target = resolve(opts.cwd ?? process.cwd(), path);
  const shown = opts.display ?? path;
  const link = await lstatOrUndefined(target, shown);
  let mode = opts.newMode ?? 0o644;
  let exact = false;
  if (link?.isSymbolicLink()) {
    const uid = process.getuid?.();
    if (uid !== undefined && link.uid !== uid && link.uid !== 0) {
      throw new SealedSecretsError('ERR_IO', `refusing to write ${shown}: it is a symbolic link owned by another user (uid ${link.uid})`, {
        hint: 'give the path of the file itself, or remove the link',
      });
    }
    try {
      target = await realpath(target);
    } catch (e) {
      // A dangling link is refused rather than replaced by a file or made to create one.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw writeError(shown, e);
      throw new SealedSecretsError('ERR_IO', `cannot write ${shown}: it is a symbolic link to a path that does not exist`, { hint: 'give the path of the file itself, or fix the link' });
    }
  }
  try {
    const st = link?.isSymbolicLink() ? await stat(target) : link;
    if (st && st.isFile()) {
      mode = st.mode & 0o777;
      exact = true;
    }
  } catch {
    // Gone in between: a new file.
  }
  await replaceFile(target, content, mode, exact, shown);
}
