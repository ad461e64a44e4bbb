/**
 * Sprig's lists (list.go), dicts (dict.go), defaults and flow (defaults.go, `fail`),
 * conversion and math (numeric.go over spf13/cast and shopspring/decimal) and
 * reflection (reflect.go). Lists and dicts are charged per element they build.
 */
import { type FuncContext, FuncError, type FuncSpec, GoBytes, GoFloat, GoInt, GoMap, GoSlice, type GoString, type GoValue, MISSING } from '../values.js';
import {
  INT64_MIN,
  NIL_DEREF,
  asBigInt,
  asInt,
  asStr,
  castFloat64,
  castInt64,
  chargedV,
  deepEqual,
  elemType,
  float64,
  int,
  int64,
  isEmpty,
  isNilSlice,
  kindName,
  kindOrPanic,
  nilSlice,
  parseIntGo,
  sliceItems,
  sliceLen,
  strval,
  typeName,
  wrap64,
} from './go.js';

/** Bytes charged per element of a list or dict built (a Go interface value is 16 bytes). */
const ELEM = 16;

const v0 = (v: GoValue | undefined): GoValue => (v === undefined || v === MISSING ? null : v);

/** Charges the parse of a string operand (cast's conversions read it whole). */
function scanned(ctx: FuncContext, v: GoValue): GoValue {
  if (typeof v === 'string') ctx.budget.scan(v.length);
  return v;
}

function chargeElems(ctx: FuncContext, n: number): void {
  ctx.budget.produce(n * ELEM);
  for (let k = 0; k < n; k += 64) ctx.budget.step();
}

function newList(ctx: FuncContext, items: GoValue[]): GoSlice {
  chargeElems(ctx, items.length);
  return new GoSlice(items, '[]interface {}');
}

/** A list made from `items` (already charged for, as `n` elements, before it was built). */
function builtList(items: GoValue[]): GoSlice {
  return new GoSlice(items, '[]interface {}');
}

/** The items of a slice argument, charged as the copy about to be made of them (+ extra). */
function copyOf(ctx: FuncContext, v: GoValue, what: (kind: string) => string, extra = 0): GoValue[] {
  const items = listOf(v, what);
  chargeElems(ctx, items.length + extra);
  return items;
}

/** The items of a slice argument, or Sprig's error for another kind (nil: Go's nil dereference). */
function listOf(v: GoValue, what: (kind: string) => string): GoValue[] {
  const kind = kindOrPanic(v0(v));
  const items = sliceItems(v);
  if (items === undefined || (kind !== 'slice' && kind !== 'array')) throw new FuncError(what(kind));
  return items;
}

function inList(ctx: FuncContext, hay: GoValue[], needle: GoValue): boolean {
  for (const h of hay) if (deepEqual(ctx, needle, h)) return true;
  return false;
}

/** Go's int(x) from cast.ToInt for slice indices. */
function toIntIndex(v: GoValue): number {
  const x = castInt64(v);
  return Number(x);
}

/** A Go value's deep copy (copystructure.Copy), charged per element. */
function deepCopyV(ctx: FuncContext, v: GoValue, depth = 0): GoValue {
  if (depth > 1000) throw new FuncError('deepCopy error: value nested too deeply');
  if (v instanceof GoSlice) {
    chargeElems(ctx, v.items.length);
    if (isNilSlice(v)) return nilSlice(v.type);
    return new GoSlice(
      v.items.map((x) => deepCopyV(ctx, x, depth + 1)),
      v.type,
    );
  }
  if (v instanceof GoMap) {
    chargeElems(ctx, v.entries.size * 2);
    const m = new Map<GoString, GoValue>();
    for (const [k, x] of v.entries) m.set(k, deepCopyV(ctx, x, depth + 1));
    return new GoMap(m, v.type, v.zero);
  }
  if (v instanceof GoBytes) {
    ctx.budget.produce(v.bytes.length);
    return new GoBytes(Buffer.from(v.bytes));
  }
  return v;
}

