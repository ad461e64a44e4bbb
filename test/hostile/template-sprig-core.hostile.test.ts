/**
 * Hostile inputs against SPRIG-CORE's functions: what a template can make them build or
 * compute. Every attack runs against one shared TemplateBudget (one SealedSecret's) as a
 * template's range loop or nesting would, and must be refused by the budget (EvalError)
 * or fail as Go's error (FuncError), both ERR_VALUE, before it allocates past the limits;
 * never a RangeError, a stack overflow or an unbounded allocation.
 */
import { describe, expect, it } from 'vitest';
import { SealedSecretsError, renderTemplate } from '../../src/index.js';
import { EvalError, TEMPLATE_LIMITS, TemplateBudget } from '../../src/template/budget.js';
import { SPRIG_CORE } from '../../src/template/sprig-core.js';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { estimateProgramSize } from '../../src/template/sprig-core/regex.js';
import { type FuncContext, FuncError, GoInt, GoMap, GoSlice, type GoValue } from '../../src/template/values.js';

const int = (n: number | bigint) => new GoInt(BigInt(n));

function ctxFor(budget = new TemplateBudget()): FuncContext {
  return { budget, now: () => 0, randomBytes: (n) => Buffer.alloc(n) };
}
const call = (ctx: FuncContext, name: string, ...args: GoValue[]) => SPRIG_CORE[name]!.fn(ctx, args);

/** Runs `attack` until it throws; the failure must be a value failure, and the budget within its limits. */
function refused(attack: (ctx: FuncContext) => void): { budget: TemplateBudget; error: Error } {
  const budget = new TemplateBudget();
  const ctx = ctxFor(budget);
  let error: unknown;
  try {
    for (let k = 0; k < 1_000_000; k++) attack(ctx);
  } catch (e) {
    error = e;
  }
  expect(error, 'the attack must be stopped').toBeDefined();
  expect(error instanceof EvalError || error instanceof FuncError, String(error)).toBe(true);
  expect(budget.bytes).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
  expect(budget.steps).toBeLessThanOrEqual(TEMPLATE_LIMITS.steps + 1);
  // (scanned may pass its limit by the one charge that was refused: scan charges, then checks, before any work.)
  return { budget, error: error as Error };
}

