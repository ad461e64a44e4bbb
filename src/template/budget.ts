/**
 * The rendering budget and the two kinds of template failure, shared by the engine
 * (lex, parse, exec, fmt) and the Sprig tables. src/template.ts re-exports them.
 */

/** A failure found by reading the template, without its values (becomes ERR_TEMPLATE). */
export class TemplateError extends Error {}
/** A failure while evaluating over the values: whether it happens may depend on them (becomes ERR_VALUE). */
export class EvalError extends Error {}
/** The budget is spent: evaluation stops at once (there is nothing left to spend on the rest). */
export class BudgetExceeded extends EvalError {}

/** The largest value one template may render. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Work allowed for rendering all the templates of one SealedSecret. */
export const TEMPLATE_LIMITS = {
  /** Bytes produced by every step together (text, function results, printed values). */
  bytes: 2 * 1024 * 1024,
  /** Nodes evaluated, functions called, range iterations (and matches found by replace). */
  steps: 20_000,
  /** Actions ({{ ... }}) in all the templates of one SealedSecret: bounds the parser's work. */
  actions: 10_000,
  /** Bytes read by every function together (trim, upper, replace, ... scan their input). */
  scanned: 4 * 1024 * 1024,
  /** Wall-clock time, a backstop for what the counts above miss (a loaded machine makes it fire early: still an ERR_VALUE). */
  ms: 250,
  /** Known-expensive work (key generation, scrypt, bcrypt) declared by the functions that do it, in ms of all the templates together; the clock is extended by as much. */
  heavyMs: 2000,
} as const;

/**
 * One budget for the whole rendering of a SealedSecret: every function charges what it
 * will produce before it allocates, so no template, however nested, builds more than
 * `maxBytes` in total or runs more than `maxSteps` steps.
 */
export class TemplateBudget {
  bytes = 0;
  steps = 0;
  scanned = 0;
  heavyMs = 0;
  /**
   * The heavy work the templates rendered so far may declare: the static cost of their expensive
   * call sites (allowHeavy), never more than TEMPLATE_LIMITS.heavyMs; undefined (a budget used
   * outside renderParsed, e.g. a function's own tests) allows TEMPLATE_LIMITS.heavyMs. (Added for R4-1.)
   */
  heavyAllowed: number | undefined = undefined;
  #deadline: number;
  #produces = 0;
  constructor(
    readonly maxBytes: number = TEMPLATE_LIMITS.bytes,
    readonly maxSteps: number = TEMPLATE_LIMITS.steps,
    readonly maxScanned: number = TEMPLATE_LIMITS.scanned,
    maxMs: number = TEMPLATE_LIMITS.ms,
  ) {
    this.#deadline = performance.now() + maxMs;
  }

  #clock(): void {
    if (performance.now() > this.#deadline) throw new EvalError('the templates take too long to render');
  }

  /** Charges `n` bytes about to be read by a function that scans its input. */
  scan(n: number): void {
    // Checked before it is counted: the counts never pass their limits.
    if (!(this.scanned + n <= this.maxScanned)) throw new BudgetExceeded(`the templates would read more than ${this.maxScanned} bytes in all`);
    this.scanned += n;
    if (n > 4096) this.#clock();
  }

  /** Fails unless `n` more bytes fit (for results whose exact size is known only once built). */
  reserve(n: number): void {
    if (!(this.bytes + n <= this.maxBytes)) throw new BudgetExceeded(`the templates would produce more than ${this.maxBytes} bytes in all`);
  }

  /** Charges `n` bytes about to be produced. */
  produce(n: number): void {
    this.reserve(n);
    this.bytes += n;
    // The clock here too: a function that builds much in few steps is stopped at its next charge.
    if (n > 4096 || (++this.#produces & 63) === 0) this.#clock();
  }

  /**
   * Known-expensive work (key generation, scrypt, bcrypt), declared before it runs: charged
   * against TEMPLATE_LIMITS.heavyMs for the SealedSecret, and the wall-clock deadline moves by as much.
   * (Added for SPRIG-EXTRA.)
   */
  heavy(ms: number, what: string): void {
    this.heavyMs += ms;
    const allowed = Math.min(this.heavyAllowed ?? TEMPLATE_LIMITS.heavyMs, TEMPLATE_LIMITS.heavyMs);
    if (!(this.heavyMs <= allowed)) throw new BudgetExceeded(`the templates would spend more than ${allowed} ms on ${what} and other expensive functions (the cost of their expensive call sites)`);
    this.#clock();
    this.#deadline += ms;
  }

  /** Raises the heavy allowance by a template's static cost (its expensive call sites) before it renders. */
  allowHeavy(ms: number): void {
    this.heavyAllowed = Math.min((this.heavyAllowed ?? 0) + ms, TEMPLATE_LIMITS.heavyMs);
  }

  /** Charges one step (or `n`). */
  step(n = 1): void {
    if (!(this.steps + n <= this.maxSteps)) throw new BudgetExceeded(`the templates take more than ${this.maxSteps} steps in all`);
    this.steps += n;
    if ((this.steps & 255) === 0 || n > 1) this.#clock();
  }
}
