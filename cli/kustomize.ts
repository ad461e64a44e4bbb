/**
 * Where kustomize puts an object, without running kustomize: the transforms that decide
 * whether a SealedSecret opens where it lands (`namespace`, `namePrefix`, `nameSuffix`),
 * through `resources` (files and folders), the deprecated `bases`, and `components`.
 *
 * As kustomize builds a kustomization K: its resources are accumulated (a folder is
 * built first, with its own transforms), then each component in order adds its own
 * resources and applies its transforms to everything accumulated so far, then K's own
 * transforms apply to all of it. So transforms compose inner first: a prefix of the outer
 * overlay comes before the inner one (`prod-` + `app-` + name), and the outermost
 * `namespace:` wins. A kustomization that no other one includes is a root: what is built
 * and deployed. A file beside a kustomization that does not list it is not deployed
 * through it. Remote resources (URLs) are skipped.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

export interface KustomizeTransform {
  /** The kustomization file that applies it. */
  file: string;
  namespace?: string;
  namePrefix: string;
  nameSuffix: string;
}

export interface KustomizationRef {
  /** Absolute path the entry names. */
  path: string;
  line: number;
  entry: string;
}

export interface Kustomization {
  dir: string;
  file: string;
  isComponent: boolean;
  transform: KustomizeTransform;
  resources: KustomizationRef[];
  components: KustomizationRef[];
  /** secretGenerator entries that put plaintext in Git: the generator's name and the key names (never values). */
  plaintextGenerators: { name: string; line: number; what: string }[];
  /** Problems found in the file itself: missing resources, bad fields. */
  problems: { line: number; message: string }[];
}

/** One way an object reaches a cluster: the root built, and the transforms on the way, inner first. */
export interface Placement {
  /** The root kustomization's file, or the object's own file when no kustomization lists it. */
  root: string;
  chain: KustomizeTransform[];
}

export interface Identity {
  namespace?: string;
  name: string;
}

export function applyChain(id: Identity, chain: readonly KustomizeTransform[]): Identity {
  let { namespace, name } = id;
  for (const t of chain) {
    if (t.namespace) namespace = t.namespace;
    name = t.namePrefix + name + t.nameSuffix;
  }
  return namespace === undefined ? { name } : { namespace, name };
}

export function kustomizationFileIn(dir: string): string | undefined {
  for (const n of KUSTOMIZATION_NAMES) {
    const f = join(dir, n);
    if (existsSync(f)) return f;
  }
  return undefined;
}

const isRemote = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(s) || /\?ref=/.test(s) || s.startsWith('git@');

/** Parses one kustomization file's text. */
export async function parseKustomization(file: string, text: string): Promise<Kustomization> {
  const { parseDocument, LineCounter, isSeq, isScalar } = await import('yaml');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const dir = dirname(file);
  const k: Kustomization = { dir, file, isComponent: false, transform: { file, namePrefix: '', nameSuffix: '' }, resources: [], components: [], plaintextGenerators: [], problems: [] };
  const lineOf = (n: unknown) => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return r ? lc.linePos(r[0]).line : 1;
  };
  if (doc.errors.length) {
    k.problems.push({ line: lc.linePos(doc.errors[0]!.pos[0]).line, message: `invalid YAML (${doc.errors[0]!.code.toLowerCase().replaceAll('_', ' ')})` });
    return k;
  }
  const get = (key: string) => (doc.contents && typeof (doc.contents as { get?: unknown }).get === 'function' ? doc.get(key, true) : undefined);
  k.isComponent = doc.get('kind') === 'Component';
  for (const f of ['namespace', 'namePrefix', 'nameSuffix'] as const) {
    const node = get(f);
    if (node === undefined || (isScalar(node) && (node.value === null || node.value === ''))) continue;
    if (!isScalar(node) || typeof node.value !== 'string') {
      k.problems.push({ line: lineOf(node), message: `${f} must be a string` });
      continue;
    }
    if (f === 'namespace') k.transform.namespace = node.value;
    else k.transform[f] = node.value;
  }
  for (const [field, list] of [['resources', k.resources], ['bases', k.resources], ['components', k.components]] as const) {
    const node = get(field);
    if (node === undefined || (isScalar(node) && node.value === null)) continue;
    if (!isSeq(node)) {
      k.problems.push({ line: lineOf(node), message: `${field} must be a list of paths` });
      continue;
    }
    for (const item of node.items) {
      const entry = isScalar(item) ? item.value : undefined;
      if (typeof entry !== 'string') {
        k.problems.push({ line: lineOf(item), message: `${field} entries must be paths` });
        continue;
      }
      if (isRemote(entry)) continue;
      const path = resolve(dir, entry);
      const line = lineOf(item);
      let st;
      try {
        st = statSync(path);
      } catch {
        k.problems.push({ line, message: `${field} entry ${JSON.stringify(entry)}: no such file or folder` });
        continue;
      }
      if (st.isDirectory() && !kustomizationFileIn(path)) {
        k.problems.push({ line, message: `${field} entry ${JSON.stringify(entry)} is a folder with no kustomization.yaml` });
        continue;
      }
      list.push({ path, line, entry });
    }
  }
  const gens = get('secretGenerator');
  if (isSeq(gens)) {
    let js: unknown[];
    try {
      js = (doc.toJS({ maxAliasCount: 100 }) as { secretGenerator?: unknown[] }).secretGenerator ?? [];
    } catch {
      k.problems.push({ line: lineOf(gens), message: 'secretGenerator uses YAML aliases that are undefined or expand too much' });
      return k;
    }
    for (const [n, g] of gens.items.entries()) {
      const gj = js[n] as Record<string, unknown> | undefined;
      if (!gj || typeof gj !== 'object') continue;
      const list = (f: string) => (Array.isArray(gj[f]) ? (gj[f] as unknown[]).filter((x): x is string => typeof x === 'string') : []);
      // Key names only: a literal is KEY=VALUE, a file [KEY=]PATH; an env file is named, not read.
      const literals = list('literals').map((l) => l.split('=')[0]!);
      const files = list('files').map((f) => (f.includes('=') ? f.split('=')[0]! : f.split('/').pop()!));
      const envs = list('envs');
      if (typeof gj['env'] === 'string') envs.push(gj['env']);
      const what = [literals.length ? `literals: ${literals.join(', ')}` : '', files.length ? `files: ${files.join(', ')}` : '', envs.length ? `env files: ${envs.join(', ')}` : ''].filter(Boolean).join('; ');
      if (what) k.plaintextGenerators.push({ name: typeof gj['name'] === 'string' ? gj['name'] : '<unnamed>', line: lineOf(g), what });
    }
  }
  return k;
}

