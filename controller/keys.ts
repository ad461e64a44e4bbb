/**
 * The controller's keys: loaded from the key store into a key ring (public side
 * on the main thread) and into the unseal pool's workers (private side), the
 * newest one serving /v1/cert.pem. The leader generates the first key and
 * renews keys on schedule. A key is removed only when the store reports it
 * retired (sealed-secrets-keys retire); rotation and store outages never remove one.
 */
import { X509Certificate, createHmac } from 'node:crypto';
import {
  buildSelfSignedCertificate,
  generateRsaKeyPair,
  type KeySize,
} from '../src/index.js';
import { orderingTime, sortKeys, type KeyOrder, type KeyStore, type StoredKey } from './keystore/key-store.js';
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
  orderBy: KeyOrder;
  now?: () => number;
}

/** Back-off of renewal after a lost or failed rotation: doubling from a minute to an hour. */
const RENEWAL_BACKOFF_MS = 60_000;
const RENEWAL_BACKOFF_MAX_MS = 3600_000;

export class KeyManager {
  #keys: StoredKey[] = [];
  #failures = 0;
  #retryAt = 0;
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
    return orderingTime(k, this.o.orderBy);
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
    if (next !== undefined) this.metrics.keyRenewalOverdue.set(Math.round(this.renewalOverdueMs() / 1000));
    this.metrics.keyStoreErrors.inc({ store: this.store.kind }, 0);
    for (const [key, k] of [['sealing', this.sealingKey()], ['newest', this.newest()]] as const) {
      if (k) this.metrics.certificateExpiry.set({ key }, Math.round(Date.parse(new X509Certificate(k.certificatePem).validTo) / 1000));
    }
  }

  /** When the last successful reload happened, and the error since, for readiness and metrics. */
  lastReload: { at: number; error?: string } = { at: 0 };

  /**
   * The content-MAC key, derived from the oldest key held. Rotation never changes it (keys are only
   * added, and a new key is never the oldest); retiring a key other than the oldest does not either.
   * Retiring the oldest key changes it, deliberately: a retired key may be retired because it leaked,
   * and a MAC key derivable from a leaked key would let its holder test guesses of Secret values
   * against the annotations. The cost is one re-unseal of every SealedSecret, at resync priority.
   */
  macKey(): Buffer {
    return this.#macKey;
  }

  /** Reloads the keys from the store; the pool is replaced only when the set changed. */
  async reload(): Promise<boolean> {
    let loaded: StoredKey[];
    const retired = new Map<string, string>();
    try {
      loaded = await this.store.load(
        (id, reason) => this.log.error('skipping an invalid key', { key: id, reason }),
        (fingerprint, id) => retired.set(fingerprint, id),
      );
    } catch (e) {
      // Keep serving from the keys held: a store outage never removes a key from memory.
      this.lastReload = { ...this.lastReload, error: (e as Error).message };
      this.metrics.keyStoreErrors.inc({ store: this.store.kind });
      throw e;
    }
    this.lastReload = { at: this.#now() };
    // A key is dropped only when the store says it is retired (an explicit `retire`, refused while
    // any SealedSecret needs it); a key merely missing from the answer (deleted, or a partial answer)
    // stays in memory. A key both retired and active (restored after a retire) is active.
    for (const k of loaded) retired.delete(k.fingerprint);
    const held = new Map(this.#keys.filter((k) => !retired.has(k.fingerprint)).map((k) => [k.fingerprint, k]));
    for (const k of this.#keys) if (retired.has(k.fingerprint)) this.log.info('key retired in the store; no longer loaded', { fingerprint: k.fingerprint, key: retired.get(k.fingerprint) });
    for (const k of loaded) held.set(k.fingerprint, k);
    loaded = [...held.values()];
    const before = new Set(this.#keys.map((k) => k.fingerprint));
    const byFp = new Map(loaded.map((k) => [k.fingerprint, k]));
    const changed = byFp.size !== before.size || [...byFp.keys()].some((f) => !before.has(f));
    if (!changed) {
      this.updateMetrics();
      return false;
    }
    const keys = sortKeys([...byFp.values()], this.o.orderBy);
    await this.pool.setKeys(keys.map((k) => ({ privateKey: k.privateKey, publicKey: k.publicKey, orderingTime: this.#orderingTime(k) })));
    this.#keys = keys;
    if (keys[0]) {
      const der = keys[0].privateKey.export({ type: 'pkcs1', format: 'der' });
      this.#macKey = createHmac('sha256', der).update('sealed-secrets-ts content-mac v1').digest();
      der.fill(0);
    }
    this.metrics.keys.set(keys.length);
    this.updateMetrics();
    this.log.info('sealing keys loaded', { keys: keys.length, sealing: this.sealingKey()?.fingerprint, store: this.store.kind });
    for (const f of this.#onChange) f();
    return true;
  }

  /**
   * Generates and stores a new key, unless a key landed in the store since the keys held were
   * loaded (another rotator, an import or a restore: then it is loaded instead, and renewal backs
   * off). The key decrypts at once and seals after the activation delay. Leader only.
   */
  async rotate(reason: string, activationDelayMs = this.o.activationDelayMs ?? 0): Promise<StoredKey | undefined> {
    // Decided against the keys held now: if any key lands in the store meanwhile, this one yields.
    const known = this.#keys.map((k) => k.fingerprint);
    const { privateKey, publicKey } = await generateRsaKeyPair(this.o.keySize);
    const now = this.#now();
    const cert = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(now), ttlMs: this.o.keyTtlMs, commonName: this.o.myCn });
    let stored: StoredKey | undefined;
    try {
      stored = await this.store.createIfNoNewKey(known, { privateKey, publicKey, certificatePem: cert, activateAt: activationDelayMs > 0 ? now + activationDelayMs : undefined });
    } catch (e) {
      this.#backOff();
      throw e;
    }
    if (!stored) {
      const retryInMs = this.#backOff();
      this.log.info('a key landed in the store first; loading it', { reason, retryInSeconds: Math.round(retryInMs / 1000) });
      await this.reload();
      return undefined;
    }
    this.#failures = 0;
    this.#retryAt = 0;
    this.log.info('new sealing key generated', { fingerprint: stored.fingerprint, key: stored.id, bits: this.o.keySize, reason, activateAt: new Date(stored.activateAt ?? now).toISOString() });
    await this.reload();
    return stored;
  }

  /** After a lost or failed rotation: 1 minute, doubling to an hour, never a key pair a second. */
  #backOff(): number {
    this.#failures++;
    const ms = Math.min(RENEWAL_BACKOFF_MAX_MS, RENEWAL_BACKOFF_MS * 2 ** Math.min(this.#failures - 1, 10));
    this.#retryAt = this.#now() + ms;
    return ms;
  }

  #renewalDue(): boolean {
    const next = this.nextRenewalInMs();
    return next !== undefined && next <= 0;
  }

  /** Renews when the period has passed since the newest key; returns whether it rotated. */
  async renewIfDue(): Promise<boolean> {
    if (!this.#renewalDue() || this.#now() < this.#retryAt) return false;
    // Decided on the store's keys as they are now (a reload is far cheaper than an RSA key pair).
    await this.reload();
    if (!this.#renewalDue()) return false;
    if ((await this.rotate('key renewal period elapsed')) !== undefined) return true;
    if (this.#renewalDue()) {
      this.log.error('key renewal is overdue: no new key could be stored', {
        overdueSeconds: Math.round(this.renewalOverdueMs() / 1000),
        newest: this.newest()?.fingerprint,
        retryInSeconds: Math.round((this.#retryAt - this.#now()) / 1000),
      });
    }
    return false;
  }

  /** How long renewal has been due without a new key (ms); 0 on schedule or with renewal off. */
  renewalOverdueMs(): number {
    return Math.max(0, -(this.nextRenewalInMs() ?? 0));
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
    // Next check: when due, or when the back-off after a lost or failed rotation ends; at least daily.
    const next = () => Math.max(1000, Math.min(Math.max(this.nextRenewalInMs() ?? 0, this.#retryAt - this.#now()), 24 * 3600 * 1000));
    const schedule = (delay: number) => {
      this.#renewTimer = setTimeout(() => {
        this.renewIfDue().then(
          () => schedule(next()),
          (e: unknown) => {
            const overdue = Math.round(this.renewalOverdueMs() / 1000);
            this.log.error('key renewal failed; retrying', { error: (e as Error).message, ...(overdue > 0 ? { overdueSeconds: overdue } : {}) });
            schedule(Math.max(60_000, next()));
          },
        );
      }, delay);
      this.#renewTimer.unref?.();
    };
    schedule(next());
  }

  stopRenewal(): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
  }
}
