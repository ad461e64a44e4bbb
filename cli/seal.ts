/** Sealing modes: a stream of Secrets, one raw value, or a merge into an existing file. */
import {
  SealedSecretsError,
  assertCertificateValid,
  parseCertificatePem,
  encryptionLabel,
  hybridEncrypt,
  inContext,
  isSealedSecretsError,
  mergeSealedSecrets,
  parseScope,
  publicKeyFingerprint,
  scopeFromAnnotations,
  sealSecret,
  type ParsedCertificate,
  type SealedSecret,
  type Secret,
  type SealingKey,
} from '../src/index.js';
import { UsageError } from './app.js';
import { loadSealingCertificate } from './certificate-source.js';

/** The sealing certificate: --cert, or fetched from the controller through the API server. */
async function sealingCertificate(args: KubesealArgs, io: CliIo): Promise<ParsedCertificate> {
  if (args.cert) return loadSealingCertificate(io, args.cert);
  const { fetchCertificateFromCluster } = await import('./cluster.js');
  const source = `the controller ${args['controller-namespace']}/${args['controller-name']}`;
  const cert = parseCertificatePem(await fetchCertificateFromCluster(args, io), source);
  assertCertificateValid(cert.certificate, io.now(), source);
  return cert;
}
import { formatDocuments, parseDocuments, type Format } from './documents.js';
import { readInputFile, writeFileAtomic, type CliIo } from './io.js';
import { defaultNamespace } from './kubeconfig.js';
import type { KubesealArgs } from './parser.js';

function sealingKey(cert: ParsedCertificate): SealingKey {
  return { publicKey: cert.publicKey, fingerprint: publicKeyFingerprint(cert.publicKey) };
}

/** Reads the input documents from -f or stdin. */
export async function readInput(args: KubesealArgs, io: CliIo): Promise<{ format: Format; objects: unknown[]; source: string }> {
  const source = args['secret-file'] ?? 'standard input';
  let buf: Buffer;
  if (args['secret-file']) {
    buf = await readInputFile(io, args['secret-file'], 'input file');
  } else {
    if (io.stdinIsTTY) io.writeStderr('(tty detected: expecting json/yaml k8s resource in stdin)\n');
    buf = await io.readStdin();
  }
  const docs = await parseDocuments(buf, source);
  if (docs.objects.length === 0) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', `no secrets found in ${source}. Ensure the input is valid and UTF-8 encoded`);
  }
  return { ...docs, source };
}

/** -o wins; else a -w file ending .yaml/.yml/.json decides; else the input's format. */
export function outputFormat(args: KubesealArgs, inputFormat: Format): Format {
  if (args.format) return args.format;
  const out = args['sealed-secret-file'];
  if (out && /\.ya?ml$/i.test(out)) return 'yaml';
  if (out && /\.json$/i.test(out)) return 'json';
  return inputFormat;
}

async function emit(args: KubesealArgs, io: CliIo, text: string): Promise<void> {
  if (args['sealed-secret-file']) await writeFileAtomic(io, args['sealed-secret-file'], text);
  else io.writeStdout(text);
}

/** Core messages name the object already; with several documents, say which one too. */
export function inDocument(e: unknown, n: number, total: number): unknown {
  return isSealedSecretsError(e) && total > 1 ? inContext(e, `document ${n + 1}`) : e;
}

/** The namespace for objects without one: -n, else the kubeconfig context's, else (in a Pod) the ServiceAccount's, else "default"; read only when needed. */
function defaultNamespaceResolver(args: KubesealArgs, io: CliIo): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => (cached ??= defaultNamespace(io, args));
}

export async function sealStream(args: KubesealArgs, io: CliIo): Promise<void> {
  // The certificate first: a wrong --cert is reported before anyone types a secret at a terminal.
  const cert = await sealingCertificate(args, io);
  const input = await readInput(args, io);
  const key = sealingKey(cert);
  const scope = args.scope ? parseScope(args.scope) : undefined;
  const defaultNamespace = defaultNamespaceResolver(args, io);
  const out: SealedSecret[] = [];
  for (const [n, obj] of input.objects.entries()) {
    const secret = obj as Secret;
    try {
      const effectiveScope = scope ?? scopeFromAnnotations(secret.metadata?.annotations);
      const needsNs = effectiveScope !== 'cluster-wide' && !secret.metadata?.namespace;
      out.push(
        sealSecret(secret, key, {
          scope,
          allowEmptyData: args['allow-empty-data'],
          name: args.name,
          namespace: args.namespace,
          defaultNamespace: needsNs ? await defaultNamespace() : undefined,
        }),
      );
    } catch (e) {
      throw inDocument(e, n, input.objects.length);
    }
  }
  await emit(args, io, await formatDocuments(out, outputFormat(args, input.format)));
}

/** The value for --raw: the named file, or stdin, byte for byte (upstream #559: nothing added or trimmed). */
async function readRawValue(args: KubesealArgs, io: CliIo): Promise<Buffer> {
  const spec = args['from-file']?.[0];
  if (spec !== undefined) {
    const eq = spec.indexOf('=');
    const path = eq > 0 && !spec.slice(0, eq).includes('/') ? spec.slice(eq + 1) : spec;
    return readInputFile(io, path, 'value file');
  }
  if (io.stdinIsTTY) io.writeStderr('(reading the value to seal from stdin; end it with Ctrl-D)\n');
  return io.readStdin();
}

