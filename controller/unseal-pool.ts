/**
 * The unseal pool: piscina worker threads (default one per core) that hold the
 * private keys. When the key set changes (a new or imported key), a new pool is
 * started with the new keys and the old one drains its in-flight tasks and
 * closes, so no task ever sees a partial key set. A task whose worker dies is
 * retried once on a fresh worker; piscina replaces the dead thread.
 *
 * Unseals are batched adaptively: at most two batches per worker are in flight
 * (one running, one queued in the worker itself, so a worker never waits for the
 * main thread), and requests that arrive while those are busy wait and leave together
 * as the next batch, split evenly over the free slots and capped at `maxBatchItems`
 * encrypted items (so a batch is a few milliseconds of RSA-2048 or about 50 ms of
 * RSA-4096). A lone request leaves at once, alone; under a bulk sync each message
 * carries several SealedSecrets, which cuts the main thread's per-object cost of
 * messaging (about 30-45 us per piscina round trip here). Urgent requests (new and
 * changed objects) wait ahead of resync work.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { SealedSecretsError, fromErrorJSON, type SealedSecret, type Secret } from '../src/index.js';
import type { PoolKey, UnsealItem, UnsealItemResult, WorkerInit, WorkerResult, WorkerTask } from './unseal-worker.js';

export interface UnsealPoolOptions {
  /** The built worker file (dist/unseal-worker.cjs). */
  filename: string;
  workers?: number;
  acceptDeprecatedV1Data?: boolean;
  /** Retries of a task whose worker crashed (default 1). */
  crashRetries?: number;
  /** The most encrypted items in one message to a worker (default 8); a SealedSecret is never split. */
  maxBatchItems?: number;
  /** Heap limits of each worker (default WORKER_RESOURCE_LIMITS). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
}

/**
 * Batches in flight per worker: one running and one waiting in the worker itself (piscina's
 * concurrentTasksPerWorker), so a worker never idles while the main thread hands it the next.
 */
const BATCHES_PER_WORKER = 2;

interface Waiting {
  item: UnsealItem;
  /** Encrypted items: the batch cap counts these. */
  items: number;
  resolve(o: UnsealOutcome): void;
  reject(e: unknown): void;
}

export interface UnsealOutcome {
  secret: Secret;
  openedBy: Map<string, string>;
  rsaOperations: number;
  /** The values cannot make the Secret (ERR_VALUE): `secret` is the placeholder; tell only Secret readers. */
  valueError?: SealedSecretsError;
  /** The worker's time to decrypt the items (template rendering excluded). */
  decryptMs?: number;
}

/**
 * Heap limits of a worker thread. The template budget keeps rendering far below them; they
 * are the backstop: a worker that runs out is terminated and replaced (its task fails with
 * ERR_WORKER and is retried), and the process, with every other reconcile, goes on.
 */
export const WORKER_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 } as const;

export class UnsealPool {
  #pool: Piscina | undefined;
  #version = 0;
  readonly workers: number;
  readonly #options: UnsealPoolOptions;
  /** Totals, for metrics and benchmarks. */
  rsaOperations = 0;
  tasks = 0;
  /** Unseal requests inside batches that are in flight. */
  #itemsInFlight = 0;
  workerCrashes = 0;
  /** Unseal requests not yet sent (urgent ones first), and the batches in flight. */
  readonly #waiting: Waiting[] = [];
  #batchesInFlight = 0;
  #pumpScheduled = false;
  /** How many requests at the head of #waiting are urgent. */
  #urgentWaiting = 0;

  constructor(options: UnsealPoolOptions) {
    this.#options = options;
    this.workers = Math.max(1, options.workers ?? availableParallelism());
  }

  get keyVersion(): number {
    return this.#version;
  }

