/**
 * cli/kustomize.ts against the real kustomize (`kubectl kustomize`): generated trees of
 * bases, nested overlays and components with namespace, namePrefix and nameSuffix; for
 * every root, the namespace and name our model gives each object must be the ones kustomize
 * builds.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KustomizeModel, applyChain } from '../../cli/kustomize.js';
import { walkManifests } from '../../cli/tree.js';
import { kustomizeBuild, readYamlObjects, tree } from './helpers.js';

/** A small seeded PRNG (mulberry32), so a failing tree can be regenerated from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!, chance: (p: number) => next() < p };
}

const obj = (kind: 'ConfigMap' | 'SealedSecret', name: string, origin: string, ns?: string) =>
  kind === 'ConfigMap'
    ? `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}  annotations: {origin: ${origin}}\ndata: {k: v}\n`
    : `apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}  annotations: {origin: ${origin}}\nspec:\n  encryptedData: {k: AgA=}\n`;

function transforms(r: ReturnType<typeof rng>, tag: string): string {
  let s = '';
  if (r.chance(0.5)) s += `namespace: ns-${tag}\n`;
  if (r.chance(0.6)) s += `namePrefix: ${tag}-\n`;
  if (r.chance(0.4)) s += `nameSuffix: -${tag}\n`;
  return s;
}

/** A repository: shared bases, roots over overlays over bases, components with and without resources. */
function generate(seed: number): Record<string, string> {
  const r = rng(seed);
  const files: Record<string, string> = {};
  const nBases = 2 + r.int(2);
  for (let b = 0; b < nBases; b++) {
    const res: string[] = [];
    for (let o = 0; o < 1 + r.int(3); o++) {
      const f = `o${o}.yaml`;
      const kind = r.chance(0.5) ? 'SealedSecret' : 'ConfigMap';
      files[`bases/b${b}/${f}`] = obj(kind, `obj${o}`, `bases/b${b}/${f}`, r.chance(0.3) ? 'orig' : undefined);
      res.push(f);
    }
    files[`bases/b${b}/kustomization.yaml`] = `${transforms(r, `b${b}`)}resources:\n${res.map((x) => `- ${x}\n`).join('')}`;
  }
  // A component with its own resource is used by one root only (two uses in one build would collide).
  files['components/plain/kustomization.yaml'] = `apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n${transforms(r, 'cp') || 'nameSuffix: -cp\n'}`;
  const nRoots = 2 + r.int(2);
  for (let t = 0; t < nRoots; t++) {
    const bases = [...Array(nBases).keys()].sort(() => r.next() - 0.5).slice(0, 1 + r.int(nBases));
    const entries: string[] = [];
    for (const [m, b] of bases.entries()) {
      if (r.chance(0.6)) {
        files[`overlays/r${t}/m${m}/kustomization.yaml`] = `${transforms(r, `m${t}${m}`)}resources:\n- ../../../bases/b${b}\n${r.chance(0.3) ? 'components:\n- ../../../components/plain\n' : ''}`;
        entries.push(`m${m}`);
      } else entries.push(`../../bases/b${b}`);
    }
    files[`overlays/r${t}/own.yaml`] = obj('SealedSecret', 'own', `overlays/r${t}/own.yaml`);
    entries.push('own.yaml');
    const comps: string[] = [];
    if (r.chance(0.5)) {
      files[`components/c${t}/kustomization.yaml`] = `apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n${transforms(r, `c${t}`)}resources:\n- extra.yaml\n`;
      files[`components/c${t}/extra.yaml`] = obj('SealedSecret', 'extra', `components/c${t}/extra.yaml`);
      comps.push(`../../components/c${t}`);
    }
    if (r.chance(0.4)) comps.push('../../components/plain');
    files[`overlays/r${t}/kustomization.yaml`] = `${transforms(r, `r${t}`)}resources:\n${entries.map((e) => `- ${e}\n`).join('')}${comps.length ? `components:\n${comps.map((c) => `- ${c}\n`).join('')}` : ''}`;
  }
  return files;
}

async function modelView(dir: string): Promise<Map<string, string[]>> {
  const all = await walkManifests(dir);
  const model = await KustomizeModel.load(all.filter((f) => basename(f) === 'kustomization.yaml'));
  const out = new Map<string, string[]>();
  for (const f of all) {
    if (basename(f) === 'kustomization.yaml') continue;
    const placements = model.placementsOfFile(f);
    if (placements === 'unlisted') continue;
    for (const o of readYamlObjects(readFileSync(f, 'utf8'))) {
      for (const p of placements) {
        const id = applyChain({ name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }, p.chain);
        const root = relative(dir, dirname(p.root));
        out.set(root, [...(out.get(root) ?? []), `${o.kind} ${o.metadata.annotations.origin} -> ${id.namespace ?? '-'}/${id.name}`]);
      }
    }
  }
  for (const v of out.values()) v.sort();
  return out;
}

function kustomizeView(dir: string, roots: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const root of roots) {
    out.set(root, kustomizeBuild(join(dir, root)).map((o) => `${o.kind} ${o.metadata.annotations.origin} -> ${o.metadata.namespace ?? '-'}/${o.metadata.name}`).sort());
  }
  return out;
}

describe('kustomize resolution, checked against kubectl kustomize', () => {
  it('kubectl with kustomize is installed', () => {
    expect(execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' })).toMatch(/Kustomize Version: v\d/);
  });

  it('nested overlays compose prefixes outer first, suffixes outer last, and the outer namespace wins', async () => {
    const dir = tree({
      'base/kustomization.yaml': 'namespace: base\nnamePrefix: app-\nnameSuffix: -x\nresources:\n- s.yaml\n',
      'base/s.yaml': obj('SealedSecret', 'db', 'base/s.yaml'),
      'mid/kustomization.yaml': 'namePrefix: mid-\nresources:\n- ../base\n',
      'top/kustomization.yaml': 'namespace: prod\nnamePrefix: top-\nnameSuffix: -y\nresources:\n- ../mid\ncomponents:\n- ../comp\n',
      'comp/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: c-\n',
    });
    const ours = await modelView(dir);
    expect(ours.get('top')).toEqual(['SealedSecret base/s.yaml -> prod/top-c-mid-app-db-x-y']);
    expect(kustomizeView(dir, ['top'])).toEqual(new Map([['top', ours.get('top')]]));
  });

  it('agrees with kubectl kustomize on 12 generated repositories', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const dir = tree(generate(seed));
      const ours = await modelView(dir);
      const roots = [...ours.keys()].filter((k) => k.startsWith('overlays/r')).sort();
      expect(roots.length, `seed ${seed}`).toBeGreaterThanOrEqual(2);
      const theirs = kustomizeView(dir, roots);
      for (const root of roots) expect(ours.get(root), `seed ${seed}, root ${root}`).toEqual(theirs.get(root));
    }
  });
});