interface ParentRef {
  parent: Kustomization;
  as: 'resource' | 'component';
  index: number;
}

/** Every kustomization of a tree, and who includes whom. */
export class KustomizeModel {
  readonly byDir = new Map<string, Kustomization>();
  /** A file listed as a resource -> the kustomizations listing it. */
  private readonly fileOwners = new Map<string, Kustomization[]>();
  private readonly parents = new Map<string, ParentRef[]>();
  private readonly upMemo = new Map<string, Placement[]>();

  constructor(kustomizations: Iterable<Kustomization>) {
    for (const k of kustomizations) this.byDir.set(k.dir, k);
    for (const k of this.byDir.values()) {
      for (const [as, list] of [['resource', k.resources], ['component', k.components]] as const) {
        for (const [index, r] of list.entries()) {
          const child = this.byDir.get(r.path);
          if (child) {
            const refs = this.parents.get(child.dir) ?? [];
            refs.push({ parent: k, as, index });
            this.parents.set(child.dir, refs);
          } else if (as === 'resource') {
            const owners = this.fileOwners.get(r.path) ?? [];
            owners.push(k);
            this.fileOwners.set(r.path, owners);
          }
        }
      }
    }
  }

  static async load(files: Iterable<string>): Promise<KustomizeModel> {
    const { mapLimit, readRegularFile } = await import('./tree.js');
    const ks = await mapLimit([...files], 32, async (f) => {
      const read = await readRegularFile(f);
      return parseKustomization(f, 'text' in read ? read.text : '');
    });
    return new KustomizeModel(ks);
  }

  isRoot(k: Kustomization): boolean {
    return !k.isComponent && !(this.parents.get(k.dir)?.length);
  }

  roots(): Kustomization[] {
    return [...this.byDir.values()].filter((k) => this.isRoot(k));
  }

  /** The transforms of K's components after `from`, then K's own. */
  private tail(k: Kustomization, from: number): KustomizeTransform[] {
    const out: KustomizeTransform[] = [];
    for (const c of k.components.slice(from)) {
      const comp = this.byDir.get(c.path);
      if (comp) out.push(comp.transform);
    }
    out.push(k.transform);
    return out;
  }

  /** What happens to the output of kustomization K (already transformed by K) on its way to every root. */
  private up(k: Kustomization, seen: Set<string>): Placement[] {
    const memo = this.upMemo.get(k.dir);
    if (memo) return memo;
    if (seen.has(k.dir)) return [];
    seen.add(k.dir);
    const out: Placement[] = [];
    const refs = this.parents.get(k.dir) ?? [];
    if (refs.length === 0 && !k.isComponent) out.push({ root: k.file, chain: [] });
    for (const ref of refs) {
      // A folder listed as a resource gets all the parent's components; a component, those after it.
      const tail = this.tail(ref.parent, ref.as === 'resource' ? 0 : ref.index + 1);
      for (const p of this.up(ref.parent, seen)) out.push({ root: p.root, chain: [...tail, ...p.chain] });
    }
    seen.delete(k.dir);
    this.upMemo.set(k.dir, out);
    return out;
  }

  /** Placements of an object put directly in kustomization K (listed in its resources, or about to be). */
  placementsIn(k: Kustomization): Placement[] {
    const own = k.isComponent ? [k.transform] : this.tail(k, 0);
    if (k.isComponent) {
      // A component's resources get its transforms, then those after it in each includer, then the includer's own.
      return this.up(k, new Set()).map((p) => ({ root: p.root, chain: [...own, ...p.chain] }));
    }
    return this.up(k, new Set()).map((p) => ({ root: p.root, chain: [...own, ...p.chain] }));
  }

  /**
   * Where the objects of a file are deployed: through every kustomization listing it;
   * as they are when no kustomization is beside it; nowhere ('unlisted') when one is
   * beside it and does not list it.
   */
  placementsOfFile(file: string): Placement[] | 'unlisted' {
    const owners = this.fileOwners.get(file);
    if (owners?.length) return owners.flatMap((k) => this.placementsIn(k));
    if (this.byDir.has(dirname(file))) return 'unlisted';
    return [{ root: file, chain: [] }];
  }

  /** The kustomization in `dir` or the nearest folder above it, no higher than `top`. */
  nearest(dir: string, top: string): Kustomization | undefined {
    let d = resolve(dir);
    const stop = resolve(top);
    for (;;) {
      const k = this.byDir.get(d);
      if (k) return k;
      if (d === stop) return undefined;
      const up = dirname(d);
      if (up === d || !(up + '/').startsWith(stop + '/') && up !== stop) return undefined;
      d = up;
    }
  }
}
