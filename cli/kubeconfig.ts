/**
 * How kubeseal finds the cluster and the namespace: client-go's clientcmd rules, as upstream
 * kubeseal inherits them (cmd/kubeseal/main.go: default loading rules, the kubectl override
 * flags, the in-cluster fallback).
 *
 * Loading: --kubeconfig alone (it must exist), else every file of KUBECONFIG (missing ones
 * skipped), else ~/.kube/config. Merged as client-go merges them: for a cluster, user or
 * context name, and for current-context, the first file that sets it wins. Relative paths in
 * a file are relative to that file.
 *
 * Precedence: flags over the kubeconfig's context over defaults. --context picks the context;
 * --cluster and --user replace the context's; --server, --certificate-authority,
 * --insecure-skip-tls-verify, --tls-server-name, --proxy-url replace the cluster's fields
 * (a CA or insecure flag replaces both; --server clears the file's tls-server-name);
 * --token, --client-certificate, --client-key, --username, --password, --as, --as-uid,
 * --as-group replace the user's. With no server from either, inside a Pod
 * (KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount token file) the in-cluster config is
 * used, with --server, --token and --certificate-authority applied over it.
 *
 * Namespace: -n, else the context's, else (inside a Pod) POD_NAMESPACE or the ServiceAccount's
 * namespace file, else "default".
 *
 * Offline sealing reads only the YAML here and never loads the Kubernetes client.
 */
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { SealedSecretsError } from '../src/index.js';
import type { CliIo } from './io.js';
import type { KubesealArgs } from './parser.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

export interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  as?: string;
  'as-uid'?: string;
  'as-groups'?: string[];
  'as-user-extra'?: Record<string, string[]>;
  exec?: Record<string, unknown>;
  'auth-provider'?: { name?: string; config?: Record<string, string> };
}

export interface ContextEntry {
  cluster?: string;
  user?: string;
  namespace?: string;
}

export interface MergedKubeconfig {
  files: string[];
  currentContext: string;
  clusters: Map<string, ClusterEntry>;
  users: Map<string, UserEntry>;
  contexts: Map<string, ContextEntry>;
}

/** What a connection is made of, after every rule; `describe` is safe to print (-v). */
export interface ResolvedConfig {
  source: 'kubeconfig' | 'flags' | 'in-cluster';
  contextName: string;
  clusterName: string;
  userName: string;
  cluster: ClusterEntry;
  user: UserEntry;
}

function serviceAccountDir(io: CliIo): string {
  return io.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function kubeconfigError(file: string, why: string): SealedSecretsError {
  return new SealedSecretsError('ERR_UNAVAILABLE', `cannot load the kubeconfig ${file}: ${why}`, { hint: 'fix the file or pass --kubeconfig, or --cert to seal offline' });
}

/** A parse failure by position only: the YAML library's message quotes the lines around it (tokens, keys). */
function yamlWhy(e: unknown): string {
  const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  return pos ? `invalid YAML at line ${pos.line}, column ${pos.col}` : 'invalid YAML';
}

const PATH_FIELDS_CLUSTER = ['certificate-authority'] as const;
const PATH_FIELDS_USER = ['client-certificate', 'client-key', 'tokenFile'] as const;

function named<T>(list: unknown, field: string, dir: string, paths: readonly string[]): [string, T][] {
  if (!Array.isArray(list)) return [];
  const out: [string, T][] = [];
  for (const item of list as { name?: unknown; [k: string]: unknown }[]) {
    if (!item || typeof item !== 'object' || typeof item.name !== 'string') continue;
    const body = { ...((item[field] ?? {}) as Record<string, unknown>) };
    for (const p of paths) {
      const v = body[p];
      if (typeof v === 'string' && v && !isAbsolute(v)) body[p] = resolve(dir, v);
    }
    if (field === 'user') {
      const exec = body['exec'] as { command?: unknown } | undefined;
      // kubectl runs a relative exec command that has a slash from the kubeconfig's directory.
      if (exec && typeof exec.command === 'string' && exec.command.includes('/') && !isAbsolute(exec.command)) {
        body['exec'] = { ...exec, command: resolve(dir, exec.command) };
      }
    }
    out.push([item.name, body as T]);
  }
  return out;
}

/** The files client-go's default loading rules read, in precedence order. */
function kubeconfigFiles(io: CliIo, explicit: string | undefined): { files: string[]; explicit: boolean } {
  if (explicit) return { files: [resolve(io.cwd, explicit)], explicit: true };
  const env = io.env['KUBECONFIG'];
  if (env) {
    const seen = new Set<string>();
    const files = env.split(delimiter).filter(Boolean).map((f) => resolve(io.cwd, f)).filter((f) => !seen.has(f) && seen.add(f));
    return { files, explicit: false };
  }
  return { files: [join(io.env['HOME'] || homedir(), '.kube', 'config')], explicit: false };
}

export async function loadKubeconfig(io: CliIo, explicitPath: string | undefined): Promise<MergedKubeconfig> {
  const { files, explicit } = kubeconfigFiles(io, explicitPath);
  const merged: MergedKubeconfig = { files: [], currentContext: '', clusters: new Map(), users: new Map(), contexts: new Map() };
  let parse: ((s: string) => unknown) | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !explicit) continue;
      throw kubeconfigError(file, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'read error'));
    }
    parse ??= (await import('yaml')).parse;
    let doc: Record<string, unknown>;
    try {
      doc = (parse(text) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw kubeconfigError(file, yamlWhy(e));
    }
    if (typeof doc !== 'object' || Array.isArray(doc)) throw kubeconfigError(file, 'it is not a kubeconfig (a YAML mapping)');
    merged.files.push(file);
    const dir = dirname(file);
    const cur = doc['current-context'];
    if (!merged.currentContext && typeof cur === 'string') merged.currentContext = cur;
    for (const [n, c] of named<ClusterEntry>(doc['clusters'], 'cluster', dir, PATH_FIELDS_CLUSTER)) if (!merged.clusters.has(n)) merged.clusters.set(n, c);
    for (const [n, u] of named<UserEntry>(doc['users'], 'user', dir, PATH_FIELDS_USER)) if (!merged.users.has(n)) merged.users.set(n, u);
    for (const [n, c] of named<ContextEntry>(doc['contexts'], 'context', dir, [])) if (!merged.contexts.has(n)) merged.contexts.set(n, c);
  }
  return merged;
}

