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

/** Tolerance for the floating-point refill arithmetic. */
const EPSILON = 1e-9;

/**
 * Waiters are served in order, urgent ones first: a new SealedSecret's writes do not queue
 * behind a bulk sync's (at the default 50 QPS and 32 reconciles in flight that queue is
 * about 0.6 s long).
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly #urgent: (() => void)[] = [];
  readonly #normal: (() => void)[] = [];
  #timer = false;

  private readonly burst: number;

  /** qps < 0 disables limiting; qps must not be 0 (config maps 0 to client-go's default). */
  constructor(
    private readonly qps: number,
    burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (qps === 0 || Number.isNaN(qps)) throw new RangeError('the rate limit needs a qps other than 0');
    // A request needs a whole token: a burst below 1 would never let one through.
    this.burst = Math.max(1, burst);
    this.#tokens = this.burst;
    this.#last = clock.now();
  }

  get disabled(): boolean {
    return this.qps < 0 || this.qps === Infinity;
  }

  #refill(): void {
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
  }

  /** Resolves when a request may go. */
  take(urgent = false): Promise<void> {
    if (this.disabled) return Promise.resolve();
    this.#refill();
    if (this.waiting === 0 && this.#tokens >= 1 - EPSILON) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      (urgent ? this.#urgent : this.#normal).push(resolve);
      this.#schedule();
    });
  }

  /** One timer at a time, until the next token is due; then as many waiters go as there are tokens. */
  #schedule(): void {
    if (this.#timer) return;
    this.#timer = true;
    void this.clock.sleep(Math.max(0, ((1 - this.#tokens) / this.qps) * 1000)).then(() => {
      this.#timer = false;
      this.#refill();
      while (this.#tokens >= 1 - EPSILON && this.waiting > 0) {
        this.#tokens -= 1;
        (this.#urgent.shift() ?? this.#normal.shift())!();
      }
      if (this.waiting > 0) this.#schedule();
    });
  }

  get waiting(): number {
    return this.#urgent.length + this.#normal.length;
  }
}