export async function sealRaw(args: KubesealArgs, io: CliIo): Promise<void> {
  const scope = parseScope(args.scope ?? '');
  // As upstream: -n, else the kubeconfig context's, else (in a Pod) the ServiceAccount's, else "default".
  const namespace = scope === 'cluster-wide' ? '' : await defaultNamespace(io, args);
  if (scope === 'strict' && !args.name) throw new UsageError('must provide the --name flag with --raw and --scope strict');
  const cert = await sealingCertificate(args, io);
  const value = await readRawValue(args, io);
  const blob = hybridEncrypt(cert.publicKey, value, encryptionLabel(namespace, args.name ?? '', scope));
  if (args['sealed-secret-file']) await writeFileAtomic(io, args['sealed-secret-file'], blob.toString('base64'));
  else io.writeStdout(blob.toString('base64') + (io.stdoutIsTTY ? '\n' : ''));
}

export async function mergeInto(args: KubesealArgs, io: CliIo): Promise<void> {
  const targetPath = args['merge-into']!;
  const targetText = (await readInputFile(io, targetPath, 'SealedSecret file')).toString('utf8');
  const target = await parseDocuments(targetText, targetPath);
  if (target.objects.length !== 1 || (target.objects[0] as { kind?: string }).kind !== 'SealedSecret') {
    throw new SealedSecretsError('ERR_WRONG_KIND', `${targetPath} must hold exactly one SealedSecret to merge into`);
  }
  const existing = target.objects[0] as SealedSecret;
  if (!existing.metadata?.name || !existing.spec || typeof existing.spec !== 'object') {
    throw new SealedSecretsError('ERR_INVALID_INPUT', `${targetPath}: the SealedSecret has no metadata.name or no spec`);
  }
  if (args.scope) throw new UsageError('--scope cannot be used with --merge-into: the items are sealed with the scope of the target file');
  const cert = await sealingCertificate(args, io);
  const input = await readInput(args, io);
  if (input.objects.length !== 1) {
    throw new UsageError(`--merge-into takes exactly one Secret on input; found ${input.objects.length}`);
  }
  const scope = scopeFromAnnotations(existing.metadata.annotations);
  // The target's identity wins (upstream PR #286): seal under its name, namespace and scope. A
  // target without a namespace (not cluster-wide) takes -n, else the kubeconfig's, as sealing does.
  const secret = structuredClone(input.objects[0]) as Secret;
  secret.metadata = { ...(secret.metadata ?? {}), name: existing.metadata.name };
  if (existing.metadata.namespace) {
    if (args.namespace && args.namespace !== existing.metadata.namespace) {
      throw new UsageError(`--namespace ${args.namespace} contradicts the namespace ${existing.metadata.namespace} of ${targetPath}`);
    }
    secret.metadata.namespace = existing.metadata.namespace;
  } else if (scope !== 'cluster-wide') {
    secret.metadata.namespace = await defaultNamespaceResolver(args, io)();
  } else {
    delete secret.metadata.namespace;
  }
  let update: SealedSecret;
  try {
    update = sealSecret(secret, sealingKey(cert), { scope, allowEmptyData: args['allow-empty-data'] });
  } catch (e) {
    throw isSealedSecretsError(e) ? inContext(e, `merging into ${targetPath}`) : e;
  }
  const merged = mergeSealedSecrets(existing, update);
  let text: string;
  if (target.format === 'yaml') {
    try {
      text = await mergeYamlPreservingLayout(targetText, existing, merged);
    } catch {
      // The file's layout cannot take the edit in place (e.g. `template: null`): write it anew.
      text = await formatDocuments([merged], 'yaml');
    }
  } else {
    text = JSON.stringify(merged, null, 2) + '\n';
  }
  await writeFileAtomic(io, targetPath, text);
}

/** Applies the merge to the YAML document itself, so comments and layout of the file survive. */
async function mergeYamlPreservingLayout(text: string, before: SealedSecret, after: SealedSecret): Promise<string> {
  const { parseAllDocuments } = await import('yaml');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const doc = list.find((d) => d.contents !== null)!;
  const setMap = (path: string[], next: Record<string, string> | undefined, prev: Record<string, string> | undefined | null) => {
    for (const [k, v] of Object.entries(next ?? {})) if (prev?.[k] !== v) doc.setIn([...path, k], v);
  };
  setMap(['spec', 'encryptedData'], after.spec.encryptedData, before.spec.encryptedData);
  const at = after.spec.template;
  const bt = before.spec.template;
  setMap(['spec', 'template', 'metadata', 'annotations'], at?.metadata?.annotations, bt?.metadata?.annotations);
  setMap(['spec', 'template', 'metadata', 'labels'], at?.metadata?.labels, bt?.metadata?.labels);
  setMap(['spec', 'template', 'data'], at?.data ?? undefined, bt?.data);
  setMap(['metadata', 'annotations'], after.metadata.annotations, before.metadata.annotations);
  return list.map((d) => d.toString({ lineWidth: 0, minContentWidth: 0 })).join('');
}