/** mergo.Merge / MergeWithOverwrite for map[string]interface{} (deep into nested maps of the same type). */
function mergeInto(ctx: FuncContext, dst: GoMap, src: GoMap, overwrite: boolean, depth = 0): void {
  if (depth > 1000) throw new FuncError('merge: value nested too deeply');
  for (const [k, sv] of src.entries) {
    ctx.budget.step();
    ctx.budget.produce(ELEM * 2);
    const dv = dst.entries.get(k);
    if (dv instanceof GoMap && sv instanceof GoMap && dv.type === 'map[string]interface {}' && sv.type === dv.type) {
      mergeInto(ctx, dv, sv, overwrite, depth + 1);
      continue;
    }
    if (!dst.entries.has(k)) {
      dst.entries.set(k, sv);
      continue;
    }
    // mergo replaces an empty destination value always, and any one when overwriting (even with an empty source).
    if (overwrite || isEmptyMergo(dv!)) dst.entries.set(k, sv);
  }
}
function isEmptyMergo(v: GoValue): boolean {
  return isEmpty(v);
}

function untilStep(ctx: FuncContext, start: bigint, stop: bigint, step: bigint): bigint[] {
  const out: bigint[] = [];
  const push = (x: bigint) => {
    if ((out.length & 15) === 0) ctx.budget.step();
    ctx.budget.produce(ELEM);
    out.push(x);
  };
  if (stop < start) {
    if (step >= 0n) return out;
    for (let x = start; x > stop; x = wrap64(x + step)) {
      push(x);
      if (x + step < INT64_MIN) break;
    }
    return out;
  }
  if (step <= 0n) return out;
  for (let x = start; x < stop; x = wrap64(x + step)) {
    push(x);
    if (x + step > (1n << 63n) - 1n) break;
  }
  return out;
}

const intSlice = (xs: bigint[]) => new GoSlice(xs.map((x) => new GoInt(x, 'int')), '[]int');

/** shopspring/decimal over float64 inputs: exact decimal sums/products, quotients to 16 places. */
type Dec = { c: bigint; e: number }; // value = c * 10^e
function decFromFloat(f: number): Dec {
  if (!Number.isFinite(f)) throw new FuncError(`Cannot create a Decimal from ${Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf'}`);
  if (f === 0) return { c: 0n, e: 0 };
  const s = f.toExponential();
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)!;
  const digits = m[2]! + (m[3] ?? '');
  return { c: BigInt(m[1]! + digits), e: Number(m[4]) - (digits.length - 1) };
}
function decAlign(a: Dec, b: Dec): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.c * 10n ** BigInt(a.e - e), b.c * 10n ** BigInt(b.e - e), e];
}
function decToFloat(d: Dec): number {
  return Number(`${d.c}e${d.e}`);
}
const DEC_OPS: Record<string, (a: Dec, b: Dec) => Dec> = {
  add: (a, b) => {
    const [x, y, e] = decAlign(a, b);
    return { c: x + y, e };
  },
  sub: (a, b) => {
    const [x, y, e] = decAlign(a, b);
    return { c: x - y, e };
  },
  mul: (a, b) => ({ c: a.c * b.c, e: a.e + b.e }),
  div: (a, b) => {
    if (b.c === 0n) throw new FuncError('decimal division by 0');
    // DivRound(b, 16): the quotient rounded half away from zero to 16 decimal places.
    const P = 16;
    // a/b = (a.c / b.c) * 10^(a.e - b.e); scale so the integer quotient has P places.
    const shift = P + a.e - b.e;
    let num = a.c;
    let den = b.c;
    if (shift >= 0) num *= 10n ** BigInt(shift);
    else den *= 10n ** BigInt(-shift);
    const neg = num < 0n !== den < 0n;
    const [an, ad] = [num < 0n ? -num : num, den < 0n ? -den : den];
    let q = an / ad;
    const r = an % ad;
    if (r * 2n >= ad) q += 1n;
    return { c: neg ? -q : q, e: -P };
  },
};
function decimalOp(ctx: FuncContext, first: GoValue, rest: GoValue[], op: string): GoFloat {
  let acc = decFromFloat(castFloat64(first));
  for (const x of rest) {
    ctx.budget.step();
    acc = DEC_OPS[op]!(acc, decFromFloat(castFloat64(x)));
    // Exponents grow with each multiplication: bound the digits kept (decimal is arbitrary precision).
    if (acc.c.toString().length > 2000) throw new FuncError('decimal result too large');
  }
  return float64(decToFloat(acc));
}