/** client-go's RemoveNamespacesPrefix: `-n ns/prod` is `-n prod`. */
export function namespaceFlag(value: string | undefined): string | undefined {
  if (!value) return undefined;
  for (const prefix of ['namespaces/', 'namespace/', 'ns/']) {
    if (value.length > prefix.length && value.slice(0, prefix.length).toLowerCase() === prefix) return value.slice(prefix.length);
  }
  return value;
}

function contextOf(cfg: MergedKubeconfig, args: KubesealArgs): { name: string; context: ContextEntry | undefined } {
  const name = args.context || cfg.currentContext;
  const context = name ? cfg.contexts.get(name) : undefined;
  if (args.context && !context) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', `context "${args.context}" does not exist in the kubeconfig${cfg.files.length ? ` (${cfg.files.join(', ')})` : ''}`, {
      hint: 'pass a context that exists (kubectl config get-contexts), or -n NAMESPACE',
    });
  }
  return { name, context };
}

export async function inClusterPossible(io: CliIo): Promise<boolean> {
  return Boolean(io.env['KUBERNETES_SERVICE_HOST'] && io.env['KUBERNETES_SERVICE_PORT'] && (await isFile(join(serviceAccountDir(io), 'token'))));
}

/** client-go's in-cluster namespace: POD_NAMESPACE, else the ServiceAccount's namespace file, else "default". */
async function inClusterNamespace(io: CliIo): Promise<string> {
  const env = io.env['POD_NAMESPACE'];
  if (env) return env;
  try {
    const ns = (await readFile(join(serviceAccountDir(io), 'namespace'), 'utf8')).trim();
    if (ns) return ns;
  } catch {
    // No namespace file: the default.
  }
  return 'default';
}

/** The namespace for objects that name none: -n, else the kubeconfig context's, else the Pod's, else "default". */
export async function defaultNamespace(io: CliIo, args: KubesealArgs): Promise<string> {
  const flag = namespaceFlag(args.namespace);
  if (flag) return flag;
  const cfg = await loadKubeconfig(io, args.kubeconfig);
  const { context } = contextOf(cfg, args);
  if (context?.namespace) return context.namespace;
  if (await inClusterPossible(io)) return inClusterNamespace(io);
  return 'default';
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0))) as Partial<T>;
}

