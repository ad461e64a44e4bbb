/**
 * Hostile template programs against the renderer: generated programs over two sets of values
 * that the ciphertexts cannot tell apart (same keys, same lengths). For every program, whether
 * it fails in public (ERR_TEMPLATE, reported in status) and with which message is the same for
 * both; any other failure is an ERR_VALUE (reported only on the Secret); nothing else is ever
 * thrown; and no program gets past the shared budget.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SealedSecretsError, TemplateBudget, TEMPLATE_LIMITS, renderTemplate } from '../../src/index.js';
import { MARKER, templateProgram, twinValues } from './generators.js';
import { fullTemplateProgram } from './template-programs.js';

/** What someone who cannot read the Secret learns from one render: the public error, or nothing. */
function publicOutcome(src: string, values: Map<string, Buffer>, budget: TemplateBudget): string {
  try {
    renderTemplate('t', src, values, budget);
    return 'no public error';
  } catch (e) {
    expect(e).toBeInstanceOf(SealedSecretsError);
    const err = e as SealedSecretsError;
    expect(['ERR_TEMPLATE', 'ERR_VALUE']).toContain(err.code);
    // (A value the template itself spells out may appear: the template is public.)
    for (const v of values.values()) if (v.length >= 6 && !src.includes(v.toString('latin1'))) expect(err.message.includes(v.toString('latin1'))).toBe(false);
    return err.code === 'ERR_TEMPLATE' ? err.message : 'no public error';
  }
}

describe('hostile template programs', () => {
  it.each([
    ['the expression subset', templateProgram, 200, 20],
    ['the whole language (control flow, variables, define, Sprig)', fullTemplateProgram, 200, 40],
  ] as const)('whether a template fails in public never depends on the values, for 4000 generated programs in %s', (_what, gen, minPublic, minValue) => {
    let publicErrors = 0;
    let valueErrors = 0;
    fc.assert(
      fc.property(gen, twinValues, (src, [a, b]) => {
        const [ba, bb] = [new TemplateBudget(), new TemplateBudget()];
        const oa = publicOutcome(src, a, ba);
        expect(publicOutcome(src, b, bb)).toBe(oa);
        if (oa !== 'no public error') publicErrors++;
        expect(ba.bytes).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
        expect(bb.bytes).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
        expect(ba.steps).toBeLessThanOrEqual(TEMPLATE_LIMITS.steps);
        try {
          renderTemplate('t', src, a);
        } catch (e) {
          if ((e as SealedSecretsError).code === 'ERR_VALUE') valueErrors++;
        }
      }),
      { numRuns: 4000 },
    );
    console.log(`template programs (${_what}): 4000 run, ${publicErrors} with a public error, ${valueErrors} value-dependent failures`);
    // The generator reaches both kinds of failure, so the property is not vacuous.
    expect(publicErrors).toBeGreaterThan(minPublic);
    expect(valueErrors).toBeGreaterThan(minValue);
  }, 120_000);

  it('public template errors never quote a value', () => {
    fc.assert(
      fc.property(fc.oneof(templateProgram, fullTemplateProgram), (src) => {
        const values = new Map([['password', Buffer.from(MARKER)], ['user', Buffer.from(`${MARKER}-u`)], ['bin', Buffer.from([0xff])]]);
        try {
          renderTemplate('t', src, values);
        } catch (e) {
          expect((e as SealedSecretsError).message.includes(`${MARKER}-u`)).toBe(false);
          if ((e as SealedSecretsError).code === 'ERR_TEMPLATE' && !src.includes(MARKER)) expect((e as SealedSecretsError).message).not.toContain(MARKER);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