describe('growth is refused by the budget before it allocates', () => {
  it('repeat with a huge count fails at once, before building anything', () => {
    const { budget, error } = refused((ctx) => call(ctx, 'repeat', int(1_000_000_000), 'abcdefgh'));
    expect(error).toBeInstanceOf(EvalError);
    expect(budget.bytes).toBe(0);
  });
  it('repeat of its own result (a doubling loop) stops at the byte limit', () => {
    let s = 'x';
    refused((ctx) => {
      s = call(ctx, 'repeat', int(2), s) as string;
    });
    expect(s.length).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
  });
  it('until, untilStep and seq over the int64 range are refused', () => {
    refused((ctx) => call(ctx, 'until', int(9_000_000_000_000_000_000n)));
    refused((ctx) => call(ctx, 'untilStep', int(-9_000_000_000_000_000_000n), int(9_000_000_000_000_000_000n), int(1)));
    refused((ctx) => call(ctx, 'seq', int(9_000_000_000_000_000_000n)));
  });
  it('append in a range loop (a list that grows each iteration) is refused', () => {
    let l: GoValue = new GoSlice([]);
    refused((ctx) => {
      l = call(ctx, 'append', l, 'item');
    });
  });
  it('concat of a list with itself (doubling) is refused', () => {
    let l: GoValue = new GoSlice([int(1)]);
    refused((ctx) => {
      l = call(ctx, 'concat', l, l);
    });
  });
  it('nested dicts built in a loop, then toJson and deepCopy of them, are refused', () => {
    let d: GoValue = new GoMap(new Map());
    refused((ctx) => {
      d = call(ctx, 'dict', 'a', d, 'b', d);
    });
    // A structure shared many times over is exponentially big when walked: toJson/deepCopy are charged per element visited.
    const budget = new TemplateBudget();
    const ctx = ctxFor(budget);
    let shared: GoValue = new GoSlice([int(1)]);
    for (let k = 0; k < 40; k++) shared = new GoSlice([shared, shared]);
    expect(() => call(ctx, 'toJson', shared)).toThrow(EvalError);
    expect(() => call(ctxFor(), 'mustToJson', shared)).toThrow(EvalError);
    expect(() => call(ctxFor(), 'deepCopy', shared)).toThrow(EvalError);
    expect(() => call(ctxFor(), 'toString', shared)).toThrow(EvalError);
    expect(() => call(ctxFor(), 'deepEqual', shared, shared)).not.toThrow(); // the same slice: equal without walking
  });
  it('a self-containing dict (set $d "self" $d) fails as Go does in toJson, and within the budget elsewhere', () => {
    const ctx = ctxFor();
    const d = new GoMap(new Map());
    call(ctx, 'set', d, 'self', d);
    expect(() => call(ctx, 'mustToJson', d)).toThrow(/encountered a cycle via map\[string\]interface \{\}/);
    expect(call(ctx, 'toJson', d)).toBe('');
    expect(() => call(ctxFor(), 'deepCopy', d)).toThrow(FuncError);
    expect(() => call(ctxFor(), 'toString', d)).toThrow();
  });
  it('indent and nindent on a large value are charged per line made', () => {
    const big = 'x\n'.repeat(300_000);
    const { error } = refused((ctx) => call(ctx, 'indent', int(8), big));
    expect(error).toBeInstanceOf(EvalError);
    refused((ctx) => call(ctx, 'indent', int(1_000_000_000), 'a'));
  });
  it('replace with an empty needle on a large value is refused', () => {
    refused((ctx) => call(ctx, 'replace', '', 'yyyyyyyy', 'x'.repeat(500_000)));
  });
  it('fromJson of a deeply nested document is bounded (no stack overflow)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const { error } = refused((ctx) => call(ctx, 'mustFromJson', deep));
    expect(error instanceof EvalError || error instanceof FuncError).toBe(true);
  });
  it('toJson and deepEqual of a list nested 5000 deep fail as Go errors, not stack overflows', () => {
    let l: GoValue = new GoSlice([]);
    for (let k = 0; k < 5000; k++) l = new GoSlice([l]);
    expect(() => call(ctxFor(), 'mustToJson', l)).toThrow(FuncError);
    let m: GoValue = new GoSlice([]);
    for (let k = 0; k < 5000; k++) m = new GoSlice([m]);
    expect(() => call(ctxFor(), 'deepEqual', l, m)).toThrow(FuncError);
    expect(() => call(ctxFor(), 'deepCopy', l)).toThrow(FuncError);
  });
  it('wrap with width 1 on a long value is charged, not run unbounded', () => {
    refused((ctx) => call(ctx, 'wrapWith', int(1), '<br>', 'x'.repeat(1_000_000)));
  });
  it('uniq of a large list is charged per comparison (quadratic work bounded by steps)', () => {
    const many = new GoSlice(Array.from({ length: 5000 }, (_, k) => int(k)));
    const { error } = refused((ctx) => call(ctx, 'uniq', many));
    expect(error).toBeInstanceOf(EvalError);
  });
});

