/**
 * The controller's keys: loaded from the key store into a key ring (public side
 * on the main thread) and into the unseal pool's workers (private side), the
 * newest one serving /v1/cert.pem. The leader generates the first key and
 * renews keys on schedule; a key is never removed.
 */
import { createHmac } from 'node:crypto';
import {
  KeyRing,
  buildSelfSignedCertificate,
  generateRsaKeyPair,
  type KeySize,
} from '../src/index.js';
import type { KeyStore, StoredKey } from './keystore/key-store.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { UnsealPool } from './unseal-pool.js';

export interface KeyManagerOptions {
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
  #ring = new KeyRing();
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

  /** The certificate that seals: the newest key's. */
  certificatePem(): string | undefined {
    return this.#ring.size ? this.#ring.newest().certificatePem : undefined;
  }

  newest(): StoredKey | undefined {
    if (!this.#ring.size) return undefined;
    const fp = this.#ring.newest().fingerprint;
    return this.#keys.find((k) => k.fingerprint === fp);
  }

  /** The content-MAC key, derived from the oldest key: keys are never removed, so it is stable. */
  macKey(): Buffer {
    return this.#macKey;
  }

  /** Reloads the keys from the store; the pool is replaced only when the set changed. */
  async reload(): Promise<boolean> {
    const loaded = await this.store.load((id, reason) => this.log.error('skipping an invalid key', { key: id, reason }));
    const before = new Set(this.#keys.map((k) => k.fingerprint));
    const byFp = new Map(loaded.map((k) => [k.fingerprint, k]));
    const changed = byFp.size !== before.size || [...byFp.keys()].some((f) => !before.has(f));
    if (!changed) return false;
    const keys = [...byFp.values()].sort((a, b) => this.#orderingTime(a) - this.#orderingTime(b));
    const ring = new KeyRing();
    for (const k of keys) ring.add(k.privateKey, k.publicKey, { orderingTime: this.#orderingTime(k), certificatePem: k.certificatePem });
    await this.pool.setKeys(keys.map((k) => ({ privateKey: k.privateKey, publicKey: k.publicKey, orderingTime: this.#orderingTime(k) })));
    this.#keys = keys;
    this.#ring = ring;
    if (keys[0]) {
      const der = keys[0].privateKey.export({ type: 'pkcs1', format: 'der' });
      this.#macKey = createHmac('sha256', der).update('sealed-secrets-ts content-mac v1').digest();
      der.fill(0);
    }
    this.metrics.keys.set(keys.length);
    this.log.info('sealing keys loaded', { keys: keys.length, newest: ring.newest().fingerprint, store: this.store.kind });
    for (const f of this.#onChange) f();
    return true;
  }

  /** Generates, stores and loads a new key. Leader only. */
  async rotate(reason: string): Promise<StoredKey> {
    const { privateKey, publicKey } = await generateRsaKeyPair(this.o.keySize);
    const cert = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(this.#now()), ttlMs: this.o.keyTtlMs, commonName: this.o.myCn });
    const stored = await this.store.create(privateKey, publicKey, cert);
    this.log.info('new sealing key generated', { fingerprint: stored.fingerprint, key: stored.id, bits: this.o.keySize, reason });
    await this.reload();
    return stored;
  }

  /** At start-up as leader: a key when there is none, or when the newest predates the cutoff. */
  async ensureKeys(): Promise<void> {
    await this.reload();
    const newest = this.newest();
    if (!newest) await this.rotate('no sealing key exists');
    else if (this.o.cutoffTime !== undefined && this.#orderingTime(newest) < this.o.cutoffTime) await this.rotate('the newest key is older than --key-cutoff-time');
  }

  /** Schedules renewal every renew period after the newest key (upstream ScheduleJobWithTrigger). */
  startRenewal(): void {
    if (this.o.renewPeriodMs <= 0) return;
    const schedule = (afterFailure = false) => {
      const newest = this.newest();
      const due = afterFailure ? 60_000 : newest ? this.#orderingTime(newest) + this.o.renewPeriodMs - this.#now() : 0;
      // Timers over 2^31 ms overflow: re-check at most daily.
      this.#renewTimer = setTimeout(() => {
        const n = this.newest();
        const late = !n || this.#now() >= this.#orderingTime(n) + this.o.renewPeriodMs;
        (late ? this.rotate('key renewal period elapsed') : Promise.resolve()).then(
          () => schedule(),
          (e: unknown) => {
            this.log.error('key renewal failed; retrying in a minute', { error: (e as Error).message });
            schedule(true);
          },
        );
      }, Math.max(1000, Math.min(due, 24 * 3600 * 1000)));
      this.#renewTimer.unref?.();
    };
    schedule();
  }

  stopRenewal(): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
  }
}
