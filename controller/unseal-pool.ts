/**
 * The unseal pool: piscina worker threads (default one per core) that hold the
 * private keys. When the key set changes (a new or imported key), a new pool is
 * started with the new keys and the old one drains its in-flight tasks and
 * closes, so no task ever sees a partial key set. A task whose worker dies is
 * retried once on a fresh worker; piscina replaces the dead thread.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { SealedSecretsError, fromErrorJSON, type SealedSecret, type Secret } from '../src/index.js';
import type { PoolKey, WorkerInit, WorkerResult, WorkerTask } from './unseal-worker.js';

export interface UnsealPoolOptions {
  /** The built worker file (dist/unseal-worker.cjs). */
  filename: string;
  workers?: number;
  acceptDeprecatedV1Data?: boolean;
  /** Retries of a task whose worker crashed (default 1). */
  crashRetries?: number;
}

export interface UnsealOutcome {
  secret: Secret;
  openedBy: Map<string, string>;
  rsaOperations: number;
}

export class UnsealPool {
  #pool: Piscina | undefined;
  #version = 0;
  readonly workers: number;
  readonly #options: UnsealPoolOptions;
  /** Totals, for metrics and benchmarks. */
  rsaOperations = 0;
  tasks = 0;
  #inFlight = 0;
  workerCrashes = 0;

  constructor(options: UnsealPoolOptions) {
    this.#options = options;
    this.workers = Math.max(1, options.workers ?? availableParallelism());
  }

  get keyVersion(): number {
    return this.#version;
  }

  /** Tasks submitted and not yet finished. */
  get pending(): number {
    return this.#inFlight;
  }

  /** Starts a pool holding `keys`; the previous pool finishes its tasks, then closes. */
  async setKeys(keys: readonly PoolKey[]): Promise<void> {
    const init: WorkerInit = { keys: [...keys], acceptDeprecatedV1Data: this.#options.acceptDeprecatedV1Data ?? true };
    const next = new Piscina({
      filename: this.#options.filename,
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: 60_000,
      workerData: init,
    });
    const old = this.#pool;
    this.#pool = next;
    this.#version++;
    if (old) await old.close();
  }

  async #run(task: WorkerTask): Promise<WorkerResult> {
    const retries = this.#options.crashRetries ?? 1;
    for (let attempt = 0; ; attempt++) {
      const pool = this.#pool;
      if (!pool) throw new SealedSecretsError('ERR_NO_KEYS', 'the unseal pool has no keys yet');
      this.tasks++;
      this.#inFlight++;
      try {
        return (await pool.run(task)) as WorkerResult;
      } catch {
        // Only a crash lands here: the worker returns every unseal failure as data.
        this.workerCrashes++;
        if (attempt >= retries) throw new SealedSecretsError('ERR_WORKER', 'an unseal worker thread stopped while processing the request');
      } finally {
        this.#inFlight--;
      }
    }
  }

  async unseal(sealedSecret: SealedSecret, hints: string[] = []): Promise<UnsealOutcome> {
    const r = await this.#run({ kind: 'unseal', sealedSecret, hints });
    if (!r.ok) throw fromErrorJSON(r.error);
    if (!('secret' in r)) throw new TypeError('unexpected worker result');
    this.rsaOperations += r.rsaOperations;
    return { secret: r.secret, openedBy: new Map(r.openedBy), rsaOperations: r.rsaOperations };
  }

  /** Re-encrypts to the key with `toFingerprint` (the sealing key), or to the newest. */
  async reencrypt(sealedSecret: SealedSecret, toFingerprint?: string): Promise<SealedSecret> {
    const r = await this.#run({ kind: 'reencrypt', sealedSecret, toFingerprint });
    if (!r.ok) throw fromErrorJSON(r.error);
    if (!('sealedSecret' in r)) throw new TypeError('unexpected worker result');
    this.rsaOperations += r.rsaOperations;
    return r.sealedSecret;
  }

  /** Test and chaos hook: the live worker threads. */
  get threads(): readonly { terminate(): Promise<number> }[] {
    return (this.#pool?.threads ?? []) as unknown as { terminate(): Promise<number> }[];
  }

  async close(): Promise<void> {
    const p = this.#pool;
    this.#pool = undefined;
    if (p) await p.destroy();
  }
}
