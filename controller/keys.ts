/**
 * The controller's keys: loaded from the key store into a key ring (public side
 * on the main thread) and into the unseal pool's workers (private side), the
 * newest one serving /v1/cert.pem. The leader generates the first key and
 * renews keys on schedule; a key is never removed.
 */
import { X509Certificate, createHmac } from 'node:crypto';
import {
  buildSelfSignedCertificate,
  generateRsaKeyPair,
  type KeySize,
} from '../src/index.js';
import type { KeyStore, StoredKey } from './keystore/key-store.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { UnsealPool } from './unseal-pool.js';

export interface KeyManagerOptions {
  /** A new key decrypts at once but seals only this long after it was made (every replica loads it first). */
  activationDelayMs?: number;
  keySize: KeySize;
  keyTtlMs: number;
  myCn: string;
  /** 0 disables periodic renewal. */
  renewPeriodMs: number;
  /** Keys older than this (ms since epoch) are replaced at start-up; undefined for none. */
  cutoffTime: number | undefined;
  orderBy: 'CertNotBefore' | 'SecretCreationTimestamp';
  now?: () => number;
}

export class KeyManager {
  #keys: StoredKey[] = [];
  #macKey: Buffer = Buffer.alloc(0);
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #onChange: (() => void)[] = [];

  constructor(
    private readonly store: KeyStore,
    private readonly pool: UnsealPool,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly o: KeyManagerOptions,
  ) {}

