/**
 * Where the sealing keys live. The controller depends only on this interface;
 * the Kubernetes-Secret store is the default (upstream's exact format), Vault
 * comes with the key-custody issue.
 */
import type { KeyObject } from 'node:crypto';

export interface StoredKey {
  /** Where it is stored: a Secret ns/name, a Vault path. */
  id: string;
  fingerprint: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
  /** The certificate's notBefore (ms). */
  notBefore: number;
  /** When the store says the key was created (ms); the Secret's creationTimestamp. */
  createdAt: number;
}

export interface KeyStore {
  readonly kind: string;
  /** Every active key; malformed entries are reported through `onInvalid` and skipped, never fatal. */
  load(onInvalid?: (id: string, reason: string) => void): Promise<StoredKey[]>;
  /** Persists a new key and returns it as stored. */
  create(privateKey: KeyObject, publicKey: KeyObject, certificatePem: string): Promise<StoredKey>;
}
