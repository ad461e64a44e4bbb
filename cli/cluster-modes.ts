/** The kubeseal modes that need the controller: --fetch-cert, --validate, --re-encrypt. */
import { SealedSecretsError, parseCertificatePem, type SealedSecret } from '../src/index.js';
import { EXIT_FAILURE, EXIT_OK } from './app.js';
import { readCertificateText } from './certificate-source.js';
import { fetchCertificateFromCluster, reencryptOnCluster, validateOnCluster } from './cluster.js';
import { formatDocuments } from './documents.js';
import { writeFileAtomic, type CliIo } from './io.js';
import type { KubesealArgs } from './parser.js';
import { outputFormat, readInput } from './seal.js';

/** Prints the certificate as it is, expired or not (upstream prints it too): it is not used to seal here. */
export async function printCertificate(args: KubesealArgs, io: CliIo): Promise<void> {
  if (!args.cert) return io.writeStdout(await fetchCertificateFromCluster(args));
  io.writeStdout(parseCertificatePem(await readCertificateText(io, args.cert), args.cert).pem);
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
  const bad = await validateOnCluster(args, sealedSecrets(input.objects, input.source));
  if (bad.length) {
    io.writeStderr(`error: unable to decrypt sealed secret${bad.length > 1 ? 's' : ''}: ${bad.join(', ')}; they were sealed for another controller key, or for another namespace, name or scope\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

export async function reencrypt(args: KubesealArgs, io: CliIo): Promise<void> {
  const input = await readInput(args, io);
  const out = await reencryptOnCluster(args, sealedSecrets(input.objects, input.source));
  const text = await formatDocuments(out, outputFormat(args, input.format));
  const target = args['sealed-secret-file'] ?? args['secret-file'];
  if (target) await writeFileAtomic(io, target, text);
  else io.writeStdout(text);
}