/** The cluster and user after the kubeconfig, the flags and the in-cluster fallback, as client-go's DirectClientConfig and DeferredLoadingClientConfig do it. */
export async function resolveConfig(io: CliIo, args: KubesealArgs): Promise<ResolvedConfig> {
  const cfg = await loadKubeconfig(io, args.kubeconfig);
  const { name: contextName, context } = contextOf(cfg, args);
  const clusterName = args.cluster || context?.cluster || '';
  const userName = args.user || context?.user || '';
  const fileCluster = clusterName ? cfg.clusters.get(clusterName) : undefined;
  if (args.cluster && !fileCluster) throw new SealedSecretsError('ERR_UNAVAILABLE', `cluster "${args.cluster}" does not exist in the kubeconfig`, { hint: 'pass a cluster that exists (kubectl config get-clusters), or --server' });
  const fileUser = userName ? cfg.users.get(userName) : undefined;
  if (args.user && !fileUser) throw new SealedSecretsError('ERR_UNAVAILABLE', `user "${args.user}" does not exist in the kubeconfig`, { hint: 'pass a user that exists (kubectl config get-users), or --token' });

  const cluster: ClusterEntry = { ...(fileCluster ?? {}) };
  if (args.server) cluster.server = args.server;
  if (args['insecure-skip-tls-verify'] || args['certificate-authority']) {
    cluster['insecure-skip-tls-verify'] = args['insecure-skip-tls-verify'];
    cluster['certificate-authority'] = args['certificate-authority'] ? resolve(io.cwd, args['certificate-authority']) : undefined;
    delete cluster['certificate-authority-data'];
  }
  if (args['tls-server-name'] || args.server) cluster['tls-server-name'] = args['tls-server-name'] || undefined;
  if (args['proxy-url']) cluster['proxy-url'] = args['proxy-url'];

  const user: UserEntry = { ...(fileUser ?? {}) };
  const overrides = defined<UserEntry>({
    token: args.token,
    'client-certificate': args['client-certificate'] ? resolve(io.cwd, args['client-certificate']) : undefined,
    'client-key': args['client-key'] ? resolve(io.cwd, args['client-key']) : undefined,
    username: args.username,
    password: args.password,
    as: args.as,
    'as-uid': args['as-uid'],
    'as-groups': args['as-group']?.map(String),
  });
  Object.assign(user, overrides);
  // A flag names a file: the file's data from the kubeconfig no longer applies, nor do other ways to get a token.
  if (overrides['client-certificate']) delete user['client-certificate-data'];
  if (overrides['client-key']) delete user['client-key-data'];
  if (overrides.token) {
    delete user.tokenFile;
    delete user.exec;
    delete user['auth-provider'];
  }

  if (cluster.server) return { source: fileCluster || fileUser || context ? 'kubeconfig' : 'flags', contextName, clusterName, userName, cluster, user };

  if (await inClusterPossible(io)) {
    const dir = serviceAccountDir(io);
    const host = io.env['KUBERNETES_SERVICE_HOST']!;
    const port = io.env['KUBERNETES_SERVICE_PORT']!;
    const inCluster: ClusterEntry = { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}` };
    if (await isFile(join(dir, 'ca.crt'))) inCluster['certificate-authority'] = join(dir, 'ca.crt');
    if (args['certificate-authority']) inCluster['certificate-authority'] = resolve(io.cwd, args['certificate-authority']);
    if (args['insecure-skip-tls-verify']) {
      inCluster['insecure-skip-tls-verify'] = true;
      delete inCluster['certificate-authority'];
    }
    if (args['tls-server-name']) inCluster['tls-server-name'] = args['tls-server-name'];
    if (args['proxy-url']) inCluster['proxy-url'] = args['proxy-url'];
    const inClusterUser: UserEntry = args.token ? { token: args.token } : { tokenFile: join(dir, 'token') };
    for (const k of ['as', 'as-uid', 'as-groups'] as const) if (overrides[k]) (inClusterUser as Record<string, unknown>)[k] = overrides[k];
    return { source: 'in-cluster', contextName: '', clusterName: '', userName: '', cluster: inCluster, user: inClusterUser };
  }

  const where = cfg.files.length ? `the kubeconfig (${cfg.files.join(', ')}) names no server${contextName ? ` for context "${contextName}"` : ' (no current-context)'}` : 'no kubeconfig was found (--kubeconfig, KUBECONFIG, ~/.kube/config)';
  throw new SealedSecretsError('ERR_UNAVAILABLE', `no Kubernetes API server to connect to: ${where}, no --server was given, and this is not inside a Pod`, {
    hint: 'pass --kubeconfig or --server (with --token), or --cert to seal offline',
  });
}

/** --request-timeout as client-go's ParseTimeout reads it: whole seconds, or a Go duration; 0 means none. */
export function parseRequestTimeout(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ms = parseGoDuration(value);
  if (ms === undefined) {
    throw new SealedSecretsError('ERR_USAGE', `Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)`, {
      hint: `--request-timeout ${JSON.stringify(value)} is neither`,
    });
  }
  return Math.max(0, ms);
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds: "1h2m3.5s", "-1s", "0". */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (!rest) return undefined;
  let total = 0;
  while (rest) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}