describe('CPU per byte is charged at what it costs (review R4-2: ~1 s CPU per MB before)', () => {
  const uni = Buffer.from('Ünïcödé straße ǅ '.repeat(40_000), 'utf8').toString('latin1'); // ~880 kB
  const cases: [string, GoValue[]][] = [
    ['snakecase', [uni.slice(0, 300_000)]],
    ['kebabcase', [uni.slice(0, 300_000)]],
    ['camelcase', [uni]],
    ['swapcase', [uni]],
    ['title', [uni]],
    ['upper', [uni + uni]],
    ['b32enc', ['x'.repeat(600_000)]],
    ['b32dec', ['MFRGGZDF'.repeat(150_000)]],
  ];
  for (const [name, args] of cases) {
    it(`${name} on a large non-ASCII (or long) value is refused by one budget before it runs`, () => {
      const budget = new TemplateBudget();
      expect(() => call(ctxFor(budget), name, ...args)).toThrow(EvalError);
      expect(budget.bytes).toBe(0);
    });
  }
});

describe('regex: RE2 semantics, linear time, charged before matching', () => {
  it('the catastrophic-backtracking pattern (a+)+$ on a long input answers (no ReDoS) within the budget', () => {
    const ctx = ctxFor();
    expect(call(ctx, 'regexMatch', '(a+)+$', 'a'.repeat(20_000))).toBe(true);
    expect(call(ctxFor(), 'regexMatch', '^(a+)+$', 'a'.repeat(20_000) + 'b')).toBe(false);
    expect(call(ctxFor(), 'regexMatch', '(x+x+)+y', 'x'.repeat(20_000))).toBe(false);
  });
  it('the charge grows linearly with the input (twice the input, twice the charge)', () => {
    const cost = (n: number) => {
      const b = new TemplateBudget();
      call(ctxFor(b), 'regexMatch', '(a|aa)*c', 'a'.repeat(n));
      return b.scanned;
    };
    const [c1, c2] = [cost(20_000), cost(40_000)];
    expect(c2 / c1).toBeGreaterThan(1.9);
    expect(c2 / c1).toBeLessThan(2.1);
  });
  it('a long input times a big program is refused before matching', () => {
    const { error } = refused((ctx) => call(ctx, 'regexFindAll', '(a|b|c|d|e|f|g)+x', 'a'.repeat(1_000_000), int(-1)));
    expect(error).toBeInstanceOf(EvalError);
  });
  it('huge repetition counts are Go syntax errors (FuncError), not memory', () => {
    expect(() => call(ctxFor(), 'mustRegexFind', 'a{1001}', 'a')).toThrow(/invalid repeat count/);
    // Nested past Go's limit: refused by the size charged before compiling (a value failure either way).
    expect(() => call(ctxFor(), 'regexFind', '((a{1000}){1000}){1000}', 'a')).toThrow(EvalError);
    expect(() => call(ctxFor(), 'regexFind', '((a{100}){100})', 'a')).toThrow(/invalid repeat count/);
  });
  it('a pattern that expands to a huge program is refused before re2js compiles it', () => {
    const { error } = refused((ctx) => call(ctx, 'regexMatch', 'a{1000}'.repeat(60), 'a'));
    expect(error).toBeInstanceOf(EvalError);
    expect(error.message).toMatch(/read more than/);
  });
  it('the size estimate charged before compiling is never below the compiled program', () => {
    const patterns = ['a', 'abc', 'a{1000}', '(ab){3,7}', '[a-z]{2,}', '(?i)x(y|z)*w+', '\\pL{10}\\d?', '(a|b|c){1,100}', '\\Qa.b\\E{5}', '[[:alpha:]]{50}', '((a{10}){10}){9}', '(?:x{2}){500}', '.{1000}'];
    for (const p of patterns) {
      const size = RE2JS.compile(p).programSize();
      expect(estimateProgramSize(p), p).toBeGreaterThanOrEqual(size);
    }
  });
  it('the estimate bounds the program for 3000 generated patterns', () => {
    const piece = fc.constantFrom('a', 'b', 'é', '(', ')', '(?:', '(?i)', '(?s:', '(?P<n>', '|', '*', '+', '?', '??', '*?', '{2}', '{3,}', '{1,5}', '{20}', '{0}', '[a-c]', '[^x]', '[]a]', '[[:alpha:]]', '\\d', '\\pL', '\\p{Greek}', '.', '^', '$', '\\Qx{y\\E', '\\x{263a}', '{', '}', ',');
    let compiled = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (parts) => {
        const p = parts.join('');
        let size: number;
        try {
          size = RE2JS.compile(p).programSize();
        } catch {
          return;
        }
        compiled++;
        expect(estimateProgramSize(p), p).toBeGreaterThanOrEqual(size);
      }),
      { numRuns: 3000 },
    );
    expect(compiled).toBeGreaterThan(300);
  }, 120_000);
  it('Go 1.19 syntax: no (?<name>), no lookbehind, POSIX classes work', () => {
    expect(() => call(ctxFor(), 'mustRegexFind', '(?<n>a)', 'a')).toThrow(/invalid or unsupported Perl syntax/);
    expect(() => call(ctxFor(), 'mustRegexFind', '(?<=a)b', 'ab')).toThrow(FuncError);
    expect(call(ctxFor(), 'regexFind', '[[:digit:]]+', 'ab12')).toBe('12');
  });
  it('many matches are charged as steps: a value full of matches is stopped', () => {
    const { error } = refused((ctx) => call(ctx, 'regexReplaceAll', 'a', 'a'.repeat(400_000), '$0$0$0$0'));
    expect(error).toBeInstanceOf(EvalError);
  });
});

