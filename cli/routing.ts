/**
 * Sealing by path: with a .sealed-secrets.yaml above the working directory and no --cert,
 * `kubeseal -f secret.yaml -w overlays/prod/db.sealed.yaml` seals with the certificate of
 * the cluster that path deploys to, for the namespace and name kustomize gives the object
 * there. Several -w seal one input into several overlays, all written or none.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath, rename, stat, unlink, link } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import {
  SealedSecretsError,
  inContext,
  isSealedSecretsError,
  parseScope,
  publicKeyFingerprint,
  scopeFromAnnotations,
  sealSecret,
  type ParsedCertificate,
  type SealedSecret,
  type Secret,
  type Scope,
} from '../src/index.js';
import { UsageError } from './app.js';
import { loadSealingCertificate } from './certificate-source.js';
import { formatDocuments, type Format } from './documents.js';
import { configRelative, findConfigFile, loadFleetConfig, matchPath, type ClusterConfig, type FleetConfig } from './fleet-config.js';
import type { CliIo } from './io.js';
import { defaultNamespace } from './kubeconfig.js';
import { KustomizeModel, applyChain, type Placement } from './kustomize.js';
import type { KubesealArgs } from './parser.js';
import { readInput } from './seal.js';
import { isKustomizationName, readRegularFile, walkManifests } from './tree.js';

/**
 * Our annotation on a SealedSecret sealed by path whose scope binds a name kustomize gives
 * it (namePrefix/nameSuffix): the `namespace/name` (or `namespace`) the values are bound to.
 * Only a record for `kubeseal lint`; the controller ignores it.
 */
export const ANNOTATION_SEALED_FOR = 'sealed-secrets-ts.io/sealed-for';

export const KEY_RUNBOOK = 'give these clusters one sealing key: `sealed-secrets-keys backup -o key.yaml` on one, `sealed-secrets-keys restore key.yaml` on the others (README, "Many clusters")';

export function outputPaths(args: KubesealArgs): string[] {
  const w = args['sealed-secret-file'] as unknown;
  if (w === undefined) return [];
  return (Array.isArray(w) ? w : [w]).map(String);
}

/** Whether this invocation seals by path: a config is found, no --cert, and -w given. */
export function routingConfigFile(args: KubesealArgs, io: CliIo): string | undefined {
  if (args.cert || args.raw || args['merge-into']) return undefined;
  if (outputPaths(args).length === 0) return undefined;
  return findConfigFile(io.cwd);
}

/** Every kustomization under the config's folder. */
export async function loadModel(root: string): Promise<KustomizeModel> {
  const files = (await walkManifests(root)).filter((f) => isKustomizationName(basename(f)));
  return KustomizeModel.load(files);
}

export interface Route {
  /** The file as the user gave it, and absolute. */
  shown: string;
  path: string;
  clusters: ClusterConfig[];
  placements: Placement[];
}

const rel = (config: FleetConfig, p: string) => configRelative(config, p) ?? p;

/** The clusters a file deploys to: its own path's rule, else the rules of the roots that include it. */
export function clustersFor(config: FleetConfig, file: string, placements: readonly Placement[]): string[] {
  const own = matchPath(config, file);
  if (own) return own.clusters;
  const out = new Set<string>();
  for (const p of placements) for (const c of matchPath(config, p.root)?.clusters ?? []) out.add(c);
  return [...out];
}

export function routeOutput(config: FleetConfig, model: KustomizeModel, shown: string, path: string): Route {
  const k = model.nearest(dirname(path), config.root);
  const placements = k ? model.placementsIn(k) : [{ root: path, chain: [] }];
  const names = clustersFor(config, path, placements);
  if (names.length === 0) {
    throw new UsageError(
      `${shown}: no paths: entry of ${rel(config, config.file)} matches ${rel(config, path)}${k ? ` or the overlays that include ${rel(config, k.file)}` : ''}, so kubeseal does not know which cluster it deploys to`,
      `add a paths: entry (match: ${rel(config, dirname(path))}/**, clusters: [NAME]) to ${config.file}, or pass --cert`,
    );
  }
  return { shown, path, clusters: names.map((n) => config.clusters.get(n)!), placements };
}

