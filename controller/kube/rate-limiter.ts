/**
 * A token bucket for requests to the API server (upstream --kubeclient-qps and
 * --kubeclient-burst, like client-go's flowcontrol). A negative qps disables it.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref?.()),
};

export class TokenBucket {
  #tokens: number;
  #last: number;
  #waiters = 0;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.#tokens = burst;
    this.#last = clock.now();
  }

  get disabled(): boolean {
    return this.qps < 0 || this.qps === Infinity;
  }

  /** Resolves when a request may go; waiters are served in order. */
  async take(): Promise<void> {
    if (this.disabled) return;
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    // Reserve a token (possibly going negative) and wait out the debt.
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    this.#waiters++;
    try {
      await this.clock.sleep((-this.#tokens / this.qps) * 1000);
    } finally {
      this.#waiters--;
    }
  }

  get waiting(): number {
    return this.#waiters;
  }
}
