/**
 * Sealing keys as upstream stores them: `kubernetes.io/tls` Secrets in the
 * controller namespace, `tls.key` = PKCS#1 PEM, `tls.crt` = the certificate,
 * label sealedsecrets.bitnami.com/sealed-secrets-key=active, generateName
 * <key-prefix> (upstream pkg/controller/keys.go writeKey/readKey).
 * Used by backups, --recovery-private-key and the Kubernetes key store.
 */
import type { KeyObject } from 'node:crypto';
import { LABEL_SEALING_KEY, objectRef, type Secret } from './api/types.js';
import { parseCertificatePem, parsePrivateKeyPem, privateKeyToPem } from './crypto/keys.js';
import { SealedSecretsError } from './errors.js';

export const DEFAULT_KEY_PREFIX = 'sealed-secrets-key';

export interface LoadedKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem?: string;
  /** The certificate's notBefore (ms), upstream's default ordering; undefined without a certificate. */
  notBefore?: number;
  /** Where it came from, for messages: a file, or ns/name of a Secret. */
  source: string;
}

/** Reads the private key (and certificate, when present) out of a key Secret object. */
export function keyFromSecret(secret: Secret, source: string): LoadedKey {
  const where = `${source}: Secret ${objectRef(secret.metadata)}`;
  const field = (name: string): string | undefined => {
    const b64 = secret.data?.[name];
    if (b64 !== undefined && typeof b64 !== 'string') throw new SealedSecretsError('ERR_KEY_INVALID', `${where}: data["${name}"] is not a string`);
    if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
    const plain = secret.stringData?.[name];
    if (plain !== undefined && typeof plain !== 'string') throw new SealedSecretsError('ERR_KEY_INVALID', `${where}: stringData["${name}"] is not a string`);
    return plain;
  };
  if (!secret.metadata || typeof secret.metadata !== 'object') throw new SealedSecretsError('ERR_KEY_INVALID', `${source}: a key Secret without metadata`);
  const keyText = field('tls.key');
  if (!keyText) {
    throw new SealedSecretsError('ERR_KEY_INVALID', `${where} has no tls.key`, {
      hint: 'key Secrets hold the private key under data["tls.key"]',
    });
  }
  const { privateKey, publicKey } = parsePrivateKeyPem(keyText, where);
  const crtText = field('tls.crt');
  if (!crtText) return { privateKey, publicKey, source: where };
  // The private key is what decrypts: a damaged certificate must not make a key unusable (upstream
  // --recovery-unseal reads tls.key only). Callers that need the certificate check for it.
  let cert;
  try {
    cert = parseCertificatePem(crtText, where);
  } catch {
    return { privateKey, publicKey, source: where };
  }
  return { privateKey, publicKey, certificatePem: cert.pem, notBefore: Date.parse(cert.certificate.validFrom), source: where };
}

/** The keys in a decoded key file: Secrets, or Lists of Secrets (a `kubectl get secret -o yaml` backup). */
export function keysFromObjects(objects: readonly unknown[], source: string): LoadedKey[] {
  const out: LoadedKey[] = [];
  const visit = (o: unknown): void => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      throw new SealedSecretsError('ERR_KEY_INVALID', `${source} holds something that is not a Secret or a List of Secrets`);
    }
    const obj = o as { kind?: string; items?: unknown[] };
    if (obj.kind === 'List' || obj.kind === 'SecretList' || Array.isArray(obj.items)) {
      for (const item of obj.items ?? []) visit(item);
      return;
    }
    if (obj.kind !== 'Secret') {
      throw new SealedSecretsError('ERR_KEY_INVALID', `${source} holds a ${obj.kind ?? 'kind-less object'}, not a key Secret`);
    }
    out.push(keyFromSecret(o as Secret, source));
  };
  objects.forEach(visit);
  if (out.length === 0) throw new SealedSecretsError('ERR_KEY_INVALID', `${source} holds no key Secret`);
  return out;
}

/** All PEM private keys in a text (a file may hold several). */
export function keysFromPem(text: string, source: string): LoadedKey[] {
  const blocks = text.match(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g) ?? [];
  if (blocks.length === 0) return [{ ...parsePrivateKeyPem(text, source), source }];
  return blocks.map((b) => ({ ...parsePrivateKeyPem(b, source), source }));
}

export interface KeySecretOptions {
  namespace: string;
  keyPrefix?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A key Secret in upstream's exact format. */
export function keyToSecret(privateKey: KeyObject, certificatePem: string, options: KeySecretOptions): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      generateName: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
      namespace: options.namespace,
      labels: { ...(options.labels ?? {}), [LABEL_SEALING_KEY]: 'active' },
      ...(options.annotations && Object.keys(options.annotations).length ? { annotations: { ...options.annotations } } : {}),
    },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(certificatePem).toString('base64'),
      'tls.key': Buffer.from(privateKeyToPem(privateKey)).toString('base64'),
    },
  };
}
