/**
 * Hostile programs in the whole template language: recursion through define/template, nested
 * ranges over big lists, printf widths and precisions, deep nesting, a 1 MiB template, many
 * variables. Each must end as a clear SealedSecretsError (ERR_TEMPLATE when the template alone
 * shows it, ERR_VALUE otherwise) within the budget, never as a RangeError, a stack overflow or
 * an allocation the budget did not see. And two properties over arbitrary text (fast-check):
 * the parser throws nothing but ERR_TEMPLATE, and rendering nothing but ERR_VALUE, within budget.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SealedSecretsError } from '../../src/errors.js';
import { TEMPLATE_LIMITS, TemplateBudget, parseTemplate, renderParsed, renderTemplate } from '../../src/template.js';
import { fullTemplateProgram } from './template-programs.js';

const data = new Map([
  ['password', Buffer.from('s3cr3t-value')],
  ['big', Buffer.alloc(64 * 1024, 0x61)],
  ['csv', Buffer.from(Array.from({ length: 2000 }, (_, i) => `v${i}`).join(','))],
]);

function outcome(src: string, budget = new TemplateBudget()): { code: string; message: string; budget: TemplateBudget } {
  const before = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  try {
    renderTemplate('h', src, data, budget);
    return { code: 'ok', message: '', budget };
  } catch (e) {
    expect(e).toBeInstanceOf(SealedSecretsError);
    const err = e as SealedSecretsError;
    expect(err.message).not.toContain('s3cr3t-value');
    // Nothing far past the budget was ever allocated.
    expect(process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - before).toBeLessThan(256 * 1024 * 1024);
    return { code: err.code, message: err.message, budget };
  } finally {
    expect(budget.bytes).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
    expect(budget.steps).toBeLessThanOrEqual(TEMPLATE_LIMITS.steps);
    expect(budget.scanned).toBeLessThanOrEqual(TEMPLATE_LIMITS.scanned);
  }
}

describe('expensive functions are counted from the text and padded to it (R4-1)', () => {
  it('a heavy call on a value-dependent branch: the same wall time whether it runs or not', () => {
    const tpl = '{{ if lt .password "m" }}{{ bcrypt "x" | len }}{{ end }}done';
    const wall = (v: string) => {
      const t = performance.now();
      renderTemplate('h', tpl, new Map([['password', Buffer.from(v)]]), new TemplateBudget(undefined, undefined, undefined, 60_000));
      return performance.now() - t;
    };
    wall('z');
    const ran = wall('a-secret');
    const skipped = wall('z-secret');
    // Both take the declared 300 ms (the skipped one sleeps it); what is left is noise.
    expect(skipped).toBeGreaterThanOrEqual(299);
    expect(Math.abs(ran - skipped)).toBeLessThan(150);
  }, 60_000);

  it('a call site counts once: inside a range, the second call is refused (ERR_VALUE)', () => {
    const o = outcome('{{ range until 3 }}{{ bcrypt "x" | len }}{{ end }}', new TemplateBudget(undefined, undefined, undefined, 60_000));
    expect(o.code).toBe('ERR_VALUE');
    expect(o.message).toContain('more than 300 ms on bcrypt');
  }, 60_000);

  it('templates naming more expensive work than the allowance are refused from the text (ERR_TEMPLATE)', () => {
    const o = outcome('{{ genPrivateKey "rsa" }}{{ bcrypt "x" }}');
    expect(o.code).toBe('ERR_TEMPLATE');
    expect(o.message).toContain('expensive functions worth more than 2000 ms in all (here: genPrivateKey 2000 ms, bcrypt 300 ms)');
    expect(outcome('{{ genPrivateKey "ed25519" | len }}{{ bcrypt "x" | len }}', new TemplateBudget(undefined, undefined, undefined, 60_000)).code).toBe('ok');
  }, 60_000);
});

describe('hostile programs in the whole language', () => {
  it.each([
    ['self-recursion', '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}', 'ERR_VALUE', 'exceeded maximum template depth (50)'],
    ['binary fan-out recursion (2^50 calls)', '{{ define "r" }}x{{ template "r" . }}{{ template "r" . }}{{ end }}{{ template "r" . }}', 'ERR_VALUE', /more than 20000 steps|maximum template depth/],
    ['recursion through block', '{{ block "b" . }}{{ template "b" . }}{{ end }}', 'ERR_VALUE', 'exceeded maximum template depth (50)'],
    ['mutual recursion', '{{ define "a" }}{{ template "b" . }}{{ end }}{{ define "b" }}{{ template "a" . }}{{ end }}{{ template "a" . }}', 'ERR_VALUE', 'exceeded maximum template depth (50)'],
    ['nested range 1000 x 1000', '{{ range until 1000 }}{{ range until 1000 }}x{{ end }}{{ end }}', 'ERR_VALUE', 'more than 20000 steps'],
    ['range over a value split 2000 ways, nested', '{{ range $a := splitList "," .csv }}{{ range $b := splitList "," $.csv }}.{{ end }}{{ end }}', 'ERR_VALUE', /more than/],
    ['printf width 9,999,999', '{{ printf "%9999999d" 1 }}', 'ERR_VALUE', 'more than 2097152 bytes'],
    ['printf precision 999,999 on a float', '{{ printf "%.999999f" 1.5 }}{{ printf "%.999999f" 1.5 }}{{ printf "%.999999f" 1.5 }}', 'ERR_VALUE', 'more than 2097152 bytes'],
    ['printf width from an argument', '{{ printf "%*d" 999999 1 }}{{ printf "%*d" 999999 1 }}{{ printf "%*d" 999999 1 }}', 'ERR_VALUE', 'more than 2097152 bytes'],
    ['printf width past Go\'s limit', '{{ printf "%99999999d" 1 }}', 'ok', ''],
    ['a list of one big value printed many times', '{{ $l := list .big .big .big .big .big .big .big .big }}{{ $l }}{{ $l }}{{ $l }}{{ $l }}', 'ERR_VALUE', 'more than 2097152 bytes'],
    ['200 nested parentheses', '{{ ' + '('.repeat(200) + '1' + ')'.repeat(200) + ' }}', 'ERR_TEMPLATE', 'parentheses nested deeper than 50'],
    ['200 nested ifs', '{{ if 1 }}'.repeat(200) + '{{ end }}'.repeat(200), 'ERR_TEMPLATE', 'actions nested deeper than 50'],
    ['200 nested ranges', '{{ range . }}'.repeat(200) + '{{ end }}'.repeat(200), 'ERR_TEMPLATE', 'actions nested deeper than 50'],
    ['10,001 actions', '{{ 1 }}'.repeat(10_001), 'ERR_TEMPLATE', 'more than 10000 actions in all'],
    ['an unclosed action at the end of 1 MiB', 'x'.repeat(1024 * 1024) + '{{ .password', 'ERR_TEMPLATE', 'unclosed action'],
    ['an unterminated string of 1 MiB', '{{ "' + 'x'.repeat(1024 * 1024), 'ERR_TEMPLATE', 'unterminated quoted string'],
    ['nesting at the limit inside recursion (JS stack)', '{{ define "r" }}' + '{{ if 1 }}'.repeat(45) + '{{ template "r" . }}' + '{{ end }}'.repeat(45) + '{{ end }}{{ template "r" . }}', 'ERR_VALUE', /maximum template depth|nest too deeply|steps/],
    ['repeat past the budget', '{{ repeat 100000000 "ab" }}', 'ERR_VALUE', /more than|bytes/],
    ['toJson of a list nested 40 deep', '{{ $x := list 1 }}' + '{{ $x = list $x $x }}'.repeat(40) + '{{ toJson $x }}', 'ERR_VALUE', /more than|bytes/],
  ])('%s', (_name, src, code, message) => {
    const o = outcome(src);
    expect(o.code).toBe(code);
    if (typeof message === 'string') expect(o.message).toContain(message);
    else expect(o.message).toMatch(message);
  });

  it('an else-if chain of 999 links renders (Go has no limit; it is not nesting); 1001 are refused from the text', () => {
    const chain = (n: number) => '{{ if eq .password "x" }}a' + Array.from({ length: n }, (_, i) => `{{ else if eq .password "${i}" }}${i}`).join('') + '{{ else }}none{{ end }}';
    expect(renderTemplate('h', chain(999), data, new TemplateBudget(undefined, undefined, undefined, 60_000)).toString()).toBe('none');
    expect(outcome(chain(1001)).message).toContain('more than 1000 else-if branches');
  }, 60_000);

  it('1 MiB of literal text and a 1 MiB string literal render as written', () => {
    const text = 'x'.repeat(1024 * 1024 - 16);
    expect(renderTemplate('h', text, data).length).toBe(text.length);
    expect(renderTemplate('h', `{{ "${text}" }}`, data).length).toBe(text.length);
  });

  it('5000 variables in one template resolve, and undeclared ones are refused', () => {
    const decls = Array.from({ length: 5000 }, (_, i) => `{{ $v${i} := ${i} }}`).join('');
    // A loaded machine is slow: the clock here is a minute, the counts are the limits.
    expect(renderTemplate('h', decls + '{{ $v0 }}-{{ $v4999 }}', data, new TemplateBudget(undefined, undefined, undefined, 60_000)).toString()).toBe('0-4999');
    expect(outcome(decls + '{{ $v5000 }}').message).toContain('undefined variable "$v5000"');
  });

  it('break and continue stop a range over a big list early, so it costs what it runs', () => {
    const b = new TemplateBudget();
    expect(renderTemplate('h', '{{ range $i, $e := until 5000 }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ $e }}{{ end }}', data, b).toString()).toBe('012');
    expect(b.steps).toBeLessThan(20_000);
  });
});

/** Fragments of the language, glued at random: most of what comes out is broken in some way. */
const fragment = fc.constantFrom(
  '{{', '}}', '{{-', '-}}', ' ', '\n', '(', ')', '|', '$', '$x', ':=', '=', ',', '.', '.a', '.password', '"s"', '`r`', "'c'", '"\\', '1', '-1', '0x', '1e', '1i',
  'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', '/*', '*/',
  'print', 'printf', 'len', 'index', 'eq', 'and', 'list', 'dict', 'until', 'repeat', 'toJson', 'fail', 'env', '"%d"', '"%*d"', 'é', '\u0000', '\u{1F600}', '\xff',
);
const arbitraryTemplate = fc.oneof(fc.string({ maxLength: 200 }), fc.array(fragment, { maxLength: 60 }).map((a) => a.join('')), fullTemplateProgram);

describe('properties over arbitrary text', () => {
  it('the parser throws nothing but ERR_TEMPLATE (3000 inputs)', () => {
    fc.assert(
      fc.property(arbitraryTemplate, (src) => {
        try {
          parseTemplate('p', src);
        } catch (e) {
          expect(e).toBeInstanceOf(SealedSecretsError);
          expect((e as SealedSecretsError).code).toBe('ERR_TEMPLATE');
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('rendering throws nothing but ERR_VALUE and never exceeds the budget (3000 inputs)', () => {
    fc.assert(
      fc.property(arbitraryTemplate, (src) => {
        let parsed;
        try {
          parsed = parseTemplate('p', src);
        } catch {
          return;
        }
        const budget = new TemplateBudget();
        try {
          renderParsed(parsed, data, budget);
        } catch (e) {
          expect(e).toBeInstanceOf(SealedSecretsError);
          expect((e as SealedSecretsError).code).toBe('ERR_VALUE');
        }
        expect(budget.bytes).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
        expect(budget.steps).toBeLessThanOrEqual(TEMPLATE_LIMITS.steps);
        expect(budget.scanned).toBeLessThanOrEqual(TEMPLATE_LIMITS.scanned);
      }),
      { numRuns: 3000 },
    );
  });
});
