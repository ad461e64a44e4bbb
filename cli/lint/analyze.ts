/** `kubeseal lint`: reads a repository checkout and reports findings (rules.ts), offline. */
import { basename, relative, sep } from 'node:path';
import {
  ANNOTATION_KEY_HINT,
  decodeBase64Strict,
  isSealedSecretsError,
  keyHints,
  modulusBytes,
  parseCertificatePem,
  parseTemplate,
  publicKeyFingerprint,
  scopeFromAnnotations,
  type ParsedCertificate,
  type Scope,
} from '../../src/index.js';
import type { FleetConfig } from '../fleet-config.js';
import { KustomizeModel, applyChain, parseKustomization, type Identity, type Kustomization } from '../kustomize.js';
import { ANNOTATION_SEALED_FOR, clustersFor } from '../routing.js';
import { MAX_MANIFEST_BYTES, isKustomizationName, mapLimit, readRegularFile } from '../tree.js';
import { RULE_BY_ID, referencedItems, type Finding } from './rules.js';

export interface LintOptions {
  cwd: string;
  config?: FleetConfig;
  /** Every manifest of the repository (kustomizations are read from all of them). */
  repositoryFiles: readonly string[];
  /** The files to report on. */
  files: readonly string[];
  now: Date;
  expiryDays: number;
}

interface ClusterKey {
  name: string;
  cert?: ParsedCertificate;
  fingerprint?: string;
  modulusBytes?: number;
}

type YamlNode = { range?: [number, number, number] } | null | undefined;