  #now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  get size(): number {
    return this.#keys.length;
  }

  get keys(): readonly StoredKey[] {
    return this.#keys;
  }

  onChange(f: () => void): void {
    this.#onChange.push(f);
  }

  #orderingTime(k: StoredKey): number {
    return this.o.orderBy === 'SecretCreationTimestamp' ? k.createdAt : k.notBefore;
  }

  /** The certificate that seals: the newest active key's. */
  certificatePem(): string | undefined {
    return this.sealingKey()?.certificatePem;
  }

  /** The newest key whose activation time has come: the one that seals. */
  sealingKey(): StoredKey | undefined {
    const now = this.#now();
    const active = this.#keys.filter((k) => (k.activateAt ?? 0) <= now);
    return active[active.length - 1] ?? this.#keys[0];
  }

  /** The newest key, active or not yet: what renewal is measured from. */
  newest(): StoredKey | undefined {
    return this.#keys[this.#keys.length - 1];
  }

  /** Refreshes the key gauges (by state, age, next renewal). */
  updateMetrics(): void {
    const now = this.#now();
    const pending = this.#keys.filter((k) => (k.activateAt ?? 0) > now).length;
    this.metrics.keysByState.set({ state: 'active' }, this.#keys.length - pending);
    this.metrics.keysByState.set({ state: 'pending' }, pending);
    this.metrics.keyAge.reset();
    for (const k of this.#keys) this.metrics.keyAge.set({ fingerprint: k.fingerprint }, Math.round((now - k.createdAt) / 1000));
    const next = this.nextRenewalInMs();
    if (next !== undefined) this.metrics.nextRotation.set(Math.round(next / 1000));
    this.metrics.keyStoreErrors.inc({ store: this.store.kind }, 0);
    for (const [key, k] of [['sealing', this.sealingKey()], ['newest', this.newest()]] as const) {
      if (k) this.metrics.certificateExpiry.set({ key }, Math.round(Date.parse(new X509Certificate(k.certificatePem).validTo) / 1000));
    }
  }

  /** When the last successful reload happened, and the error since, for readiness and metrics. */
  lastReload: { at: number; error?: string } = { at: 0 };

  /** The content-MAC key, derived from the oldest key: keys are never removed, so it is stable. */
  macKey(): Buffer {
    return this.#macKey;
  }

  /** Reloads the keys from the store; the pool is replaced only when the set changed. */
  async reload(): Promise<boolean> {
    let loaded: StoredKey[];
    try {
      loaded = await this.store.load((id, reason) => this.log.error('skipping an invalid key', { key: id, reason }));
    } catch (e) {
      // Keep serving from the keys held: a store outage never removes a key from memory.
      this.lastReload = { ...this.lastReload, error: (e as Error).message };
      this.metrics.keyStoreErrors.inc({ store: this.store.kind });
      throw e;
    }
    this.lastReload = { at: this.#now() };
    this.updateMetrics();
    // Never drop a key: a key missing from the store (deleted, or a partial answer) stays in memory.
    const held = new Map(this.#keys.map((k) => [k.fingerprint, k]));
    for (const k of loaded) held.set(k.fingerprint, k);
    loaded = [...held.values()];
    const before = new Set(this.#keys.map((k) => k.fingerprint));
    const byFp = new Map(loaded.map((k) => [k.fingerprint, k]));
    const changed = byFp.size !== before.size || [...byFp.keys()].some((f) => !before.has(f));
    if (!changed) return false;
    const keys = [...byFp.values()].sort((a, b) => this.#orderingTime(a) - this.#orderingTime(b));
    await this.pool.setKeys(keys.map((k) => ({ privateKey: k.privateKey, publicKey: k.publicKey, orderingTime: this.#orderingTime(k) })));
    this.#keys = keys;
    if (keys[0]) {
      const der = keys[0].privateKey.export({ type: 'pkcs1', format: 'der' });
      this.#macKey = createHmac('sha256', der).update('sealed-secrets-ts content-mac v1').digest();
      der.fill(0);
    }
    this.metrics.keys.set(keys.length);
    this.log.info('sealing keys loaded', { keys: keys.length, sealing: this.sealingKey()?.fingerprint, store: this.store.kind });
    for (const f of this.#onChange) f();
    return true;
  }

  /**
   * Generates and stores a new key, unless another rotator added one first (then its key is
   * loaded instead). The key decrypts at once and seals after the activation delay. Leader only.
   */
  async rotate(reason: string, activationDelayMs = this.o.activationDelayMs ?? 0): Promise<StoredKey | undefined> {
    // Decided against the newest key seen now: if any rotation lands meanwhile, this one yields.
    const expected = this.newest()?.fingerprint;
    const { privateKey, publicKey } = await generateRsaKeyPair(this.o.keySize);
    const now = this.#now();
    const cert = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(now), ttlMs: this.o.keyTtlMs, commonName: this.o.myCn });
    const stored = await this.store.createIfNewest(expected, { privateKey, publicKey, certificatePem: cert, activateAt: activationDelayMs > 0 ? now + activationDelayMs : undefined });
    if (!stored) {
      this.log.info('another replica added a key first; loading it', { reason });
      await this.reload();
      return undefined;
    }
    this.log.info('new sealing key generated', { fingerprint: stored.fingerprint, key: stored.id, bits: this.o.keySize, reason, activateAt: new Date(stored.activateAt ?? now).toISOString() });
    await this.reload();
    return stored;
  }

  /** Renews when the period has passed since the newest key; returns whether it rotated. */
  async renewIfDue(): Promise<boolean> {
    if (this.o.renewPeriodMs <= 0) return false;
    const n = this.newest();
    if (n && this.#now() < this.#orderingTime(n) + this.o.renewPeriodMs) return false;
    return (await this.rotate('key renewal period elapsed')) !== undefined;
  }

  /** Time until the next renewal (ms), for the metric; undefined when renewal is off. */
  nextRenewalInMs(): number | undefined {
    if (this.o.renewPeriodMs <= 0) return undefined;
    const n = this.newest();
    return n ? this.#orderingTime(n) + this.o.renewPeriodMs - this.#now() : 0;
  }

  /** At start-up as leader: a key when there is none (usable at once), or when the newest predates the cutoff. */
  async ensureKeys(): Promise<void> {
    await this.reload();
    const newest = this.newest();
    if (!newest) await this.rotate('no sealing key exists', 0);
    else if (this.o.cutoffTime !== undefined && this.#orderingTime(newest) < this.o.cutoffTime) await this.rotate('the newest key is older than --key-cutoff-time');
  }

  /** Checks for renewal now and then (at least daily, and when due); failures retry after a minute. */
  startRenewal(): void {
    if (this.o.renewPeriodMs <= 0) return;
    const schedule = (delay: number) => {
      this.#renewTimer = setTimeout(() => {
        this.renewIfDue().then(
          () => schedule(Math.max(1000, Math.min(this.nextRenewalInMs() ?? 0, 24 * 3600 * 1000))),
          (e: unknown) => {
            this.log.error('key renewal failed; retrying in a minute', { error: (e as Error).message });
            schedule(60_000);
          },
        );
      }, delay);
      this.#renewTimer.unref?.();
    };
    schedule(Math.max(1000, Math.min(this.nextRenewalInMs() ?? 0, 24 * 3600 * 1000)));
  }

  stopRenewal(): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
  }
}