/** The integer fields of Go's fmt.Sprint of []int, joined (seq). */
function seqString(ctx: FuncContext, xs: bigint[]): GoString {
  ctx.budget.produce(xs.length * 21);
  return xs.join(' ');
}

function seq(ctx: FuncContext, params: bigint[]): GoString {
  switch (params.length) {
    case 1: {
      const [start, end] = [1n, params[0]!];
      const inc = end < start ? -1n : 1n;
      return seqString(ctx, untilStep(ctx, start, end + inc, inc));
    }
    case 2: {
      const [start, end] = [params[0]!, params[1]!];
      const step = end < start ? -1n : 1n;
      return seqString(ctx, untilStep(ctx, start, end + step, step));
    }
    case 3: {
      const [start, step, end] = [params[0]!, params[1]!, params[2]!];
      let inc = 1n;
      if (end < start) {
        inc = -1n;
        if (step > 0n) return '';
      }
      return seqString(ctx, untilStep(ctx, start, end + inc, step));
    }
    default:
      return '';
  }
}

/** Go's math.Modf fractional part. */
function frac(x: number): number {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? NaN : NaN;
  return x - Math.trunc(x);
}

function roundSprig(a: GoValue, p: number, roundOn: number): number {
  const val = castFloat64(a);
  const pow = Math.pow(10, p);
  const digit = pow * val;
  const div = frac(digit);
  const r = div >= roundOn ? Math.ceil(digit) : Math.floor(digit);
  return r / pow;
}

function digFromDict(dict: GoMap, def: GoValue, ks: GoString[]): GoValue {
  const [k, ...ns] = ks;
  if (!dict.entries.has(k!)) return def;
  const step = dict.entries.get(k!)!;
  if (ns.length === 0) return step;
  if (!(step instanceof GoMap) || step.type !== 'map[string]interface {}') {
    throw new FuncError(`interface conversion: interface {} is ${typeName(step)}, not map[string]interface {}`);
  }
  return digFromDict(step, def, ns);
}

const m = (v: GoValue | undefined): GoMap => v as GoMap;
const must = (name: string, spec: FuncSpec): [string, FuncSpec] => [name, spec];
void must;

/** A list function and its must* twin: the same Go error either way (the plain one panics, which text/template reports alike). */
function twin(table: Record<string, FuncSpec>, name: string, spec: FuncSpec): void {
  table[name] = spec;
  table['must' + name[0]!.toUpperCase() + name.slice(1)] = spec;
}