/** The certificate shared by the clusters of a route; refuses when their keys differ. */
async function routeCertificate(route: Route, certs: Map<string, Promise<ParsedCertificate>>, io: CliIo): Promise<ParsedCertificate> {
  const loaded = await Promise.all(
    route.clusters.map((c) => {
      let p = certs.get(c.name);
      if (!p) {
        p = assertCertFile(c).then(() => loadSealingCertificate(io, c.certSource)).catch((e: unknown) => {
          throw isSealedSecretsError(e) ? inContext(e, `cluster ${c.name} of .sealed-secrets.yaml`) : e;
        });
        certs.set(c.name, p);
      }
      return p;
    }),
  );
  const fps = loaded.map((c) => publicKeyFingerprint(c.publicKey));
  if (new Set(fps).size > 1) {
    const list = route.clusters.map((c, n) => `${c.name} (${fps[n]!.slice(0, 16)})`).join(', ');
    throw new SealedSecretsError(
      'ERR_CERT_INVALID',
      `${route.shown} deploys to clusters ${list}, whose certificates differ: one SealedSecret opens under one key, so what is sealed for one of them will never unseal on the others`,
      { hint: KEY_RUNBOOK },
    );
  }
  return loaded[0]!;
}

/** A cert: file must be a regular file (not /dev/zero, not a FIFO): the config may come from someone else. */
async function assertCertFile(c: ClusterConfig): Promise<void> {
  if (/^https:\/\//i.test(c.certSource)) return;
  const read = await readRegularFile(c.certSource, 1024 * 1024);
  if ('problem' in read && read.problem !== 'unreadable') {
    throw new SealedSecretsError('ERR_CERT_INVALID', `cert ${c.cert} ${read.problem === 'not-regular' ? 'is not a regular file' : 'is over 1 MiB'}`, { hint: 'give the controller certificate as a PEM file: kubeseal --fetch-cert > certs/NAME.pem' });
  }
}

interface Target {
  namespace?: string;
  name: string;
  /** Which kustomization decided the namespace, for messages. */
  namespaceFrom?: string;
}

/** The namespace and name one input Secret gets in each placement of the route. */
async function targetFor(route: Route, secret: Secret, scope: Scope, args: KubesealArgs, config: FleetConfig, defaultNs: () => Promise<string>): Promise<Target> {
  const name = args.name ?? secret.metadata?.name;
  if (!name) throw new SealedSecretsError('ERR_NAME', 'the Secret has no metadata.name', { hint: 'set metadata.name or pass --name' });
  const given = secret.metadata?.namespace;
  if (args.namespace && given && args.namespace !== given) {
    throw new SealedSecretsError('ERR_NAME', `namespace mismatch: input secret is in namespace "${given}" but "${args.namespace}" was specified`, { hint: 'drop --namespace, or change metadata.namespace of the Secret' });
  }
  const asked = given ?? args.namespace;
  const targets: Target[] = [];
  for (const p of route.placements) {
    const nsFrom = [...p.chain].reverse().find((t) => t.namespace);
    const id = applyChain({ name, namespace: asked }, p.chain);
    if (scope !== 'cluster-wide' && asked && nsFrom && nsFrom.namespace !== asked) {
      throw new UsageError(
        `Secret ${asked}/${name} names namespace "${asked}", but ${rel(config, nsFrom.file)} deploys ${route.shown} into namespace "${nsFrom.namespace}": sealed for "${asked}" (scope ${scope}) it would never unseal there, since its scope binds the namespace`,
        `drop metadata.namespace (and -n) to seal for "${nsFrom.namespace}", write it to an overlay for "${asked}", or use --scope cluster-wide`,
      );
    }
    targets.push({ ...id, namespaceFrom: nsFrom ? nsFrom.file : undefined });
  }
  const key = (t: Target) => (scope === 'strict' ? `${t.namespace ?? ''}/${t.name}` : scope === 'namespace-wide' ? (t.namespace ?? '') : '');
  const distinct = [...new Map(targets.map((t) => [key(t), t])).values()];
  if (distinct.length > 1) {
    throw new UsageError(
      `${route.shown} is deployed as ${distinct.map((t) => `${t.namespace ?? '<no namespace>'}/${t.name}`).join(' and ')} by the overlays that include it (${route.placements.map((p) => rel(config, p.root)).join(', ')}): one SealedSecret sealed with scope ${scope} cannot open as all of them`,
      'write it into each overlay instead (several -w), or seal it with --scope namespace-wide or cluster-wide',
    );
  }
  const t = distinct[0] ?? { name, namespace: asked };
  if (scope !== 'cluster-wide' && !t.namespace) t.namespace = await defaultNs();
  return t;
}

function formatFor(args: KubesealArgs, path: string, inputFormat: Format): Format {
  if (args.format) return args.format;
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  if (/\.json$/i.test(path)) return 'json';
  return inputFormat;
}

/** Seals the input into every -w, each routed by its path; all files are written or none. */
export async function sealRouted(args: KubesealArgs, io: CliIo, configFile: string): Promise<void> {
  const config = await loadFleetConfig(configFile, relative(io.cwd, configFile) || configFile);
  const model = await loadModel(config.root);
  const outputs = outputPaths(args);
  const seen = new Set<string>();
  const routes: Route[] = [];
  for (const o of outputs) {
    const path = resolve(io.cwd, o);
    if (seen.has(path)) throw new UsageError(`-w ${o} is given twice`);
    seen.add(path);
    routes.push(routeOutput(config, model, o, path));
  }
  // Certificates before the input: a broken route is reported before anyone types a secret.
  const certs = new Map<string, Promise<ParsedCertificate>>();
  const routeCerts: ParsedCertificate[] = [];
  for (const r of routes) routeCerts.push(await routeCertificate(r, certs, io));
  const input = await readInput(args, io);
  const flagScope = args.scope ? parseScope(args.scope) : undefined;
  let nsCache: Promise<string> | undefined;
  const defaultNs = () => (nsCache ??= defaultNamespace(io, args));
  const writes: { path: string; shown: string; text: string }[] = [];
  for (const [i, route] of routes.entries()) {
    const cert = routeCerts[i]!;
    const key = { publicKey: cert.publicKey, fingerprint: publicKeyFingerprint(cert.publicKey) };
    const out: SealedSecret[] = [];
    for (const [n, obj] of input.objects.entries()) {
      const secret = obj as Secret;
      try {
        if (secret.kind !== undefined && secret.kind !== 'Secret') {
          throw new SealedSecretsError('ERR_WRONG_KIND', `${String(secret.kind)} is not a Secret`, { hint: 'kubeseal seals objects of kind Secret (apiVersion v1)' });
        }
        const scope = flagScope ?? scopeFromAnnotations(secret.metadata?.annotations);
        const t = await targetFor(route, secret, scope, args, config, defaultNs);
        const fileName = args.name ?? secret.metadata.name!;
        const copy = structuredClone(secret);
        copy.metadata = { ...(copy.metadata ?? {}), name: t.name };
        if (scope === 'cluster-wide') delete copy.metadata.namespace;
        else copy.metadata.namespace = t.namespace;
        const sealed = sealSecret(copy, key, { scope, allowEmptyData: args['allow-empty-data'] });
        if (t.name !== fileName) {
          // The file keeps the name kustomize transforms; the values are bound to the transformed one.
          sealed.metadata.name = fileName;
          if (sealed.spec.template?.metadata) sealed.spec.template.metadata.name = fileName;
          sealed.metadata.annotations = { ...(sealed.metadata.annotations ?? {}), [ANNOTATION_SEALED_FOR]: scope === 'strict' ? `${t.namespace}/${t.name}` : (t.namespace ?? '') };
        }
        out.push(sealed);
      } catch (e) {
        const ctx = `${route.shown}${input.objects.length > 1 ? `, document ${n + 1}` : ''}`;
        throw isSealedSecretsError(e) ? inContext(e, ctx) : e;
      }
    }
    writes.push({ path: route.path, shown: route.shown, text: await formatDocuments(out, formatFor(args, route.path, input.format)) });
  }
  await writeAllOrNone(writes);
  if (routes.length > 1 || io.stdoutIsTTY) {
    for (const r of routes) io.writeStderr(`sealed ${r.shown} for cluster ${r.clusters.map((c) => c.name).join(', ')}\n`);
  }
}

function ioError(shown: string, e: unknown): SealedSecretsError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code === 'ENOSPC' ? 'no space left on the device' : (code ?? 'write error');
  return new SealedSecretsError('ERR_IO', `cannot write ${shown}: ${why}; no output file was changed`);
}

