/**
 * The work queue (pattern: client-go workqueue, upstream controller.go):
 * - de-duplication: a key is queued at most once; a key added while it is being
 *   processed is queued again once, after `done`;
 * - two lanes: `high` for new and changed objects, `low` for resync work; `get`
 *   always serves `high` first, so a new SealedSecret never waits behind thousands
 *   of resyncs;
 * - rate-limited retries with per-key exponential backoff (base 5 ms, capped),
 *   and `forget` on success.
 * Time is injected so backoff is tested without waiting.
 */
import { realClock, type Clock } from './kube/rate-limiter.js';

export type Priority = 'high' | 'low';

export interface QueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
}

export class WorkQueue {
  readonly #high = new Set<string>();
  readonly #low = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys added while processing, with their priority. */
  readonly #dirty = new Map<string, Priority>();
  readonly #failures = new Map<string, number>();
  /** Keys waiting out a backoff, with the generation of their latest retry. */
  readonly #delayed = new Map<string, number>();
  #generation = 0;
  #waiters: (() => void)[] = [];
  #shutdown = false;
  readonly #base: number;
  readonly #max: number;
  readonly #clock: Clock;

  constructor(options: QueueOptions = {}) {
    this.#base = options.baseDelayMs ?? 5;
    this.#max = options.maxDelayMs ?? 300_000;
    this.#clock = options.clock ?? realClock;
  }

  get length(): number {
    return this.#high.size + this.#low.size;
  }

  depth(): { high: number; low: number; processing: number; delayed: number } {
    return { high: this.#high.size, low: this.#low.size, processing: this.#processing.size, delayed: this.#delayed.size };
  }

  add(key: string, priority: Priority = 'high'): void {
    if (this.#shutdown) return;
    if (this.#processing.has(key)) {
      const prev = this.#dirty.get(key);
      this.#dirty.set(key, prev === 'high' || priority === 'high' ? 'high' : 'low');
      return;
    }
    if (this.#high.has(key)) return;
    if (priority === 'high') {
      this.#low.delete(key);
      this.#high.add(key);
    } else if (!this.#low.has(key)) {
      this.#low.add(key);
    } else {
      return;
    }
    this.#wake();
  }

  /** The backoff this key would get now: base * 2^failures, capped. */
  backoff(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    return Math.min(this.#max, this.#base * 2 ** n);
  }

  addRateLimited(key: string, priority: Priority = 'low'): number {
    const delay = this.backoff(key);
    this.#failures.set(key, (this.#failures.get(key) ?? 0) + 1);
    const gen = ++this.#generation;
    this.#delayed.set(key, gen);
    void this.#clock.sleep(delay).then(() => {
      if (this.#delayed.get(key) !== gen) return;
      this.#delayed.delete(key);
      this.add(key, priority);
    });
    return delay;
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Waits for the next key, `high` lane first; undefined after shutdown. */
  async get(): Promise<{ key: string; priority: Priority } | undefined> {
    for (;;) {
      if (this.#shutdown) return undefined;
      const lane = this.#high.size ? this.#high : this.#low.size ? this.#low : undefined;
      if (lane) {
        const key = lane.values().next().value as string;
        lane.delete(key);
        this.#processing.add(key);
        return { key, priority: lane === this.#high ? 'high' : 'low' };
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  done(key: string): void {
    this.#processing.delete(key);
    const again = this.#dirty.get(key);
    if (again) {
      this.#dirty.delete(key);
      this.add(key, again);
    }
  }

  shutdown(): void {
    this.#shutdown = true;
    this.#delayed.clear();
    this.#wake(true);
  }

  #wake(all = false): void {
    const ws = all ? this.#waiters.splice(0) : this.#waiters.splice(0, 1);
    for (const w of ws) w();
  }
}