export const DATA_FUNCS: Record<string, FuncSpec> = {
  // ---- defaults and flow ----
  default: { params: ['interface {}'], variadic: 'interface {}', fn: (_ctx, [d, ...given]) => (given.length === 0 || isEmpty(v0(given[0])) ? v0(d) : v0(given[0])) },
  empty: { params: ['interface {}'], fn: (_ctx, [v]) => isEmpty(v0(v)) },
  coalesce: {
    params: [],
    variadic: 'interface {}',
    fn: (_ctx, args) => {
      for (const a of args) if (!isEmpty(v0(a))) return v0(a);
      return null;
    },
  },
  all: { params: [], variadic: 'interface {}', fn: (_ctx, args) => args.every((a) => !isEmpty(v0(a))) },
  any: { params: [], variadic: 'interface {}', fn: (_ctx, args) => args.some((a) => !isEmpty(v0(a))) },
  ternary: { params: ['interface {}', 'interface {}', 'bool'], fn: (_ctx, [t, f, c]) => (c === true ? v0(t) : v0(f)) },
  fail: {
    params: ['string'],
    fn: (_ctx, [msg]) => {
      throw new FuncError(asStr(msg));
    },
  },
  deepCopy: { params: ['interface {}'], fn: (ctx, [v]) => deepCopyV(ctx, v0(v)) },
  mustDeepCopy: { params: ['interface {}'], fn: (ctx, [v]) => deepCopyV(ctx, v0(v)) },

  // ---- reflection ----
  typeOf: { params: ['interface {}'], fn: (_ctx, [v]) => typeName(v0(v)) },
  typeIs: { params: ['string', 'interface {}'], fn: (_ctx, [t, v]) => asStr(t) === typeName(v0(v)) },
  typeIsLike: {
    params: ['string', 'interface {}'],
    fn: (_ctx, [t, v]) => {
      const tn = typeName(v0(v));
      return asStr(t) === tn || '*' + asStr(t) === tn;
    },
  },
  kindOf: { params: ['interface {}'], fn: (_ctx, [v]) => kindName(v0(v)) },
  kindIs: { params: ['string', 'interface {}'], fn: (_ctx, [t, v]) => asStr(t) === kindName(v0(v)) },
  deepEqual: { params: ['interface {}', 'interface {}'], fn: (ctx, [a, b]) => deepEqual(ctx, v0(a), v0(b)) },

  // ---- conversion ----
  atoi: {
    params: ['string'],
    fn: (ctx, [s]) => {
      const str = asStr(s);
      ctx.budget.scan(str.length);
      // strconv.Atoi: base 10; a range error still gives the clamped value, a syntax error 0.
      const r = /^[+-]?\d+$/.test(str) ? parseIntGo(str, 10) : { v: 0n };
      return int(r.v);
    },
  },
  int64: { params: ['interface {}'], fn: (ctx, [v]) => int64(castInt64(scanned(ctx, v0(v)))) },
  int: { params: ['interface {}'], fn: (ctx, [v]) => int(castInt64(scanned(ctx, v0(v)))) },
  float64: { params: ['interface {}'], fn: (ctx, [v]) => float64(castFloat64(scanned(ctx, v0(v)))) },
  toDecimal: {
    params: ['interface {}'],
    fn: (ctx, [v]) => {
      const s = chargedV(ctx, v0(v));
      ctx.budget.scan(s.length);
      const r = parseIntGo(s, 8);
      return int64(r.err ? 0n : r.v);
    },
  },
  seq: { params: [], variadic: 'int', fn: (ctx, args) => seq(ctx, args.map(asBigInt)) },
  until: {
    params: ['int'],
    fn: (ctx, [c]) => {
      const count = asBigInt(c);
      return intSlice(untilStep(ctx, 0n, count, count < 0n ? -1n : 1n));
    },
  },
  untilStep: { params: ['int', 'int', 'int'], fn: (ctx, [a, b, c]) => intSlice(untilStep(ctx, asBigInt(a), asBigInt(b), asBigInt(c))) },

  // ---- math ----
  add1: { params: ['interface {}'], fn: (_ctx, [v]) => int64(castInt64(v0(v)) + 1n) },
  add: {
    params: [],
    variadic: 'interface {}',
    fn: (_ctx, args) => int64(args.reduce<bigint>((acc, x) => wrap64(acc + castInt64(v0(x))), 0n)),
  },
  sub: { params: ['interface {}', 'interface {}'], fn: (_ctx, [a, b]) => int64(castInt64(v0(a)) - castInt64(v0(b))) },
  div: {
    params: ['interface {}', 'interface {}'],
    fn: (_ctx, [a, b]) => {
      const [x, y] = [castInt64(v0(a)), castInt64(v0(b))];
      if (y === 0n) throw new FuncError('runtime error: integer divide by zero');
      return int64(x / y);
    },
  },
  mod: {
    params: ['interface {}', 'interface {}'],
    fn: (_ctx, [a, b]) => {
      const [x, y] = [castInt64(v0(a)), castInt64(v0(b))];
      if (y === 0n) throw new FuncError('runtime error: integer divide by zero');
      return int64(x % y);
    },
  },
  mul: {
    params: ['interface {}'],
    variadic: 'interface {}',
    fn: (_ctx, [a, ...rest]) => int64(rest.reduce<bigint>((acc, x) => wrap64(acc * castInt64(v0(x))), castInt64(v0(a)))),
  },
  add1f: { params: ['interface {}'], fn: (ctx, [v]) => decimalOp(ctx, v0(v), [new GoInt(1n)], 'add') },
  addf: { params: [], variadic: 'interface {}', fn: (ctx, args) => decimalOp(ctx, float64(0), args.map(v0), 'add') },
  subf: { params: ['interface {}'], variadic: 'interface {}', fn: (ctx, [a, ...r]) => decimalOp(ctx, v0(a), r.map(v0), 'sub') },
  divf: { params: ['interface {}'], variadic: 'interface {}', fn: (ctx, [a, ...r]) => decimalOp(ctx, v0(a), r.map(v0), 'div') },
  mulf: { params: ['interface {}'], variadic: 'interface {}', fn: (ctx, [a, ...r]) => decimalOp(ctx, v0(a), r.map(v0), 'mul') },
  biggest: { params: ['interface {}'], variadic: 'interface {}', fn: (_ctx, [a, ...r]) => int64(r.reduce<bigint>((acc, x) => (castInt64(v0(x)) > acc ? castInt64(v0(x)) : acc), castInt64(v0(a)))) },
  max: { params: ['interface {}'], variadic: 'interface {}', fn: (_ctx, [a, ...r]) => int64(r.reduce<bigint>((acc, x) => (castInt64(v0(x)) > acc ? castInt64(v0(x)) : acc), castInt64(v0(a)))) },
  min: { params: ['interface {}'], variadic: 'interface {}', fn: (_ctx, [a, ...r]) => int64(r.reduce<bigint>((acc, x) => (castInt64(v0(x)) < acc ? castInt64(v0(x)) : acc), castInt64(v0(a)))) },
  maxf: {
    params: ['interface {}'],
    variadic: 'interface {}',
    fn: (_ctx, [a, ...r]) => float64(r.reduce<number>((acc, x) => goMax(acc, castFloat64(v0(x))), castFloat64(v0(a)))),
  },
  minf: {
    params: ['interface {}'],
    variadic: 'interface {}',
    fn: (_ctx, [a, ...r]) => float64(r.reduce<number>((acc, x) => goMin(acc, castFloat64(v0(x))), castFloat64(v0(a)))),
  },
  floor: { params: ['interface {}'], fn: (_ctx, [v]) => float64(Math.floor(castFloat64(v0(v)))) },
  ceil: { params: ['interface {}'], fn: (_ctx, [v]) => float64(Math.ceil(castFloat64(v0(v)))) },
  round: {
    params: ['interface {}', 'int'],
    variadic: 'float64',
    fn: (_ctx, [a, p, ...opt]) => float64(roundSprig(v0(a), asInt(p), opt.length > 0 ? (opt[0] as GoFloat).v : 0.5)),
  },

  // ---- lists ----
  list: { params: [], variadic: 'interface {}', fn: (ctx, args) => newList(ctx, args.map(v0)) },
  tuple: { params: [], variadic: 'interface {}', fn: (ctx, args) => newList(ctx, args.map(v0)) },
  compact: {
    params: ['interface {}'],
    fn: (ctx, [l]) => builtList(copyOf(ctx, v0(l), (k) => `Cannot compact on type ${k}`).filter((x) => !isEmpty(x))),
  },
  has: {
    params: ['interface {}', 'interface {}'],
    fn: (ctx, [needle, hay]) => {
      if (v0(hay) === null) return false;
      return inList(ctx, listOf(v0(hay), (k) => `Cannot find has on type ${k}`), v0(needle));
    },
  },
  concat: {
    params: [],
    variadic: 'interface {}',
    fn: (ctx, lists) => {
      const res: GoValue[] = [];
      for (const l of lists) {
        const kind = kindOrPanic(v0(l));
        const items = sliceItems(v0(l));
        if (!items) throw new FuncError(`Cannot concat type ${kind} as list`);
        chargeElems(ctx, items.length);
        for (const x of items) res.push(x);
      }
      return res.length === 0 ? nilSlice() : new GoSlice(res);
    },
  },
  dig: {
    params: [],
    variadic: 'interface {}',
    fn: (_ctx, ps) => {
      if (ps.length < 3) throw new FuncError('dig needs at least three arguments');
      const dict = v0(ps[ps.length - 1]);
      if (!(dict instanceof GoMap) || dict.type !== 'map[string]interface {}') {
        throw new FuncError(`interface conversion: interface {} is ${typeName(dict)}, not map[string]interface {}`);
      }
      const ks = ps.slice(0, -2).map((k) => {
        if (typeof k !== 'string') throw new FuncError(`interface conversion: interface {} is ${typeName(v0(k))}, not string`);
        return k;
      });
      return digFromDict(dict, v0(ps[ps.length - 2]), ks);
    },
  },

  // ---- dicts ----
  dict: {
    params: [],
    variadic: 'interface {}',
    fn: (ctx, args) => {
      chargeElems(ctx, args.length);
      const d = new Map<GoString, GoValue>();
      for (let k = 0; k < args.length; k += 2) {
        const key = strval(ctx, v0(args[k]));
        d.set(key, k + 1 >= args.length ? '' : v0(args[k + 1]));
      }
      return new GoMap(d);
    },
  },
  get: {
    params: ['map[string]interface {}', 'string'],
    fn: (_ctx, [d, k]) => (m(d).entries.has(asStr(k)) ? m(d).entries.get(asStr(k))! : ''),
  },
  set: {
    params: ['map[string]interface {}', 'string', 'interface {}'],
    fn: (ctx, [d, k, v]) => {
      if (m(d) === null) throw new FuncError('assignment to entry in nil map');
      ctx.budget.produce(ELEM * 2);
      m(d).entries.set(asStr(k), v0(v));
      return m(d);
    },
  },
  unset: {
    params: ['map[string]interface {}', 'string'],
    fn: (_ctx, [d, k]) => {
      m(d).entries.delete(asStr(k));
      return m(d);
    },
  },
  hasKey: { params: ['map[string]interface {}', 'string'], fn: (_ctx, [d, k]) => m(d).entries.has(asStr(k)) },
  pluck: {
    params: ['string'],
    variadic: 'map[string]interface {}',
    fn: (ctx, [k, ...ds]) => newList(ctx, ds.filter((d) => m(d).entries.has(asStr(k))).map((d) => m(d).entries.get(asStr(k))!)),
  },
  keys: {
    params: [],
    variadic: 'map[string]interface {}',
    fn: (ctx, ds) => {
      const out: GoString[] = [];
      for (const d of ds) {
        chargeElems(ctx, m(d).entries.size);
        out.push(...m(d).entries.keys());
      }
      // Go's map order is random: the keys in an order of their own (sorted here; templates sort them with sortAlpha).
      return new GoSlice(out, '[]string');
    },
  },
  pick: {
    params: ['map[string]interface {}'],
    variadic: 'string',
    fn: (ctx, [d, ...ks]) => {
      chargeElems(ctx, ks.length * 2);
      const res = new Map<GoString, GoValue>();
      for (const k of ks) if (m(d).entries.has(asStr(k))) res.set(asStr(k), m(d).entries.get(asStr(k))!);
      return new GoMap(res);
    },
  },
  omit: {
    params: ['map[string]interface {}'],
    variadic: 'string',
    fn: (ctx, [d, ...ks]) => {
      chargeElems(ctx, m(d).entries.size * 2 + ks.length);
      const drop = new Set(ks.map(asStr));
      const res = new Map<GoString, GoValue>();
      for (const [k, v] of m(d).entries) if (!drop.has(k)) res.set(k, v);
      return new GoMap(res);
    },
  },
  values: {
    params: ['map[string]interface {}'],
    fn: (ctx, [d]) => newList(ctx, [...m(d).entries.values()]),
  },
  merge: { params: ['map[string]interface {}'], variadic: 'map[string]interface {}', fn: (ctx, [d, ...srcs]) => mergeAll(ctx, m(d), srcs, false) },
  mustMerge: { params: ['map[string]interface {}'], variadic: 'map[string]interface {}', fn: (ctx, [d, ...srcs]) => mergeAll(ctx, m(d), srcs, false) },
  mergeOverwrite: { params: ['map[string]interface {}'], variadic: 'map[string]interface {}', fn: (ctx, [d, ...srcs]) => mergeAll(ctx, m(d), srcs, true) },
  mustMergeOverwrite: { params: ['map[string]interface {}'], variadic: 'map[string]interface {}', fn: (ctx, [d, ...srcs]) => mergeAll(ctx, m(d), srcs, true) },
};

