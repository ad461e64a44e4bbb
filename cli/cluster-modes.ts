/** The kubeseal modes that need the controller: --fetch-cert, --validate, --re-encrypt. */
import { SealedSecretsError, parseCertificatePem, type SealedSecret } from '../src/index.js';
import { EXIT_FAILURE, EXIT_OK } from './app.js';
import { readCertificateText } from './certificate-source.js';
import { fetchCertificateFromCluster, reencryptOnCluster, validateOnCluster } from './cluster.js';
import { formatDocuments } from './documents.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic, type CliIo } from './io.js';
import type { KubesealArgs } from './parser.js';
import { outputFormat, readInput } from './seal.js';

/**
 * Prints the certificate as it is, expired or not (upstream prints it too): it is not used to seal here.
 * With -w, writes it to that file instead, atomically, only on success (upstream: renameio).
 */
export async function printCertificate(args: KubesealArgs, io: CliIo): Promise<void> {
  const pem = args.cert ? parseCertificatePem(await readCertificateText(io, args.cert), args.cert).pem : await fetchCertificateFromCluster(args, io);
  if (args['sealed-secret-file']) await writeFileAtomic(io, args['sealed-secret-file'], pem);
  else io.writeStdout(pem);
}

function sealedSecrets(objects: unknown[], source: string): SealedSecret[] {
  return objects.map((o, n) => {
    const kind = (o as { kind?: string }).kind;
    if (kind !== 'SealedSecret') throw new SealedSecretsError('ERR_WRONG_KIND', `${source}: document ${n + 1} is a ${kind ?? 'kind-less object'}, not a SealedSecret`);
    return o as SealedSecret;
  });
}

export async function validate(args: KubesealArgs, io: CliIo): Promise<number> {
  const input = await readInput(args, io);
  const bad = await validateOnCluster(args, io, sealedSecrets(input.objects, input.source));
  if (bad.length) {
    io.writeStderr(`error: unable to decrypt sealed secret${bad.length > 1 ? 's' : ''}: ${bad.join(', ')}; they were sealed for another controller key, or for another namespace, name or scope\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

export async function reencrypt(args: KubesealArgs, io: CliIo): Promise<number> {
  if (args['secret-file'] && (await isDirectory(io, args['secret-file']))) {
    // With a .sealed-secrets.yaml, each file goes to the controller of its own cluster (cli/routing.ts).
    const { reencryptRouter } = await import('./routing.js');
    return reencryptTree(args, io, args['secret-file'], await reencryptRouter(args, io));
  }
  const input = await readInput(args, io);
  const out = await reencryptOnCluster(args, io, sealedSecrets(input.objects, input.source));
  const text = await formatDocuments(out, outputFormat(args, input.format));
  const target = args['sealed-secret-file'] ?? args['secret-file'];
  if (target) await writeFileAtomic(io, target, text);
  else io.writeStdout(text);
  return EXIT_OK;
}

async function isDirectory(io: CliIo, path: string): Promise<boolean> {
  try {
    return (await stat(resolve(io.cwd, path))).isDirectory();
  } catch {
    return false;
  }
}

/** Per file: the arguments that reach its cluster's controller, or why there are none (cli/routing.ts). */
export type ReencryptRouter = { argsFor(file: string): KubesealArgs | SealedSecretsError; clusterOf(file: string): string; summary(): string[] };

const SKIP_DIRS = new Set(['.git', 'node_modules', '.terraform', 'vendor']);

async function* walk(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) yield* walk(p);
    } else if (e.isFile() && /\.(ya?ml|json)$/i.test(e.name)) {
      yield p;
    }
  }
}

/**
 * Re-encrypts every SealedSecret in every YAML/JSON file under a directory (a Git checkout)
 * to the newest key through the controller. Only the ciphertexts and the key hint change:
 * YAML files are edited in place (comments, order and layout kept); other files and other
 * documents are not touched. Failures are reported per file; the others still go through.
 */
async function reencryptTree(args: KubesealArgs, io: CliIo, root: string, router?: ReencryptRouter): Promise<number> {
  const { parseAllDocuments } = await import('yaml');
  let files = 0;
  let objects = 0;
  const failed: string[] = [];
  for await (const file of walk(resolve(io.cwd, root))) {
    const rel = relative(io.cwd, file) || file;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      failed.push(`${rel}: cannot be read`);
      continue;
    }
    if (!text.includes('SealedSecret')) continue;
    const routed = router?.argsFor(file);
    if (routed instanceof SealedSecretsError) {
      failed.push(`${rel}: ${routed.message}`);
      continue;
    }
    const target = routed ?? args;
    try {
      if (/^\s*[{[]/.test(text)) {
        const obj = JSON.parse(text) as SealedSecret;
        if (obj?.kind !== 'SealedSecret') continue;
        const [next] = await reencryptOnCluster(target, io, [obj]);
        const indent = /\n( +)"/.exec(text)?.[1]?.length ?? 2;
        await writeFileAtomic(io, file, JSON.stringify({ ...obj, metadata: { ...obj.metadata, annotations: next!.metadata.annotations }, spec: { ...obj.spec, encryptedData: next!.spec.encryptedData } }, null, indent) + (text.endsWith('\n') ? '\n' : ''));
        files++;
        objects++;
        continue;
      }
      const docs = parseAllDocuments(text);
      const list = Array.isArray(docs) ? docs : [docs];
      let changed = 0;
      if (list.some((d) => d.errors.length)) throw new Error('invalid YAML');
      for (const doc of list) {
        const obj = doc.toJS() as SealedSecret | null;
        if (!obj || obj.kind !== 'SealedSecret') continue;
        const [next] = await reencryptOnCluster(target, io, [obj]);
        for (const [k, v] of Object.entries(next!.spec.encryptedData)) doc.setIn(['spec', 'encryptedData', k], v);
        for (const [k, v] of Object.entries(next!.metadata.annotations ?? {})) {
          if (obj.metadata.annotations?.[k] !== v) doc.setIn(['metadata', 'annotations', k], v);
        }
        changed++;
      }
      if (changed) {
        await writeFileAtomic(io, file, list.map((d) => d.toString({ lineWidth: 0, minContentWidth: 0 })).join(''));
        files++;
        objects += changed;
      }
    } catch (e) {
      failed.push(`${rel}: ${routed ? `${router!.clusterOf(file)}: ` : ''}${e instanceof SealedSecretsError ? e.message : 'cannot be parsed'}`);
    }
  }
  io.writeStderr(`re-encrypted ${objects} SealedSecret(s) in ${files} file(s) under ${root}${failed.length ? `; ${failed.length} failed` : ''}\n`);
  for (const f of failed) io.writeStderr(`error: ${f}\n`);
  for (const line of router?.summary() ?? []) io.writeStderr(`${line}\n`);
  return failed.length ? EXIT_FAILURE : EXIT_OK;
}
