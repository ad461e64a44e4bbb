/**
 * --recovery-unseal: the disaster-recovery path. Opens SealedSecrets offline with
 * backed-up private keys and prints each Secret exactly as the controller builds it.
 */
import {
  KeyRing,
  SealedSecretsError,
  inContext,
  isSealedSecretsError,
  keysFromObjects,
  keysFromPem,
  objectRef,
  unsealSealedSecret,
  type LoadedKey,
  type SealedSecret,
  type Secret,
} from '../src/index.js';
import { formatDocuments, parseDocuments } from './documents.js';
import { readInputFile, writePrivateFileAtomic, type CliIo } from './io.js';
import type { KubesealArgs } from './parser.js';
import { inDocument, outputFormat, readInput } from './seal.js';

async function loadKeyFile(io: CliIo, path: string): Promise<LoadedKey[]> {
  const text = (await readInputFile(io, path, 'private key file')).toString('utf8');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return keysFromPem(text, path);
  const docs = await parseDocuments(text, path);
  return keysFromObjects(docs.objects, path);
}

export async function recoveryUnseal(args: KubesealArgs, io: CliIo, keyFiles: string[]): Promise<void> {
  const ring = new KeyRing();
  for (const f of keyFiles) {
    for (const k of await loadKeyFile(io, f)) {
      ring.add(k.privateKey, k.publicKey, { orderingTime: k.notBefore ?? 0, certificatePem: k.certificatePem });
    }
  }
  const input = await readInput(args, io);
  const out: Secret[] = [];
  for (const [n, obj] of input.objects.entries()) {
    const ss = obj as SealedSecret;
    try {
      if (ss.kind !== 'SealedSecret') {
        throw new SealedSecretsError('ERR_WRONG_KIND', `${ss.kind ?? 'a kind-less object'} ${objectRef(ss.metadata)} is not a SealedSecret`);
      }
      try {
        // The one holding the private key may read the values, so a value error is shown here.
        const r = unsealSealedSecret(ss, ring);
        if (r.valueError) throw r.valueError;
        out.push(r.secret);
      } catch (e) {
        throw isSealedSecretsError(e) ? inContext(e, `SealedSecret ${objectRef(ss.metadata)}`) : e;
      }
    } catch (e) {
      throw inDocument(e, n, input.objects.length);
    }
  }
  const text = await formatDocuments(out, outputFormat(args, input.format));
  // Plaintext: a new 0600 file renamed into place, never an existing file or a link reused.
  if (args['sealed-secret-file']) await writePrivateFileAtomic(io, args['sealed-secret-file'], text, 'plaintext Secrets');
  else io.writeStdout(text);
}