  /** Requests submitted and not yet finished (waiting for a batch, or in one). */
  get pending(): number {
    return this.#itemsInFlight + this.#waiting.length;
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
      resourceLimits: this.#options.resourceLimits ?? WORKER_RESOURCE_LIMITS,
      // Both batches of a worker are posted to it, so it starts the second the moment it has
      // answered the first instead of idling until the main thread hands it over. Atomics off:
      // in piscina's Atomics loop a worker drains its port and runs both tasks before answering
      // the first. RSA-4096 cold sync in-process: 215 -> 250 unseals/s on 2 cores.
      concurrentTasksPerWorker: BATCHES_PER_WORKER,
      atomics: 'disabled',
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
      try {
        return (await pool.run(task)) as WorkerResult;
      } catch {
        // Only a crash lands here: the worker returns every unseal failure as data.
        this.workerCrashes++;
        if (attempt >= retries) throw new SealedSecretsError('ERR_WORKER', 'an unseal worker thread stopped while processing the request');
      }
    }
  }

  unseal(sealedSecret: SealedSecret, hints: string[] = [], urgent = false): Promise<UnsealOutcome> {
    return new Promise<UnsealOutcome>((resolve, reject) => {
      const w: Waiting = { item: { sealedSecret, hints }, resolve, reject, items: Math.max(1, Object.keys(sealedSecret.spec?.encryptedData ?? {}).length) };
      if (urgent) this.#waiting.splice(this.#urgentWaiting++, 0, w);
      else this.#waiting.push(w);
      // Requests made in the same tick (a burst of reconciles) can share a batch.
      if (!this.#pumpScheduled) {
        this.#pumpScheduled = true;
        queueMicrotask(() => {
          this.#pumpScheduled = false;
          this.#pump();
        });
      }
    });
  }

  #pump(): void {
    const slots = this.workers * BATCHES_PER_WORKER;
    const maxItems = Math.max(1, this.#options.maxBatchItems ?? 8);
    while (this.#waiting.length && this.#batchesInFlight < slots) {
      // An even share of what waits for each free slot, within the item cap.
      // Urgent requests leave in a batch of their own, so they wait for no resync work.
      const share = this.#urgentWaiting > 0 ? this.#urgentWaiting : Math.ceil(this.#waiting.length / (slots - this.#batchesInFlight));
      let size = 0;
      let items = 0;
      while (size < this.#waiting.length && size < share && (size === 0 || items + this.#waiting[size]!.items <= maxItems)) items += this.#waiting[size++]!.items;
      const batch = this.#waiting.splice(0, size);
      this.#urgentWaiting = Math.max(0, this.#urgentWaiting - size);
      this.#batchesInFlight++;
      this.#itemsInFlight += batch.length;
      void this.#runBatch(batch).finally(() => {
        this.#batchesInFlight--;
        this.#itemsInFlight -= batch.length;
        this.#pump();
      });
    }
  }

  async #runBatch(batch: Waiting[]): Promise<void> {
    let results: UnsealItemResult[];
    try {
      const r = await this.#run({ kind: 'unseal', items: batch.map((w) => w.item) });
      if (!r.ok) throw fromErrorJSON(r.error);
      if (!('results' in r) || r.results.length !== batch.length) throw new TypeError('unexpected worker result');
      results = r.results;
    } catch (e) {
      if (batch.length > 1 && e instanceof SealedSecretsError && e.code === 'ERR_WORKER') {
        // A worker died with this batch: try each item alone, so one poisonous object
        // cannot keep failing the others.
        await Promise.all(batch.map((w) => this.#runBatch([w])));
        return;
      }
      for (const w of batch) w.reject(e);
      return;
    }
    results.forEach((r, i) => {
      const w = batch[i]!;
      if (!r.ok) return w.reject(fromErrorJSON(r.error));
      this.rsaOperations += r.rsaOperations;
      const o: UnsealOutcome = { secret: r.secret, openedBy: new Map(r.openedBy), rsaOperations: r.rsaOperations, decryptMs: r.decryptMs };
      if (r.valueError) o.valueError = fromErrorJSON(r.valueError);
      w.resolve(o);
    });
  }

  /** Whether every item of the SealedSecret opens; renders no template (/v1/verify). */
  async verify(sealedSecret: SealedSecret): Promise<void> {
    const r = await this.#run({ kind: 'verify', sealedSecret });
    if (!r.ok) throw fromErrorJSON(r.error);
    if (!('verified' in r)) throw new TypeError('unexpected worker result');
    this.rsaOperations += r.rsaOperations;
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
    this.#urgentWaiting = 0;
    for (const w of this.#waiting.splice(0)) w.reject(new SealedSecretsError('ERR_WORKER', 'the unseal pool was closed'));
    const p = this.#pool;
    this.#pool = undefined;
    if (p) await p.destroy();
  }
}