function mergeAll(ctx: FuncContext, dst: GoMap, srcs: GoValue[], overwrite: boolean): GoValue {
  for (const src of srcs) mergeInto(ctx, dst, m(src), overwrite);
  return dst;
}

function goMax(a: number, b: number): number {
  if (a === Infinity || b === Infinity) return Infinity;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (a === 0 && b === 0) return Object.is(a, -0) ? b : a;
  return a > b ? a : b;
}
function goMin(a: number, b: number): number {
  if (a === -Infinity || b === -Infinity) return -Infinity;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (a === 0 && b === 0) return Object.is(a, -0) ? a : b;
  return a < b ? a : b;
}

// ---- list functions with must* twins ----

twin(DATA_FUNCS, 'push', {
  params: ['interface {}', 'interface {}'],
  fn: (ctx, [l, v]) => builtList([...copyOf(ctx, v0(l), (k) => `Cannot push on type ${k}`, 1), v0(v)]),
});
DATA_FUNCS.append = DATA_FUNCS.push!;
DATA_FUNCS.mustAppend = DATA_FUNCS.push!;
twin(DATA_FUNCS, 'prepend', {
  params: ['interface {}', 'interface {}'],
  fn: (ctx, [l, v]) => builtList([v0(v), ...copyOf(ctx, v0(l), (k) => `Cannot prepend on type ${k}`, 1)]),
});
twin(DATA_FUNCS, 'chunk', {
  params: ['int', 'interface {}'],
  fn: (ctx, [sz, l]) => {
    const items = listOf(v0(l), (k) => `Cannot chunk type ${k}`);
    const size = asInt(sz);
    const len = items.length;
    // Sprig computes the chunk count in float64: int(math.Floor(float64(l-1)/float64(size)) + 1).
    const f = Math.floor((len - 1) / size) + 1;
    const cs = Number.isFinite(f) ? f : -1; // int(±Inf or NaN) is math.MinInt64 on amd64
    const makeslice = () => new FuncError('runtime error: makeslice: len out of range');
    if (cs < 0) throw makeslice();
    chargeElems(ctx, cs + len);
    const out: GoValue[] = [];
    for (let c = 0; c < cs; c++) {
      let clen = size;
      if (c === cs - 1) {
        // int(math.Floor(math.Mod(float64(l), float64(size)))), 0 meaning a full chunk.
        clen = Math.floor(len % size);
        if (clen === 0) clen = size;
      }
      if (clen < 0) throw makeslice();
      const chunk: GoValue[] = [];
      for (let j = 0; j < clen; j++) {
        const ix = c * size + j;
        if (ix < 0 || ix >= len) throw new FuncError('reflect: slice index out of range');
        chunk.push(items[ix]!);
      }
      out.push(new GoSlice(chunk));
    }
    return new GoSlice(out, '[][]interface {}');
  },
});
twin(DATA_FUNCS, 'last', {
  params: ['interface {}'],
  fn: (_ctx, [l]) => {
    const items = listOf(v0(l), (k) => `Cannot find last on type ${k}`);
    return items.length === 0 ? null : items[items.length - 1]!;
  },
});
twin(DATA_FUNCS, 'first', {
  params: ['interface {}'],
  fn: (_ctx, [l]) => {
    const items = listOf(v0(l), (k) => `Cannot find first on type ${k}`);
    return items.length === 0 ? null : items[0]!;
  },
});
twin(DATA_FUNCS, 'rest', {
  params: ['interface {}'],
  fn: (ctx, [l]) => {
    const items = copyOf(ctx, v0(l), (k) => `Cannot find rest on type ${k}`);
    return items.length === 0 ? nilSlice() : builtList(items.slice(1));
  },
});
twin(DATA_FUNCS, 'initial', {
  params: ['interface {}'],
  fn: (ctx, [l]) => {
    const items = copyOf(ctx, v0(l), (k) => `Cannot find initial on type ${k}`);
    return items.length === 0 ? nilSlice() : builtList(items.slice(0, -1));
  },
});
twin(DATA_FUNCS, 'reverse', {
  params: ['interface {}'],
  fn: (ctx, [l]) => builtList([...copyOf(ctx, v0(l), (k) => `Cannot find reverse on type ${k}`)].reverse()),
});
DATA_FUNCS.mustCompact = DATA_FUNCS.compact!;
DATA_FUNCS.mustHas = DATA_FUNCS.has!;
twin(DATA_FUNCS, 'uniq', {
  params: ['interface {}'],
  fn: (ctx, [l]) => {
    const items = copyOf(ctx, v0(l), (k) => `Cannot find uniq on type ${k}`);
    const dest: GoValue[] = [];
    // Quadratic, as Sprig's is: each comparison is a step.
    for (const x of items) if (!inList(ctx, dest, x)) dest.push(x);
    return builtList(dest);
  },
});
twin(DATA_FUNCS, 'without', {
  params: ['interface {}'],
  variadic: 'interface {}',
  fn: (ctx, [l, ...omit]) => {
    const items = copyOf(ctx, v0(l), (k) => `Cannot find without on type ${k}`);
    const drop = omit.map(v0);
    return builtList(items.filter((x) => !inList(ctx, drop, x)));
  },
});
twin(DATA_FUNCS, 'slice', {
  params: ['interface {}'],
  variadic: 'interface {}',
  fn: (ctx, [l, ...idx]) => {
    const list = v0(l);
    const kind = kindOrPanic(list);
    const len = sliceLen(list);
    if (len === undefined) throw new FuncError(`list should be type of slice or array but ${kind}`);
    if (len === 0) return null;
    const start = idx.length > 0 ? toIntIndex(v0(idx[0])) : 0;
    const end = idx.length < 2 ? len : toIntIndex(v0(idx[1]));
    if (start < 0 || end < start || end > len) throw new FuncError('reflect.Value.Slice: slice index out of bounds');
    if (list instanceof GoBytes) {
      ctx.budget.produce(end - start);
      return new GoBytes(Buffer.from(list.bytes.subarray(start, end)));
    }
    const s = list as GoSlice;
    chargeElems(ctx, end - start);
    return new GoSlice(s.items.slice(start, end), s.type.startsWith('[]') ? s.type : '[]' + elemType(s.type));
  },
});

export { NIL_DEREF };
