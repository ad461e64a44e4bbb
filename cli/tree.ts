/** Walking a repository checkout: the YAML/JSON files, skipping what is never deployed. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KUSTOMIZATION_NAMES } from './kustomize.js';

export const SKIP_DIRS = new Set(['.git', 'node_modules', '.terraform', 'vendor', '.hg', '.svn']);
const MANIFEST_RE = /\.(ya?ml|json)$/i;
const KUSTOMIZATION_SET = new Set<string>(KUSTOMIZATION_NAMES);

export function isManifestName(name: string): boolean {
  return MANIFEST_RE.test(name) || KUSTOMIZATION_SET.has(name);
}

export function isKustomizationName(name: string): boolean {
  return KUSTOMIZATION_SET.has(name);
}

/** Every manifest file under `dir` (absolute paths, in a stable order). */
export async function walkManifests(dir: string, out: string[] = []): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const subdirs: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) subdirs.push(join(dir, e.name));
    } else if (e.isFile() && isManifestName(e.name)) out.push(join(dir, e.name));
  }
  // One folder at a time: reading them all at once could run out of file descriptors and lose folders.
  for (const d of subdirs) await walkManifests(d, out);
  return out;
}

/** Files over this are not read by lint (no manifest comes near it; etcd caps objects at 1.5 MiB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/** What readRegularFile found instead of text. */
export type NotRead = { problem: 'not-regular' | 'too-large' | 'unreadable' };

/**
 * Reads a regular file of at most `max` bytes. A FIFO, a device (`/dev/zero`) or a folder is
 * not read ('not-regular'), nor a file over the cap ('too-large'): a path in a repository (a
 * pull request's) must not hang or exhaust the tool that reads it.
 */
export async function readRegularFile(path: string, max = MAX_MANIFEST_BYTES): Promise<{ text: string } | NotRead> {
  const { open } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return { problem: 'unreadable' };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { problem: 'not-regular' };
    if (st.size > max) return { problem: 'too-large' };
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max) return { problem: 'too-large' };
      if (n === buf.length) break;
    }
    return { text: buf.subarray(0, n).toString('utf8') };
  } catch {
    return { problem: 'unreadable' };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Maps with at most `limit` calls in flight, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
