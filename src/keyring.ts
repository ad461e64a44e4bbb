/**
 * The set of sealing keys: the newest seals, every retained key decrypts.
 *
 * Upstream tries every key in random (Go map) order; with a new key every 30 or
 * 90 days that is up to N full RSA private operations per value. Here the ring
 * tries hinted keys first (the fingerprints a SealedSecret names, or the key that
 * opened it last time), then the rest newest first, and skips keys whose modulus
 * size does not match the blob without an RSA operation.
 */
import type { KeyObject } from 'node:crypto';
import { openWithKey } from './crypto/hybrid.js';
import { modulusBytes, publicKeyFingerprint } from './crypto/keys.js';
import { SealedSecretsError } from './errors.js';

export interface KeyEntry {
  readonly fingerprint: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly bits: number;
  readonly modulusBytes: number;
  /** What orders keys: the certificate's notBefore by default (upstream --key-order-priority). */
  readonly orderingTime: number;
  readonly certificatePem: string | undefined;
}

export interface AddKeyOptions {
  orderingTime?: number;
  certificatePem?: string;
}

export interface OpenResult {
  plaintext: Buffer;
  fingerprint: string;
  /** RSA private operations spent, for metrics and benchmarks. */
  rsaOperations: number;
}

export class KeyRing {
  readonly #byFingerprint = new Map<string, KeyEntry>();
  /** Newest first. */
  #ordered: KeyEntry[] = [];

  get size(): number {
    return this.#ordered.length;
  }

  /** Newest first. */
  entries(): readonly KeyEntry[] {
    return this.#ordered;
  }

  has(fingerprint: string): boolean {
    return this.#byFingerprint.has(fingerprint);
  }

  get(fingerprint: string): KeyEntry | undefined {
    return this.#byFingerprint.get(fingerprint);
  }

  /** Adds a key; a key already present (same fingerprint) is kept once. Returns its entry. */
  add(privateKey: KeyObject, publicKey: KeyObject, options: AddKeyOptions = {}): KeyEntry {
    const fingerprint = publicKeyFingerprint(publicKey);
    const existing = this.#byFingerprint.get(fingerprint);
    if (existing) return existing;
    const bytes = modulusBytes(publicKey);
    const entry: KeyEntry = Object.freeze({
      fingerprint,
      privateKey,
      publicKey,
      bits: publicKey.asymmetricKeyDetails?.modulusLength ?? bytes * 8,
      modulusBytes: bytes,
      orderingTime: options.orderingTime ?? 0,
      certificatePem: options.certificatePem,
    });
    this.#byFingerprint.set(fingerprint, entry);
    // Stable: among equal times, the key added later counts as newer.
    this.#ordered = [...this.#ordered, entry].sort((a, b) => b.orderingTime - a.orderingTime);
    if (this.#ordered[0] !== entry && entry.orderingTime === this.#ordered[0]!.orderingTime) {
      this.#ordered = [entry, ...this.#ordered.filter((e) => e !== entry)];
    }
    return entry;
  }

  /** The key that seals. */
  newest(): KeyEntry {
    const e = this.#ordered[0];
    if (!e) throw new SealedSecretsError('ERR_NO_KEYS', 'the key ring holds no key', { hint: 'add or generate a sealing key' });
    return e;
  }

  /**
   * Opens a blob with the first key that works: hinted fingerprints first, in the
   * order given, then every other key newest first. `undefined` when none opens it.
   */
  open(blob: Uint8Array, label: Uint8Array, hints: readonly string[] = []): OpenResult | undefined {
    const r = this.openCounted(blob, label, hints);
    return r.plaintext ? (r as OpenResult) : undefined;
  }

  /** Like `open`, and says how many RSA operations were spent, also when no key opened the blob. */
  openCounted(blob: Uint8Array, label: Uint8Array, hints: readonly string[] = []): OpenResult | { plaintext: undefined; rsaOperations: number } {
    let rsaOperations = 0;
    const tried = new Set<KeyEntry>();
    const attempt = (e: KeyEntry): OpenResult | undefined => {
      tried.add(e);
      // openWithKey runs the RSA step only for a blob framed for this key's size.
      if (blob.length >= 2 + e.modulusBytes + 16 && ((blob[0]! << 8) | blob[1]!) === e.modulusBytes) rsaOperations++;
      const plaintext = openWithKey(e.privateKey, e.modulusBytes, blob, label);
      return plaintext ? { plaintext, fingerprint: e.fingerprint, rsaOperations } : undefined;
    };
    for (const fp of hints) {
      const e = this.#byFingerprint.get(fp);
      if (!e || tried.has(e)) continue;
      const r = attempt(e);
      if (r) return r;
    }
    for (const e of this.#ordered) {
      if (tried.has(e)) continue;
      const r = attempt(e);
      if (r) return r;
    }
    return { plaintext: undefined, rsaOperations };
  }
}
