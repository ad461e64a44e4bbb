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
  // Sibling folders are read concurrently; the result keeps the sorted order.
  const below = await Promise.all(subdirs.map((d) => walkManifests(d, [])));
  for (const b of below) for (const f of b) out.push(f);
  return out;
}