/** Positions in one file: line and column of a node, 1-based. */
class Positions {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

interface ObjectAt {
  obj: Record<string, unknown>;
  /** The line and column of a path in the object (the key's position), else the document's. */
  pos(path: (string | number)[]): { line: number; column: number };
}

const KINDS_RE = /\bkind["']?\s*:\s*["']?(Secret|SealedSecret)\b/;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const rec = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export async function lintRepository(opts: LintOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const shown = (abs: string) => relative(opts.cwd, abs).split(sep).join('/') || basename(abs);
  const add = (rule: string, file: string, where: { line: number; column: number } | undefined, message: string, object?: Finding['object']) => {
    const r = RULE_BY_ID.get(rule)!;
    findings.push({ rule, severity: r.severity, file: shown(file), ...(where ? { line: where.line, column: where.column } : {}), ...(object ? { object } : {}), message, help: r.help });
  };

  // The kustomizations of the whole repository: placements depend on overlays outside the linted paths.
  const kFiles = opts.repositoryFiles.filter((f) => isKustomizationName(basename(f)));
  const kustomizations: Kustomization[] = await mapLimit(kFiles, 32, async (f) => {
    const read = await readRegularFile(f);
    if ('text' in read) return parseKustomization(f, read.text);
    const k = await parseKustomization(f, '');
    k.problems.push({ line: 1, message: read.problem === 'too-large' ? `larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB: not read` : 'cannot be read' });
    return k;
  });
  const model = new KustomizeModel(kustomizations);
  const linted = new Set(opts.files);
  for (const k of kustomizations) {
    if (!linted.has(k.file)) continue;
    for (const p of k.problems) add(p.message.startsWith('invalid YAML') ? 'invalid-yaml' : 'kustomize-resource', k.file, { line: p.line, column: 1 }, p.message);
    for (const g of k.plaintextGenerators) {
      add('plaintext-secret', k.file, { line: g.line, column: 1 }, `secretGenerator ${g.name} puts plaintext values in Git (${g.what})`, { kind: 'Secret', name: g.name });
    }
  }

  const clusters = new Map<string, ClusterKey>();
  if (opts.config) await lintCertificates(opts.config, opts, clusters, add);

  const firstDeployed = new Map<string, { file: string; line: number }>();
  // Reads run ahead of the parsing, a few dozen at a time: the walk is I/O-bound otherwise.
  const manifests = opts.files.filter((f) => !isKustomizationName(basename(f)));
  const reads: Promise<Awaited<ReturnType<typeof readRegularFile>>>[] = [];
  const READ_AHEAD = 64;
  const startRead = (n: number) => {
    if (n < manifests.length) reads[n] = readRegularFile(manifests[n]!);
  };
  for (let n = 0; n < READ_AHEAD; n++) startRead(n);
  for (const [n, file] of manifests.entries()) {
    const read = await reads[n]!;
    reads[n] = undefined as never;
    startRead(n + READ_AHEAD);
    if (!('text' in read)) {
      if (read.problem === 'too-large') add('invalid-yaml', file, undefined, `larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB: not read (no Kubernetes manifest is that large)`);
      else if (read.problem === 'unreadable') add('invalid-yaml', file, undefined, 'cannot be read (permission denied?)');
      continue;
    }
    const text = read.text;
    // Most manifests are not Secrets: a text search rules them out before any parsing.
    if (!KINDS_RE.test(text)) continue;
    let objects: ObjectAt[];
    try {
      objects = await readObjects(text);
    } catch (e) {
      const at = e as { line?: number; column?: number; what?: string };
      // Ours carry a position and fixed words; anything else (a stack overflow on absurd nesting) is said in fixed words too.
      if (typeof at.line === 'number' && typeof at.what === 'string') add('invalid-yaml', file, { line: at.line, column: at.column ?? 1 }, `invalid YAML: ${at.what}`);
      else add('invalid-yaml', file, undefined, 'cannot be parsed (nested too deeply?)');
      continue;
    }
    for (const o of objects) {
      const kind = o.obj['kind'];
      const meta = rec(o.obj['metadata']) ?? {};
      const id = { namespace: str(meta['namespace']), name: str(meta['name']) ?? '<unnamed>' };
      const ref = { kind: String(kind), ...(id.namespace ? { namespace: id.namespace } : {}), name: id.name };
      const label = `${kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name}`;
      if (kind === 'Secret') {
        const keys = (f: string) => Object.keys(rec(o.obj[f]) ?? {});
        const data = keys('data');
        const stringData = keys('stringData');
        if (data.length || stringData.length) {
          const what = [data.length ? `data: ${data.join(', ')}` : '', stringData.length ? `stringData: ${stringData.join(', ')}` : ''].filter(Boolean).join('; ');
          add('plaintext-secret', file, o.pos([data.length ? 'data' : 'stringData']), `${label} holds plaintext values in Git (${what})`, ref);
        }
        continue;
      }
      if (kind !== 'SealedSecret') continue;
      const spec = rec(o.obj['spec']) ?? {};
      const annotations = (rec(meta['annotations']) ?? {}) as Record<string, string>;
      const scope = scopeFromAnnotations(annotations);
      const encrypted = rec(spec['encryptedData']) ?? {};

      // Templates: parse errors and references to items that do not exist, no values needed.
      const tdata = rec(rec(spec['template'])?.['data']);
      for (const [item, t] of Object.entries(tdata ?? {})) {
        if (typeof t !== 'string') continue;
        try {
          parseTemplate(item, t);
        } catch (e) {
          if (isSealedSecretsError(e) && e.code === 'ERR_TEMPLATE') {
            add('template-error', file, o.pos(['spec', 'template', 'data', item]), `${label}: ${e.message}`, ref);
            continue;
          }
          throw e;
        }
        const missing = (referencedItems(t) ?? []).filter((k) => !(k in encrypted));
        if (missing.length) {
          add('template-missing-item', file, o.pos(['spec', 'template', 'data', item]), `${label}: template.data["${item}"] refers to ${missing.map((m) => `"${m}"`).join(', ')}, which encryptedData does not have (it would render as "<no value>" or "")`, ref);
        }
      }

      // The framing of each value: its RSA block is as long as the sealing key's modulus.
      const sizes = new Map<number, string[]>();
      for (const [k, v] of Object.entries(encrypted)) {
        const blob = typeof v === 'string' ? decodeBase64Strict(v) : 0;
        const rsaLen = typeof blob === 'number' || blob.length < 2 ? -1 : blob.readUInt16BE(0);
        if (typeof blob === 'number' || rsaLen <= 0 || blob.length < 2 + rsaLen + 16) {
          add('invalid-ciphertext', file, o.pos(['spec', 'encryptedData', k]), `${label}: encryptedData["${k}"] is not a sealed value (${typeof blob === 'number' ? 'not base64' : 'too short for its RSA block'})`, ref);
          continue;
        }
        sizes.set(rsaLen, [...(sizes.get(rsaLen) ?? []), k]);
      }

      const placements = model.placementsOfFile(file);
      if (placements === 'unlisted') continue;
      const sealedFor = sealedIdentity(annotations, id, scope);
      for (const p of placements) {
        const deployed = applyChain(id.namespace ? { namespace: id.namespace, name: id.name } : { name: id.name }, p.chain);
        const broken = scopeBroken(scope, sealedFor, deployed);
        if (broken) {
          const by = p.chain.filter((t) => t.namespace || t.namePrefix || t.nameSuffix).map((t) => {
            const parts = [t.namespace ? `namespace: ${t.namespace}` : '', t.namePrefix ? `namePrefix: ${t.namePrefix}` : '', t.nameSuffix ? `nameSuffix: ${t.nameSuffix}` : ''].filter(Boolean).join(', ');
            return `${shown(t.file)} (${parts})`;
          });
          add('scope-mismatch', file, o.pos(['metadata', 'name']),
            `${label} is sealed ${scope} for ${broken.sealed}, but ${shown(p.root)} deploys it as ${broken.deployed}${by.length ? ` through ${by.join(', ')}` : ''}: it will never unseal there ("no key could decrypt secret")`, ref);
        }
      }
      const clusterNames = opts.config ? clustersFor(opts.config, file, placements) : [];
      if (opts.config && clusterNames.length === 0) {
        add('no-cluster', file, o.pos(['metadata', 'name']), `${label}: no paths: entry of ${shown(opts.config.file)} matches ${shown(file)}${placements.some((p) => p.root !== file) ? ' or the overlays that deploy it' : ''}`, ref);
      }
      const hints = keyHints(meta as never);
      for (const cn of clusterNames) {
        const ck = clusters.get(cn);
        if (!ck?.modulusBytes) continue;
        const wrong = [...sizes].filter(([n]) => n !== ck.modulusBytes);
        if (wrong.length) {
          const desc = wrong.map(([n, ks]) => `${ks.map((k) => `"${k}"`).join(', ')} with a ${n * 8}-bit key`).join('; ');
          add('wrong-key-size', file, o.pos(['spec', 'encryptedData', wrong[0]![1][0]!]),
            `${label} deploys to cluster ${cn}, whose certificate is a ${ck.modulusBytes * 8}-bit key, but ${desc} was sealed: ${cn}'s key cannot have sealed it`, ref);
          continue;
        }
        if (hints.length && ck.fingerprint && !hints.includes(ck.fingerprint)) {
          const other = [...clusters.values()].find((c) => c.name !== cn && c.fingerprint && hints.includes(c.fingerprint));
          if (other) {
            add('wrong-cluster-key', file, o.pos(['metadata', 'annotations', ANNOTATION_KEY_HINT]),
              `${label} deploys to cluster ${cn} but was sealed with the key of cluster ${other.name} (${other.fingerprint!.slice(0, 16)}): it will not unseal on ${cn}`, ref);
          } else {
            add('stale-key', file, o.pos(['metadata', 'annotations', ANNOTATION_KEY_HINT]),
              `${label} was sealed with key ${hints[0]!.slice(0, 16)}, not the current certificate of cluster ${cn} (${ck.fingerprint.slice(0, 16)}): after a rotation, re-encrypt it`, ref);
          }
        }
      }

      // Duplicates: one owner per cluster (or root, without a config), namespace and name.
      for (const p of placements) {
        const deployed = applyChain(id.namespace ? { namespace: id.namespace, name: id.name } : { name: id.name }, p.chain);
        const targets = clusterNames.length ? clusterNames.map((c) => `cluster ${c}`) : [shown(p.root)];
        for (const t of targets) {
          const key = `${t}\0${deployed.namespace ?? ''}\0${deployed.name}`;
          const at = o.pos(['metadata', 'name']);
          const first = firstDeployed.get(key);
          if (!first) firstDeployed.set(key, { file, line: at.line });
          else if (first.file !== file || first.line !== at.line) {
            add('duplicate', file, at, `${label} deploys to ${t} as ${deployed.namespace ? `${deployed.namespace}/` : ''}${deployed.name}, as does ${shown(first.file)}:${first.line}`, ref);
          }
        }
      }
    }
  }
  return findings;
}

/** The namespace/name the values are bound to: our sealed-for annotation when kubeseal wrote one, else the object's own. */
function sealedIdentity(annotations: Record<string, string>, id: { namespace?: string; name: string }, scope: Scope): Identity | undefined {
  const rec = annotations[ANNOTATION_SEALED_FOR];
  if (rec) {
    if (scope === 'strict' && rec.includes('/')) {
      const i = rec.indexOf('/');
      return { namespace: rec.slice(0, i), name: rec.slice(i + 1) };
    }
    return { namespace: rec.split('/')[0]!, name: id.name };
  }
  // kubeseal always writes the namespace it sealed for; without one, what it was sealed for is unknown.
  if (scope !== 'cluster-wide' && !id.namespace) return undefined;
  return id.namespace ? { namespace: id.namespace, name: id.name } : { name: id.name };
}

function scopeBroken(scope: Scope, sealed: Identity | undefined, deployed: Identity): { sealed: string; deployed: string } | undefined {
  if (scope === 'cluster-wide' || !sealed) return undefined;
  const ns = (i: Identity) => i.namespace ?? '<no namespace>';
  if (scope === 'namespace-wide') return ns(sealed) !== ns(deployed) ? { sealed: `namespace ${ns(sealed)}`, deployed: `namespace ${ns(deployed)}` } : undefined;
  return ns(sealed) !== ns(deployed) || sealed.name !== deployed.name ? { sealed: `${ns(sealed)}/${sealed.name}`, deployed: `${ns(deployed)}/${deployed.name}` } : undefined;
}

async function lintCertificates(config: FleetConfig, opts: LintOptions, out: Map<string, ClusterKey>, add: (rule: string, file: string, where: { line: number; column: number }, message: string) => void): Promise<void> {
  for (const c of config.clusters.values()) {
    const entry: ClusterKey = { name: c.name };
    out.set(c.name, entry);
    if (/^https:\/\//i.test(c.certSource)) continue; // offline: a URL is not fetched
    const where = { line: c.line, column: 1 };
    let cert: ParsedCertificate;
    const read = await readRegularFile(c.certSource, 1024 * 1024);
    if (!('text' in read)) {
      add('cert-unreadable', config.file, where, `cluster ${c.name}: cert ${c.cert} ${read.problem === 'not-regular' ? 'is not a regular file' : read.problem === 'too-large' ? 'is over 1 MiB' : 'cannot be read'}`);
      continue;
    }
    try {
      cert = parseCertificatePem(read.text, c.cert);
    } catch (e) {
      add('cert-unreadable', config.file, where, `cluster ${c.name}: cert ${c.cert} ${isSealedSecretsError(e) ? `cannot be used: ${e.message}` : 'cannot be read'}`);
      continue;
    }
    entry.cert = cert;
    entry.fingerprint = publicKeyFingerprint(cert.publicKey);
    entry.modulusBytes = modulusBytes(cert.publicKey);
    const notAfter = new Date(cert.certificate.validTo);
    const days = (notAfter.getTime() - opts.now.getTime()) / 86_400_000;
    const date = notAfter.toISOString().slice(0, 10);
    if (days < 0) add('cert-expired', config.file, where, `cluster ${c.name}: the certificate ${c.cert} expired on ${date}`);
    else if (days <= opts.expiryDays) add('cert-expiring', config.file, where, `cluster ${c.name}: the certificate ${c.cert} expires on ${date}, in ${Math.floor(days)} day(s)`);
  }
}

/** Fixed words for the yaml library's error codes: its messages quote the input. */
function yamlWhat(code: string): string {
  return code.toLowerCase().replaceAll('_', ' ');
}

/** The objects of a manifest with their positions; a List counts as its items. */
async function readObjects(text: string): Promise<ObjectAt[]> {
  const { parseAllDocuments, isMap, isSeq, isPair, isScalar } = await import('yaml');
  const pos = new Positions(text);
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: ObjectAt[] = [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) throw { ...pos.at(err.pos[0]), what: yamlWhat(err.code) };
    let js: unknown;
    try {
      js = doc.toJS({ maxAliasCount: 100 });
    } catch {
      throw { ...pos.at((doc.contents as YamlNode)?.range?.[0] ?? 0), what: 'aliases that are undefined or expand too much' };
    }
    const o = rec(js);
    if (!o) continue;
    const objectAt = (root: unknown, obj: Record<string, unknown>): ObjectAt => ({
      obj,
      pos(path) {
        let node: unknown = root;
        let best = (root as YamlNode)?.range?.[0] ?? 0;
        for (const seg of path) {
          if (isMap(node)) {
            const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
            if (!pair) break;
            best = (pair.key as YamlNode)?.range?.[0] ?? best;
            node = pair.value;
          } else if (isSeq(node) && typeof seg === 'number') {
            node = node.items[seg];
            best = (node as YamlNode)?.range?.[0] ?? best;
          } else break;
        }
        return pos.at(best);
      },
    });
    if (o['kind'] === 'List' && Array.isArray(o['items'])) {
      const itemsNode = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
      o['items'].forEach((it, n) => {
        const r = rec(it);
        if (r) out.push(objectAt(isSeq(itemsNode) ? itemsNode.items[n] : doc.contents, r));
      });
    } else out.push(objectAt(doc.contents, o));
  }
  return out;
}
