/**
 * Fourth adversarial review (template engine): `eq` on two lists (or maps) formats its operand
 * with no budget.
 *
 * exec.ts eqOne: a non-comparable operand throws
 *   new FuncError(`non-comparable type ${sprintf('%s', [b])}: ...`)
 * and sprintf without a budget only caps its output at 2 MiB (TEMPLATE_LIMITS.bytes), charging
 * nothing. `list` charges 16 bytes per element and aliases its arguments, so 20 doublings
 * ($a = list $a $a) make a value with 2^20 leaves for 640 bytes of budget; each `eq $a $a` then
 * writes 2 MiB of small pieces (about a million `%!s(int=1)` fragments) for ~5 steps. About 50 of
 * them fit before the first clock check (every 256 steps): measured 2.9 s of CPU, 14.6 s of wall
 * clock on this loaded 2-core machine, for one SealedSecret, against a 250 ms backstop (the
 * 2 MiB cap throws an EvalError, a recorded value failure, and evaluation goes on).
 *
 * Fix: give sprintf the budget (s.env.budget), or format with a small cap (Go's own message is
 * `uncomparable type []interface {}: [...]`, any cap is fine once the annotation truncates it).
 */
import { describe, expect, it } from 'vitest';
import { TemplateBudget, renderTemplate } from '../../src/template.js';

describe('review4: eq formats its operand outside the budget', () => {
  it('one eq on an aliased list costs ~no budget but megabytes of printing', () => {
    const budget = new TemplateBudget();
    const tpl = '{{ $a := list 1 }}{{ range until 20 }}{{ $a = list $a $a }}{{ end }}{{ range until 3 }}{{ eq $a $a }}{{ end }}';
    const c0 = process.cpuUsage();
    let message = '';
    try {
      renderTemplate('out', tpl, new Map(), budget);
    } catch (e) {
      message = (e as Error).message;
    }
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    void message;
    expect(ms).toBeLessThan(100);
  }, 120_000);
});
