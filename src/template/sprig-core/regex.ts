/**
 * Sprig's regex functions with Go's regexp (RE2 syntax, leftmost-first, UTF-8 bytes),
 * run on re2js: a linear-time automaton, never JS's backtracking RegExp, so no pattern
 * can take more than time proportional to |input| x |program|. That product is charged
 * to the budget before matching; compiling is charged by the pattern's size.
 */
import { RE2JS } from 're2js';
import { type FuncContext, FuncError, type FuncSpec, GoSlice, type GoString, type GoValue } from '../values.js';
import { goQuote } from '../fmt.js';
import { asInt, asStr, decodeRune } from './go.js';

/** Go's regexp internal `quote`: backquoted when it can be, else strconv.Quote. */
function quoteExpr(s: GoString): string {
  const canBackquote = !/[`\x00-\x08\x0a-\x1f\x7f]/.test(s) && !/[\x80-\xff]/.test(s.replace(/[\xc2-\xf4][\x80-\xbf]+/g, ''));
  return canBackquote ? '`' + s + '`' : goQuote(s);
}

interface Compiled {
  re: ReturnType<RE2JS['re2']>;
  size: number;
  groups: number;
  names: Record<string, number>;
}

/** Go 1.19 has no (?<name>...) (it came in Go 1.22): refused as Go refuses it. */
function goSyntaxCheck(expr: string): void {
  let inClass = false;
  for (let k = 0; k < expr.length; k++) {
    const c = expr[k];
    if (c === '\\') {
      k++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (expr[k + 1] === '^') k++;
      if (expr[k + 1] === ']') k++;
      continue;
    }
    if (c === '(' && expr[k + 1] === '?' && expr[k + 2] === '<') {
      throw new SyntaxErr(`error parsing regexp: invalid or unsupported Perl syntax: \`(?<\``);
    }
  }
}
class SyntaxErr extends Error {}

function isValidUtf8(s: GoString): boolean {
  if (!/[\x80-\xff]/.test(s)) return true;
  const buf = Buffer.from(s, 'latin1');
  for (let i = 0; i < buf.length; ) {
    const r = decodeRune(buf, i);
    if (r.rune === 0xfffd && r.size === 1) return false;
    i += r.size;
  }
  return true;
}

/**
 * An upper bound of the compiled program's size, from the pattern alone and in linear time:
 * each atom counts 1 (a class or escape too), a group its contents, a repetition {n,m} its
 * operand times max(n, m) (+1), * + ? one more. Compiling costs time per instruction (up to
 * ~10 us measured), so this is charged before re2js expands the repetitions.
 */