describe('semver and url parse attacker strings in linear time, charged', () => {
  it('a long constraint or version is charged by its length and refused when too long', () => {
    const { error } = refused((ctx) => call(ctx, 'semverCompare', '>= 1.0.0 '.repeat(50_000), '1.0.0'));
    expect(error).toBeInstanceOf(EvalError);
    refused((ctx) => call(ctx, 'semver', '1'.repeat(1_000_000)));
  });
  it('urlParse and urlJoin of long values are charged before they build anything', () => {
    refused((ctx) => call(ctx, 'urlParse', 'http://h/' + '%41'.repeat(300_000)));
  });
  it('toJson of a large non-ASCII string is charged by its exact size, not refused', () => {
    const s = Buffer.from('é'.repeat(200_000), 'utf8').toString('latin1');
    const b = new TemplateBudget();
    expect((call(ctxFor(b), 'toJson', s) as string).length).toBe(s.length + 2);
    expect(b.bytes).toBe(s.length + 2);
  });
});

describe('value-dependent failures are Go errors (FuncError), never other exceptions', () => {
  const cases: [string, GoValue[]][] = [
    ['fail', ['boom']],
    ['first', ['abc']],
    ['first', [null]],
    ['div', [int(1), int(0)]],
    ['mod', [int(1), int(0)]],
    ['divf', [int(1), int(0)]],
    ['substr', [int(4), int(2), 'hello']],
    ['repeat', [int(-1), 'a']],
    ['slice', [new GoSlice([int(1)]), int(0), int(5)]],
    ['mustFromJson', ['{bad']],
    ['mustRegexMatch', ['(', 'x']],
    ['chunk', [int(0), new GoSlice([int(1)])]],
    ['dig', ['a', 'b', '', new GoMap(new Map([['a', 'x']]))]],
    ['mustToJson', [new (class extends GoInt {})(1n)]],
  ];
  for (const [name, args] of cases) {
    it(`${name} fails as a FuncError or succeeds, never with another exception`, () => {
      try {
        call(ctxFor(), name, ...args);
      } catch (e) {
        expect(e).toBeInstanceOf(FuncError);
      }
    });
  }
  it('the must* and plain forms fail alike where Sprig panics', () => {
    expect(() => call(ctxFor(), 'first', 'abc')).toThrow('Cannot find first on type string');
    expect(() => call(ctxFor(), 'mustFirst', 'abc')).toThrow('Cannot find first on type string');
    expect(() => call(ctxFor(), 'append', null, int(1))).toThrow('runtime error: invalid memory address or nil pointer dereference');
  });
});

