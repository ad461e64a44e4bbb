/**
 * Where the sealing keys live. The controller depends only on this interface:
 * the Kubernetes-Secret store is the default (upstream's exact format), the Vault
 * KV v2 store keeps keys outside the cluster.
 */
import type { KeyObject } from 'node:crypto';
import { SealedSecretsError, parseCertificatePem, publicKeyFingerprint } from '../../src/index.js';

export interface StoredKey {
  /** Where it is stored: a Secret ns/name, a Vault path. */
  id: string;
  fingerprint: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
  /** The certificate's notBefore (ms). */
  notBefore: number;
  /** When the store says the key was created (ms). */
  createdAt: number;
  /**
   * When the key may start sealing (ms). A new key decrypts at once but seals only after
   * this, so every replica has loaded it before anything is sealed for it. Undefined: now.
   */
  activateAt?: number;
}

export interface NewKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
  activateAt?: number;
}

export interface KeyStore {
  readonly kind: string;
  /**
   * Every active key; malformed entries are reported through `onInvalid` and skipped, never fatal.
   * Keys marked retired are reported through `onRetired` (by fingerprint), distinct from keys merely
   * absent from the answer: a holder drops a retired key, and keeps a key it cannot see.
   */
  load(onInvalid?: (id: string, reason: string) => void, onRetired?: (fingerprint: string, id: string) => void): Promise<StoredKey[]>;
  /**
   * Persists a new key only if the store holds no active key outside `known` (the fingerprints the
   * caller decided from); returns undefined when a key landed meanwhile (another rotator, an import
   * or a restore), so two racing rotators never both add a key. No idea of "newest" is involved:
   * the store and the caller cannot disagree about one and stall rotation.
   */
  createIfNoNewKey(known: Iterable<string>, key: NewKey): Promise<StoredKey | undefined>;
  /** Imports a key as it is (backups, upstream key Secrets); a key already stored is not duplicated. */
  importKey(key: NewKey): Promise<StoredKey | 'exists'>;
  /**
   * Marks a key retired (every entry holding it): it is no longer loaded, and running controllers
   * drop it at their next reload. Kept in the store (Vault: state "retired"; Kubernetes: label
   * value "retired", which upstream also ignores), so it can be restored.
   */
  retire(fingerprint: string): Promise<void>;
}

export type KeyOrder = 'CertNotBefore' | 'SecretCreationTimestamp';

/** The one ordering of keys (oldest first), for the key manager and the CLI alike. */
export function orderingTime(k: StoredKey, order: KeyOrder): number {
  return order === 'SecretCreationTimestamp' ? k.createdAt : k.notBefore;
}

/**
 * Oldest first. Ties (certificate times have a one-second resolution) are broken by the other time,
 * then the activation time, then the fingerprint, so that every replica sees the same order, hence
 * the same sealing key and the same content-MAC key.
 */
export function sortKeys<K extends StoredKey>(keys: readonly K[], order: KeyOrder): K[] {
  const other: KeyOrder = order === 'CertNotBefore' ? 'SecretCreationTimestamp' : 'CertNotBefore';
  return [...keys].sort(
    (a, b) =>
      orderingTime(a, order) - orderingTime(b, order) ||
      orderingTime(a, other) - orderingTime(b, other) ||
      (a.activateAt ?? 0) - (b.activateAt ?? 0) ||
      (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0),
  );
}

/**
 * Refuses a certificate that is not the private key's: /v1/cert.pem would serve it, and
 * everything sealed to it would be sealed for someone else's key.
 */
export function checkCertificateBelongs(publicKey: KeyObject, certificatePem: string, where: string): void {
  const cert = parseCertificatePem(certificatePem, where);
  if (publicKeyFingerprint(cert.publicKey) !== publicKeyFingerprint(publicKey)) {
    throw new SealedSecretsError('ERR_KEY_INVALID', `${where}: tls.crt does not belong to tls.key`, { hint: 'the certificate must be the one made for this private key' });
  }
}
