/**
 * .sealed-secrets.yaml: which clusters exist, where each one's controller certificate
 * comes from, and which paths of the repository deploy to which clusters. Found as
 * .sops.yaml is: in the working directory or the nearest folder above it.
 *
 *   clusters:
 *     dev:  {cert: certs/dev.pem}                  # a file relative to this config, or an https URL
 *     prod: {cert: https://certs.example.com/prod.pem, context: prod-admin}
 *   paths:                                         # first match wins
 *     - match: overlays/dev/**
 *       clusters: [dev]
 *
 * Per cluster, besides `cert`: `context` and `kubeconfig` (the kubeconfig context that
 * reaches it, for --re-encrypt), `controllerName` and `controllerNamespace`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SealedSecretsError } from '../src/index.js';
import { compileGlob, normalizeRelPath } from './glob.js';

export const CONFIG_NAMES = ['.sealed-secrets.yaml', '.sealed-secrets.yml'] as const;

export interface ClusterConfig {
  name: string;
  /** As written: a path relative to the config, or a URL. */
  cert: string;
  /** Resolved: an absolute file path, or the URL. */
  certSource: string;
  context?: string;
  kubeconfig?: string;
  controllerName?: string;
  controllerNamespace?: string;
  line: number;
}

export interface PathRule {
  match: string;
  regex: RegExp;
  clusters: string[];
  line: number;
}

export interface FleetConfig {
  /** Absolute path of the file. */
  file: string;
  /** Its folder: every path of the repository is matched relative to it. */
  root: string;
  clusters: Map<string, ClusterConfig>;
  paths: PathRule[];
}