describe('through the renderer: attacks written as templates fail as ERR_VALUE, the same for twin values', () => {
  /** What a reader of status/Events learns: the public error (ERR_TEMPLATE's message) or nothing. */
  function outcome(src: string, values: Map<string, Buffer>): { code: string; message: string; budget: TemplateBudget } {
    const budget = new TemplateBudget();
    try {
      renderTemplate('item', src, values, budget);
      return { code: 'ok', message: '', budget };
    } catch (e) {
      expect(e).toBeInstanceOf(SealedSecretsError);
      const err = e as SealedSecretsError;
      // (values of 6 bytes or more: a shorter one, such as "7", can appear in any number the message states)
      for (const v of values.values()) if (v.length >= 6) expect(err.message.includes(v.toString('latin1'))).toBe(false);
      return { code: err.code, message: err.code === 'ERR_TEMPLATE' ? err.message : '', budget };
    }
  }
  const a = new Map([['v', Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab')], ['n', Buffer.from('7')]]);
  const b = new Map([['v', Buffer.from('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbba')], ['n', Buffer.from('x')]]);
  const attacks: [string, string][] = [
    ['append in range', '{{ $l := list }}{{ range until 100000 }}{{ $l = append $l . }}{{ end }}{{ len $l }}'],
    ['repeat doubling', '{{ $s := .v }}{{ range until 64 }}{{ $s = repeat 2 $s }}{{ end }}{{ len $s }}'],
    ['nested dict growth', '{{ $d := dict }}{{ range until 50 }}{{ $d = dict "a" $d "b" $d }}{{ end }}{{ toJson $d }}'],
    ['deepCopy of a shared tree', '{{ $d := list 1 }}{{ range until 40 }}{{ $d = list $d $d }}{{ end }}{{ deepCopy $d | len }}'],
    ['self-containing dict in toJson', '{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ mustToJson $d }}'],
    ['seq over int64', '{{ seq 9000000000000000000 }}'],
    ['until from a value', '{{ until (atoi (repeat 18 "9")) | len }}'],
    ['indent of a huge value', '{{ indent 100 (repeat 200000 "x\\n") }}'],
    ['ReDoS pattern on a value', '{{ regexMatch "(a+)+$" (repeat 100000 .v) }}'],
    ['regex program too big', '{{ regexMatch (repeat 60 "a{1000}") .v }}'],
    ['value-dependent fail', '{{ if hasSuffix "b" .v }}{{ fail "secret-dependent" }}{{ end }}ok'],
    ['value-dependent b64dec/fromJson', '{{ mustFromJson .v }}'],
    ['value-dependent int conversion then divide', '{{ div 10 (atoi .n) }}'],
  ];
  for (const [name, src] of attacks) {
    it(`${name}: never a public error, never over the budget`, () => {
      const [oa, ob] = [outcome(src, a), outcome(src, b)];
      expect(oa.code).not.toBe('ERR_TEMPLATE');
      expect(oa.message).toBe(ob.message);
      expect(oa.code === 'ERR_TEMPLATE').toBe(ob.code === 'ERR_TEMPLATE');
      for (const o of [oa, ob]) {
        expect(o.budget.bytes).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
        expect(o.budget.steps).toBeLessThanOrEqual(TEMPLATE_LIMITS.steps + 1);
      }
    });
  }
  it('the growth attacks are actually stopped (ERR_VALUE), not rendered', () => {
    for (const [name, src] of attacks.slice(0, 10)) expect(outcome(src, a).code, name).toBe('ERR_VALUE');
  });
  it('a template whose failure is static (undefined function, bad argument count) is ERR_TEMPLATE for both', () => {
    expect(outcome('{{ regexMatch "a" }}', a).code).toBe('ERR_TEMPLATE');
    expect(outcome('{{ nosuchfunc .v }}', b).code).toBe('ERR_TEMPLATE');
  });
});