export function estimateProgramSize(expr: string): number {
  const stack: number[][] = [[0]]; // per open group: the sizes of its atoms, the last is the one a quantifier applies to
  let last = 0; // size of the last atom at this level
  const top = () => stack[stack.length - 1]!;
  const add = (n: number) => {
    top().push(n);
    last = n;
  };
  for (let k = 0; k < expr.length; k++) {
    const c = expr[k]!;
    if (c === '\\') {
      if (expr[k + 1] === 'Q') {
        const end = expr.indexOf('\\E', k + 2);
        const lit = end < 0 ? expr.length - k - 2 : end - k - 2;
        for (let j = 0; j < lit; j++) add(1);
        k = end < 0 ? expr.length : end + 1;
        continue;
      }
      if ((expr[k + 1] === 'p' || expr[k + 1] === 'P') && expr[k + 2] === '{') {
        const end = expr.indexOf('}', k);
        k = end < 0 ? expr.length : end;
      } else k++;
      add(1);
    } else if (c === '[') {
      let j = k + 1;
      if (expr[j] === '^') j++;
      if (expr[j] === ']') j++;
      for (; j < expr.length && expr[j] !== ']'; j++) {
        if (expr[j] === '\\') j++;
        else if (expr[j] === '[' && expr[j + 1] === ':') {
          const end = expr.indexOf(':]', j + 2);
          if (end >= 0) j = end + 1;
        }
      }
      k = j;
      add(1);
    } else if (c === '(') {
      // (?i) sets flags and is no atom (a quantifier after it applies to the atom before);
      // (?i:...) and (?P<name>...) open a group after their prefix.
      const rest = expr.slice(k, k + 64);
      const flags = /^\(\?[A-Za-z-]*\)/.exec(rest);
      if (flags) {
        k += flags[0].length - 1;
        continue;
      }
      const prefix = /^\(\?(?:[A-Za-z-]*:|P<[^>]*>)/.exec(rest);
      if (prefix) k += prefix[0].length - 1;
      stack.push([0]);
      last = 0;
    } else if (c === ')') {
      const g = stack.length > 1 ? stack.pop()! : [0];
      add(g.reduce((a, b) => a + b, 0) + 2);
    } else if (c === '|') {
      top().push(1);
      last = 0;
    } else if (c === '*' || c === '+' || c === '?') {
      top().push(1);
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(expr.slice(k, k + 24));
      if (!m) {
        add(1);
        continue;
      }
      const times = Math.max(Number(m[1]), m[3] ? Number(m[3]) : m[2] ? Number(m[1]) + 1 : 1, 1);
      // The operand is counted once already: add the other copies (capped: a bound, not a count).
      const more = Math.min(last * (times - 1) + 1, 1e9);
      top().push(more);
      last += more;
      k += m[0].length - 1;
    } else add(1);
  }
  let total = 0;
  for (const g of stack) for (const n of g) total += n;
  // Alternations and loops compile to split instructions, captures to two saves, the program to a start and a match.
  return Math.min(total * 2 + 4, 1e9);
}

/** Compile time per estimated instruction, in scan units (~10 us measured at ~16 ns per unit). */
const COMPILE_UNITS_PER_INST = 160;

/** Compiles a Go pattern (a Go byte string), charging its size; throws Go's error text as FuncError. */
function compile(ctx: FuncContext, expr: GoString, mustForm: boolean): Compiled {
  ctx.budget.scan(expr.length + 64 + estimateProgramSize(expr) * COMPILE_UNITS_PER_INST);
  let msg: string | undefined;
  try {
    // Go checks the pattern is UTF-8 before parsing it.
    if (!isValidUtf8(expr)) throw new SyntaxErr(`error parsing regexp: invalid UTF-8: \`${expr}\``);
    goSyntaxCheck(expr);
    // re2js reads a JS string; the pattern's UTF-8 becomes code points (Go reads runes too).
    const p = RE2JS.compile(Buffer.from(expr, 'latin1').toString('utf8'));
    const size = p.programSize();
    return { re: p.re2(), size, groups: p.groupCount(), names: p.namedGroups() };
  } catch (e) {
    if (e instanceof Error && (e instanceof SyntaxErr || e.constructor.name.startsWith('RE2JS'))) msg = e.message;
    else throw e;
  }
  // MustCompile panics with the pattern quoted; Compile returns the bare error.
  throw new FuncError(mustForm ? msg : `regexp: Compile(${quoteExpr(expr)}): ${msg}`);
}

/** The work of one scan over `input`: proportional to its length times the program's size. */
function chargeMatch(ctx: FuncContext, c: Compiled, input: number): void {
  // Measured (2-core box): re2js's NFA runs ~470 ns per byte x 2 instructions on (a+)+$, so one byte of
  // input costs 4 units per program instruction: the 4 MiB scan budget then allows ~250 ms of matching.
  ctx.budget.scan((input + 1) * Math.max(4, c.size * 4));
}

/**
 * Each match found costs more than its bytes: re2js restarts its machine per match (measured ~4 us a
 * match for `\s+` over 40000 short matches, where the per-byte charge alone allowed 6x too much).
 */
const UNITS_PER_MATCH = 128;

/** Every match as [start, end, g1s, g1e, ...] byte offsets, at most n (n < 0: all), Go's rules for empty matches. */
function findAll(ctx: FuncContext, c: Compiled, s: GoString, n: number, groups: boolean): number[][] {
  chargeMatch(ctx, c, s.length);
  if (n === 0) return [];
  const buf = Buffer.from(s, 'latin1');
  // No more matches are looked for than the budget can pay for (one more, to know it would be over).
  const room = Math.max(0, Math.floor((ctx.budget.maxScanned - ctx.budget.scanned) / UNITS_PER_MATCH)) + 1;
  const want = n < 0 ? buf.length + 1 : n;
  const limit = Math.min(want, room);
  const all: number[][] = (groups ? c.re.findAllUTF8SubmatchIndex(buf, limit) : c.re.findAllUTF8Index(buf, limit)) ?? [];
  ctx.budget.scan(all.length * UNITS_PER_MATCH);
  ctx.budget.step(Math.ceil(all.length / 16) || 1);
  return all;
}

/** Regexp.Expand of a ReplaceAllString template: $1, ${1}, $name, ${name}, $$. */
function expand(tmpl: GoString, s: GoString, m: number[], names: Record<string, number>, groups: number): string {
  let out = '';
  for (let k = 0; k < tmpl.length; k++) {
    const c = tmpl[k];
    if (c !== '$') {
      out += c;
      continue;
    }
    k++;
    if (tmpl[k] === '$') {
      out += '$';
      continue;
    }
    let name: string;
    let brace = false;
    if (tmpl[k] === '{') {
      const close = tmpl.indexOf('}', k + 1);
      name = close < 0 ? '' : tmpl.slice(k + 1, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(name)) {
        // Not a valid reference: the '$' is written as it is.
        out += '$';
        k--;
        continue;
      }
      brace = true;
      k = close;
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(tmpl.slice(k));
      if (!mm) {
        out += '$';
        k--;
        continue;
      }
      name = mm[0];
      k += name.length - 1;
    }
    void brace;
    let idx = -1;
    if (/^\d+$/.test(name)) {
      const num = Number(name);
      if (num <= groups && name.length < 10) idx = num;
    } else if (Object.hasOwn(names, name)) idx = names[name]!;
    if (idx >= 0 && m[2 * idx]! >= 0) out += s.slice(m[2 * idx]!, m[2 * idx + 1]!);
  }
  return out;
}

function replaceAll(ctx: FuncContext, c: Compiled, s: GoString, repl: GoString, literal: boolean): GoString {
  const ms = findAll(ctx, c, s, -1, !literal);
  // Each match writes at most the template's expansion: |repl| plus, per reference, up to |s|.
  const refs = literal ? 0 : (repl.match(/\$/g)?.length ?? 0);
  ctx.budget.reserve(s.length + ms.length * (repl.length + refs * s.length));
  let out = '';
  let last = 0;
  for (const m of ms) {
    out += s.slice(last, m[0]);
    const piece = literal ? repl : expand(repl, s, m, c.names, c.groups);
    ctx.budget.produce(piece.length);
    out += piece;
    last = m[1]!;
  }
  out += s.slice(last);
  ctx.budget.produce(s.length);
  return out;
}

function split(ctx: FuncContext, c: Compiled, expr: GoString, s: GoString, n: number): GoValue {
  if (n === 0) return new GoSlice([], '[]string');
  if (expr.length > 0 && s.length === 0) return new GoSlice([''], '[]string');
  const ms = findAll(ctx, c, s, n, false);
  ctx.budget.produce(s.length + ms.length * 16);
  const out: GoString[] = [];
  let beg = 0;
  let end = 0;
  for (const m of ms) {
    if (n > 0 && out.length === n - 1) break;
    end = m[0]!;
    if (m[1] !== 0) out.push(s.slice(beg, end));
    beg = m[1]!;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return new GoSlice(out, '[]string');
}

/** regexp.QuoteMeta. */
function quoteMeta(s: GoString): GoString {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, (c) => '\\' + c);
}

const S = asStr;
type Body = (ctx: FuncContext, c: Compiled, a: GoValue[]) => GoValue;
/** The plain form (MustCompile: a bad pattern panics) and the must* form (the error returned); both fail the template. */
function pair(table: Record<string, FuncSpec>, name: string, params: FuncSpec['params'], body: Body): void {
  const mk = (mustForm: boolean): FuncSpec => ({ params, fn: (ctx, a) => body(ctx, compile(ctx, S(a[0]), mustForm), a) });
  table[name] = mk(false);
  table['must' + name[0]!.toUpperCase() + name.slice(1)] = mk(true);
}

export const REGEX_FUNCS: Record<string, FuncSpec> = {
  regexQuoteMeta: {
    params: ['string'],
    fn: (ctx, [s]) => {
      ctx.budget.produce(S(s).length * 2);
      return quoteMeta(S(s));
    },
  },
};

pair(REGEX_FUNCS, 'regexFindAll', ['string', 'string', 'int'], (ctx, c, [, s, n]) => {
  const ms = findAll(ctx, c, S(s), asInt(n), false);
  ctx.budget.produce(ms.length * 16);
  return new GoSlice(
    ms.map((m) => S(s).slice(m[0], m[1])),
    '[]string',
  );
});
pair(REGEX_FUNCS, 'regexFind', ['string', 'string'], (ctx, c, [, s]) => {
  const ms = findAll(ctx, c, S(s), 1, false);
  return ms.length ? S(s).slice(ms[0]![0], ms[0]![1]) : '';
});
pair(REGEX_FUNCS, 'regexReplaceAll', ['string', 'string', 'string'], (ctx, c, [, s, r]) => replaceAll(ctx, c, S(s), S(r), false));
pair(REGEX_FUNCS, 'regexReplaceAllLiteral', ['string', 'string', 'string'], (ctx, c, [, s, r]) => replaceAll(ctx, c, S(s), S(r), true));
pair(REGEX_FUNCS, 'regexSplit', ['string', 'string', 'int'], (ctx, c, [e, s, n]) => split(ctx, c, S(e), S(s), asInt(n)));

// regexMatch ignores a bad pattern (false); mustRegexMatch returns the bare error.
REGEX_FUNCS.regexMatch = {
  params: ['string', 'string'],
  fn: (ctx, [e, s]) => {
    let c: Compiled;
    try {
      c = compile(ctx, S(e), true);
    } catch (err) {
      if (err instanceof FuncError) return false;
      throw err;
    }
    return findAll(ctx, c, S(s), 1, false).length > 0;
  },
};
REGEX_FUNCS.mustRegexMatch = {
  params: ['string', 'string'],
  fn: (ctx, [e, s]) => findAll(ctx, compile(ctx, S(e), true), S(s), 1, false).length > 0,
};