/** The config in `start` or the nearest folder above it; undefined when there is none. */
export function findConfigFile(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    for (const n of CONFIG_NAMES) {
      const f = join(dir, n);
      if (existsSync(f)) return f;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function configError(file: string, line: number | undefined, what: string, hint?: string): SealedSecretsError {
  return new SealedSecretsError('ERR_USAGE', `${file}${line ? `:${line}` : ''}: ${what}`, {
    hint: hint ?? 'see "Many clusters" in the README for the shape of .sealed-secrets.yaml',
  });
}

const CLUSTER_FIELDS = new Set(['cert', 'context', 'kubeconfig', 'controllerName', 'controllerNamespace']);
const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$/;

/** Reads and checks a config file; every error names the file, the line and the field. */
export async function loadFleetConfig(file: string, shown = file): Promise<FleetConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw configError(shown, undefined, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'read error'})`);
  }
  return parseFleetConfig(text, file, shown);
}

export async function parseFleetConfig(text: string, file: string, shown = file): Promise<FleetConfig> {
  const { parseDocument, LineCounter, isMap, isSeq, isScalar } = await import('yaml');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const lineOf = (node: unknown): number | undefined => {
    const r = (node as { range?: [number, number, number] } | null)?.range;
    return r ? lc.linePos(r[0]).line : undefined;
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw configError(shown, lc.linePos(e.pos[0]).line, `invalid YAML (${e.code.toLowerCase().replaceAll('_', ' ')})`);
  }
  const top = doc.contents;
  if (!isMap(top)) throw configError(shown, lineOf(top), 'must be a mapping with clusters: and paths:');
  const root = dirname(resolve(file));
  const clusters = new Map<string, ClusterConfig>();
  const paths: PathRule[] = [];
  for (const pair of top.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'clusters' && key !== 'paths') {
      throw configError(shown, lineOf(pair.key), `unknown field ${JSON.stringify(key)}`, 'the fields are clusters: and paths:');
    }
  }
  const clustersNode = top.get('clusters', true);
  if (!isMap(clustersNode)) throw configError(shown, lineOf(clustersNode) ?? 1, 'clusters: must be a mapping of cluster names to {cert: ...}');
  for (const pair of clustersNode.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const at = lineOf(pair.key);
    if (!NAME_RE.test(name)) throw configError(shown, at, `clusters: ${JSON.stringify(name)} is not a valid cluster name (letters, digits, . _ -)`);
    const v = pair.value;
    if (!isMap(v)) throw configError(shown, at, `clusters.${name} must be a mapping with cert:`);
    const c: Partial<ClusterConfig> = { name, line: at ?? 1 };
    for (const f of v.items) {
      const k = isScalar(f.key) ? String(f.key.value) : '';
      if (!CLUSTER_FIELDS.has(k)) throw configError(shown, lineOf(f.key), `clusters.${name}: unknown field ${JSON.stringify(k)}`, `the fields are ${[...CLUSTER_FIELDS].join(', ')}`);
      const val = isScalar(f.value) ? f.value.value : undefined;
      if (typeof val !== 'string' || !val) throw configError(shown, lineOf(f.value) ?? lineOf(f.key), `clusters.${name}.${k} must be a non-empty string`);
      (c as Record<string, unknown>)[k] = val;
    }
    if (!c.cert) throw configError(shown, at, `clusters.${name} has no cert:`, 'give the controller certificate: a file relative to this config (kubeseal --fetch-cert > certs/NAME.pem) or an https URL');
    if (/^http:\/\//i.test(c.cert)) {
      throw configError(shown, at, `clusters.${name}.cert is a plain http URL`, 'use an https URL, or download the certificate and commit it as a file');
    }
    c.certSource = /^https:\/\//i.test(c.cert) ? c.cert : isAbsolute(c.cert) ? c.cert : resolve(root, c.cert);
    if (c.kubeconfig && !isAbsolute(c.kubeconfig)) c.kubeconfig = resolve(root, c.kubeconfig);
    clusters.set(name, c as ClusterConfig);
  }
  const pathsNode = top.get('paths', true);
  if (pathsNode !== undefined && !isSeq(pathsNode)) throw configError(shown, lineOf(pathsNode), 'paths: must be a list of {match: GLOB, clusters: [NAME...]}');
  for (const [n, item] of (isSeq(pathsNode) ? pathsNode.items : []).entries()) {
    const at = lineOf(item);
    const where = `paths[${n}]`;
    if (!isMap(item)) throw configError(shown, at, `${where} must be a mapping {match: GLOB, clusters: [NAME...]}`);
    for (const f of item.items) {
      const k = isScalar(f.key) ? String(f.key.value) : '';
      if (k !== 'match' && k !== 'clusters') throw configError(shown, lineOf(f.key), `${where}: unknown field ${JSON.stringify(k)}`, 'the fields are match: and clusters:');
    }
    const match = item.get('match');
    if (typeof match !== 'string' || !match.trim()) throw configError(shown, at, `${where}.match must be a glob such as overlays/prod/**`);
    let regex: RegExp;
    try {
      regex = compileGlob(match);
    } catch (e) {
      throw configError(shown, at, `${where}.match ${JSON.stringify(match)}: ${(e as Error).message}`);
    }
    const cnode = item.get('clusters', true);
    const list = isSeq(cnode) ? cnode.items.map((i) => (isScalar(i) ? i.value : undefined)) : isScalar(cnode) ? [cnode.value] : undefined;
    if (!list || list.length === 0 || list.some((x) => typeof x !== 'string' || !x)) {
      throw configError(shown, at, `${where}.clusters must be a list of cluster names, e.g. [prod]`);
    }
    for (const cl of list as string[]) {
      if (!clusters.has(cl)) {
        throw configError(shown, lineOf(cnode) ?? at, `${where}.clusters names ${JSON.stringify(cl)}, which clusters: does not define`, `define it under clusters: (known: ${[...clusters.keys()].join(', ') || 'none'})`);
      }
    }
    paths.push({ match, regex, clusters: [...new Set(list as string[])], line: at ?? 1 });
  }
  return { file: resolve(file), root, clusters, paths };
}

/** The path relative to the config's folder, `/`-separated; undefined when outside it. */
export function configRelative(config: FleetConfig, absPath: string): string | undefined {
  const rel = relative(config.root, absPath);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return normalizeRelPath(rel.split(sep).join('/'));
}

/** The first rule matching the path (absolute), or undefined. */
export function matchPath(config: FleetConfig, absPath: string): PathRule | undefined {
  const rel = configRelative(config, absPath);
  if (rel === undefined) return undefined;
  return config.paths.find((r) => r.regex.test(rel));
}
