/**
 * Fourth adversarial review (template engine): the 250 ms wall-clock backstop is not a bound.
 *
 * TemplateBudget checks the clock only in step() (every 256th step, or a multi-step charge),
 * in scan() of more than 4096 bytes and in heavy(); produce() and reserve() never look at it,
 * and nothing looks at it while one function runs. So work that is cheap in steps and bytes but
 * slow per byte runs for seconds:
 * - randAlphaNum 1900000: one call, 6 steps; its draws charge scan(256) per batch (never over
 *   4096, so never a clock check): ~0.8 s CPU here (3-4 s wall under load), and it SUCCEEDS.
 * - printf "%.999999[1]g%.999999[1]g..." 1.5: each verb pads 10^6 digits then strips them with a
 *   regex, charging nothing (the output is "1.5"), one step per verb: 255 verbs before the first
 *   clock check, ~0.5 s CPU (2.5 s wall).
 * - b32enc of 800 KB: produce only, ~0.5 s CPU; upper/title/camelcase/swapcase/shuffle on
 *   non-ASCII input are ~1 s CPU per MB produced, none checks the clock.
 * Fix: check the clock in produce()/reserve() and inside long loops (per draw batch, per 64 KB),
 * charge fmt's precision/width before formatting any number (as fmtInteger does), and charge
 * per-byte-expensive functions (b32enc, rune mapping, random draws) a multiple of their size.
 */
import { describe, expect, it } from 'vitest';
import { TemplateBudget, renderTemplate } from '../../src/template.js';

function cpuMs(f: () => void): number {
  const c0 = process.cpuUsage();
  try {
    f();
  } catch {
    // a budget stop is fine: the question is how long it took to come
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}
const data = new Map([['password', Buffer.from('hunter2')]]);
// A budget whose clock runs out after 20 ms: a check in the loop would stop these within ~2x that.
const budget = () => new TemplateBudget(undefined, undefined, undefined, 20);
const LIMIT = 150; // ms of CPU

describe('review4: the wall clock backstop is checked too rarely', () => {
  it('randAlphaNum draws for seconds without a clock check', () => {
    expect(cpuMs(() => renderTemplate('out', '{{ randAlphaNum 1900000 | len }}', data, budget()))).toBeLessThan(LIMIT);
  }, 120_000);

  it('printf with huge float precisions burns CPU between clock checks, charging nothing', () => {
    const fmt = '%.999999[1]g'.repeat(250);
    expect(cpuMs(() => renderTemplate('out', `{{ printf "${fmt}" 1.5 | len }}`, data, budget()))).toBeLessThan(LIMIT);
  }, 120_000);
});