/**
 * Writes every file or none: each content goes to a temporary file beside its target
 * (fsynced); only when all are written are they renamed into place. If a rename fails,
 * the targets already replaced get their old content back (kept as hard links) or are
 * removed when they did not exist. Existing files keep their mode.
 */
export async function writeAllOrNone(files: readonly { path: string; shown: string; text: string }[]): Promise<void> {
  const staged: { target: string; tmp: string; backup?: string; shown: string }[] = [];
  const cleanup = async () => {
    for (const s of staged) {
      await unlink(s.tmp).catch(() => undefined);
      if (s.backup) await unlink(s.backup).catch(() => undefined);
    }
  };
  try {
    for (const f of files) {
      let target = f.path;
      const l = await lstat(target).catch(() => undefined);
      if (l?.isSymbolicLink()) target = await realpath(target).catch(() => { throw new SealedSecretsError('ERR_IO', `cannot write ${f.shown}: it is a symbolic link to a path that does not exist`); });
      const st = await stat(target).catch(() => undefined);
      if (st && !st.isFile()) throw new SealedSecretsError('ERR_IO', `cannot write ${f.shown}: it is not a regular file; no output file was changed`);
      const suffix = randomBytes(8).toString('hex');
      const tmp = join(dirname(target), `.${basename(target)}.${suffix}.tmp`);
      const entry: (typeof staged)[number] = { target, tmp, shown: f.shown };
      let fh;
      try {
        fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, st ? st.mode & 0o777 : 0o644);
        staged.push(entry);
        if (st) await fh.chmod(st.mode & 0o777);
        await fh.writeFile(f.text);
        await fh.sync();
      } catch (e) {
        throw ioError(f.shown, e);
      } finally {
        await fh?.close().catch(() => undefined);
      }
      if (st) {
        const backup = join(dirname(target), `.${basename(target)}.${suffix}.bak`);
        try {
          await link(target, backup);
          entry.backup = backup;
        } catch (e) {
          throw ioError(f.shown, e);
        }
      }
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  const done: (typeof staged)[number][] = [];
  try {
    for (const s of staged) {
      await rename(s.tmp, s.target);
      done.push(s);
    }
  } catch (e) {
    for (const s of done.reverse()) {
      if (s.backup) await rename(s.backup, s.target).catch(() => undefined);
      else await unlink(s.target).catch(() => undefined);
    }
    await cleanup();
    throw new SealedSecretsError('ERR_IO', `cannot write ${staged[done.length]?.shown ?? 'the output'}: ${(e as NodeJS.ErrnoException).code ?? 'rename failed'}; the files already written were put back as they were`);
  }
  for (const s of staged) if (s.backup) await unlink(s.backup).catch(() => undefined);
}

/**
 * --re-encrypt -f DIR with a .sealed-secrets.yaml: each file goes to the controller of the
 * cluster its path deploys to (the cluster's `context`/`kubeconfig` in the config). A file
 * no rule routes, or whose cluster names no context, fails with a reason; a cluster that
 * cannot be reached is reported with every file it left as it was, never skipped quietly.
 */
export async function reencryptRouter(args: KubesealArgs, io: CliIo): Promise<import('./cluster-modes.js').ReencryptRouter | undefined> {
  const configFile = args.context || args.kubeconfig ? undefined : findConfigFile(io.cwd);
  if (!configFile) return undefined;
  const config = await loadFleetConfig(configFile, relative(io.cwd, configFile) || configFile);
  const model = await loadModel(config.root);
  const perCluster = new Map<string, number>();
  const fileCluster = new Map<string, string>();
  const argsPerCluster = new Map<string, KubesealArgs>();
  return {
    clusterOf: (file: string) => `cluster ${fileCluster.get(file) ?? '?'}`,
    argsFor(file: string) {
      const placements = model.placementsOfFile(file);
      const names = clustersFor(config, file, placements === 'unlisted' ? [] : placements);
      if (names.length === 0) {
        return new SealedSecretsError('ERR_USAGE', `no paths: entry of ${rel(config, config.file)} matches it, so kubeseal does not know which controller to ask`, { hint: 'add a paths: entry for it, or run with --context to send every file to one cluster' });
      }
      const c = config.clusters.get(names[0]!)!;
      if (!c.context) {
        return new SealedSecretsError('ERR_USAGE', `cluster ${c.name} has no context: in ${rel(config, config.file)}`, { hint: `add context: KUBECONFIG-CONTEXT (and kubeconfig: FILE if not the default) under clusters.${c.name}` });
      }
      perCluster.set(c.name, (perCluster.get(c.name) ?? 0) + 1);
      fileCluster.set(file, c.name);
      // One args object per cluster: connections are cached per args object (cli/cluster.ts), so each
      // cluster's controller is connected to (and its exec plugin run) once per run, not once per file.
      let routed = argsPerCluster.get(c.name);
      if (!routed) {
        routed = {
          ...args,
          context: c.context,
          ...(c.kubeconfig ? { kubeconfig: c.kubeconfig } : {}),
          'controller-name': c.controllerName ?? args['controller-name'],
          'controller-namespace': c.controllerNamespace ?? args['controller-namespace'],
        };
        argsPerCluster.set(c.name, routed);
      }
      return routed;
    },
    summary() {
      return [...perCluster].map(([name, n]) => `cluster ${name} (context ${config.clusters.get(name)!.context}): ${n} file(s) routed to its controller`);
    },
  };
}
