/**
 * Go's runtime behaviour that Sprig's functions lean on: reflect kinds and %T names,
 * fmt's %v and %q, strconv's parsers, spf13/cast's conversions, Sprig's `empty`,
 * and reflect.DeepEqual, over the GoValues of ../values.ts.
 */
import { formatValue, goQuote } from '../fmt.js';
import { type FuncContext, FuncError, GoBytes, GoFloat, GoInt, GoMap, GoObject, GoSlice, type GoString, type GoValue, MISSING, fromUtf8, toUtf8 } from '../values.js';

/** Slices that are Go's nil slice (e.g. `rest` of an empty list): %v prints [], toJson gives null. */
const NIL_SLICES = new WeakSet<GoSlice>();
export function nilSlice(type = '[]interface {}'): GoSlice {
  const s = new GoSlice([], type);
  NIL_SLICES.add(s);
  return s;
}
export function isNilSlice(v: GoValue): boolean {
  return v instanceof GoSlice && NIL_SLICES.has(v);
}

/** A panic inside a function: text/template recovers it into "error calling NAME: ..." (as FuncError does). */
export function panicError(msg: string): FuncError {
  return new FuncError(msg);
}
/** reflect.TypeOf(nil).Kind(): a nil-pointer dereference Go's template recovers as this error. */
export const NIL_DEREF = 'runtime error: invalid memory address or nil pointer dereference';

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** Wraps a bigint as Go's int64 arithmetic does (two's complement overflow). */
export function wrap64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
export const int64 = (v: bigint): GoInt => new GoInt(wrap64(v), 'int64');
export const int = (v: bigint): GoInt => new GoInt(wrap64(v), 'int');
export const float64 = (v: number): GoFloat => new GoFloat(v, 'float64');

/** %T as fmt prints it. */
export function typeName(v: GoValue): string {
  if (v === null || v === MISSING) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt || v instanceof GoFloat) return v.type;
  if (v instanceof GoBytes) return '[]uint8';
  if (v instanceof GoSlice || v instanceof GoMap || v instanceof GoObject) return v.type;
  return '<nil>';
}

/** reflect.Kind's String() for a value (invalid for nil). */
export function kindName(v: GoValue): string {
  if (v === null || v === MISSING) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt || v instanceof GoFloat) return v.type;
  if (v instanceof GoBytes || v instanceof GoSlice) return v instanceof GoSlice && v.type.startsWith('[') && !v.type.startsWith('[]') ? 'array' : 'slice';
  if (v instanceof GoMap) return 'map';
  if (v instanceof GoObject) return v.type.startsWith('*') ? 'ptr' : 'struct';
  return 'invalid';
}

/** reflect.TypeOf(v).Kind() as Sprig calls it: panics (nil dereference) for nil. */
export function kindOrPanic(v: GoValue): string {
  if (v === null || v === MISSING) throw panicError(NIL_DEREF);
  return kindName(v);
}

/** The items of a slice or array value (a []byte gives uint8s); undefined for other kinds. */
export function sliceItems(v: GoValue): GoValue[] | undefined {
  if (v instanceof GoSlice) return v.items;
  if (v instanceof GoBytes) return [...v.bytes].map((b) => new GoInt(BigInt(b), 'uint8'));
  return undefined;
}
export function sliceLen(v: GoValue): number | undefined {
  if (v instanceof GoSlice) return v.items.length;
  if (v instanceof GoBytes) return v.bytes.length;
  return undefined;
}

/** The element type of a slice type ("[]string" -> "string"). */
export function elemType(type: string): string {
  if (type.startsWith('[]')) return type.slice(2);
  const m = /^\[\d+\](.*)$/.exec(type);
  return m ? m[1]! : 'interface {}';
}

// ---------- fmt ----------

/** strconv.FormatFloat(v, fmt, -1, bits) for 'g' (shortest, exponent at <-4 or >= eprec) and 'e'. */
function shortestDigits(v: number, bits: 32 | 64): { digits: string; exp: number } {
  // JS's toExponential() gives the shortest round-trip digits for float64; for float32,
  // search the shortest precision that survives a round trip through Math.fround.
  let s: string;
  if (bits === 32) {
    s = '';
    for (let p = 1; p <= 9; p++) {
      s = v.toExponential(p - 1);
      if (Math.fround(Number(s)) === v) break;
    }
  } else {
    s = v.toExponential();
  }
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)!;
  return { digits: m[1]! + (m[2] ?? ''), exp: Number(m[3]) };
}

function expSuffix(exp: number): string {
  const a = Math.abs(exp);
  return (exp < 0 ? 'e-' : 'e+') + (a < 10 ? '0' + a : String(a));
}

/** Go's %v for a float: strconv 'g' with the shortest digits. */
export function formatFloatG(v: number, bits: 32 | 64 = 64): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const neg = v < 0;
  const { digits, exp } = shortestDigits(Math.abs(v), bits);
  let out: string;
  // strconv's 'g' with the shortest digits decides on an exponent with precision 6 (ftoa.go).
  if (exp < -4 || exp >= 6) {
    out = digits[0]! + (digits.length > 1 ? '.' + digits.slice(1) : '') + expSuffix(exp);
  } else if (exp < 0) {
    out = '0.' + '0'.repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length);
  } else {
    out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  }
  return (neg ? '-' : '') + out;
}

/** encoding/json's float format (ES6-like: 'f' unless < 1e-6 or >= 1e21, exponent without padding). */
export function formatFloatJson(v: number, bits: 32 | 64): string {
  const a = Math.abs(v);
  if (a === 0) return Object.is(v, -0) ? '-0' : '0';
  const { digits, exp } = shortestDigits(a, bits);
  let out: string;
  if (a < 1e-6 || a >= 1e21) {
    out = digits[0]! + (digits.length > 1 ? '.' + digits.slice(1) : '') + (exp < 0 ? 'e-' : 'e+') + Math.abs(exp);
  } else if (exp < 0) {
    out = '0.' + '0'.repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length);
  } else {
    out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  }
  return (v < 0 ? '-' : '') + out;
}

/** An upper bound of the bytes %v prints for `v` (charged before formatting). */
export function sizeOfV(ctx: FuncContext, v: GoValue, depth = 0): number {
  if (depth > 10_000) throw panicError('value nested too deeply');
  if (typeof v === 'string') return v.length;
  if (v === null) return 5;
  if (v === MISSING) return 10;
  if (typeof v === 'boolean') return 5;
  if (v instanceof GoInt) return 21;
  if (v instanceof GoFloat) return 24;
  if (v instanceof GoBytes) return 2 + v.bytes.length * 4;
  if (v instanceof GoSlice) {
    let n = 2;
    for (const x of v.items) {
      ctx.budget.step();
      n += 1 + sizeOfV(ctx, x, depth + 1);
    }
    return n;
  }
  if (v instanceof GoMap) {
    let n = 5;
    for (const [k, x] of v.entries) {
      ctx.budget.step();
      n += 2 + k.length + sizeOfV(ctx, x, depth + 1);
    }
    return n;
  }
  return 64 + v.format().length;
}

/** fmt's %v (and Sprint of one operand). The caller charges sizeOfV first. */
export function formatV(v: GoValue, top = true): GoString {
  if (typeof v === 'string') return v;
  if (v === null) return '<nil>';
  if (v === MISSING) return '<no value>';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof GoInt) return v.v.toString();
  if (v instanceof GoFloat) return formatFloatG(v.v, v.type === 'float32' ? 32 : 64);
  if (v instanceof GoBytes) return '[' + [...v.bytes].join(' ') + ']';
  if (v instanceof GoSlice) return '[' + v.items.map((x) => formatV(x, false)).join(' ') + ']';
  if (v instanceof GoMap) {
    const keys = [...v.entries.keys()].sort(compareBytes);
    return 'map[' + keys.map((k) => k + ':' + formatV(v.entries.get(k)!, false)).join(' ') + ']';
  }
  void top;
  return v.format();
}

/** Charges and formats %v. */
export function chargedV(ctx: FuncContext, v: GoValue): GoString {
  if (typeof v === 'string') return v;
  // The engine's fmt (one %v for the whole template language), charged as it writes.
  return formatValue(v, ctx.budget);
}

export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sprig's strval: strings and []byte as they are, Stringers by String(), else %v. */
export function strval(ctx: FuncContext, v: GoValue): GoString {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) {
    ctx.budget.produce(v.bytes.length);
    return v.bytes.toString('latin1');
  }
  return chargedV(ctx, v);
}

/** strconv.Quote over a Go byte string (fmt's %q of a string). */
export function quoteGo(s: GoString): GoString {
  return goQuote(s);
}

/** utf8.DecodeRune: an invalid or short sequence is (U+FFFD, 1). */
export function decodeRune(buf: Buffer | Uint8Array, i: number): { rune: number; size: number } {
  const b0 = buf[i]!;
  if (b0 < 0x80) return { rune: b0, size: 1 };
  const bad = { rune: 0xfffd, size: 1 };
  const cont = (j: number) => j < buf.length && (buf[j]! & 0xc0) === 0x80;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    if (!cont(i + 1)) return bad;
    return { rune: ((b0 & 0x1f) << 6) | (buf[i + 1]! & 0x3f), size: 2 };
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return bad;
    const b1 = buf[i + 1]!;
    if (b0 === 0xe0 && b1 < 0xa0) return bad;
    if (b0 === 0xed && b1 > 0x9f) return bad;
    return { rune: ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (buf[i + 2]! & 0x3f), size: 3 };
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return bad;
    const b1 = buf[i + 1]!;
    if (b0 === 0xf0 && b1 < 0x90) return bad;
    if (b0 === 0xf4 && b1 > 0x8f) return bad;
    return { rune: ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) | (buf[i + 3]! & 0x3f), size: 4 };
  }
  return bad;
}

/** The runes of a Go string (invalid bytes as U+FFFD, as `range` over a string gives). */
export function runes(s: GoString): number[] {
  const buf = Buffer.from(s, 'latin1');
  const out: number[] = [];
  for (let i = 0; i < buf.length; ) {
    const r = decodeRune(buf, i);
    out.push(r.rune);
    i += r.size;
  }
  return out;
}

/** Encodes runes back to a Go string (UTF-8), in one conversion. */
export function fromRunes(rs: number[]): GoString {
  let js = '';
  for (let k = 0; k < rs.length; k += 4096) js += String.fromCodePoint(...rs.slice(k, k + 4096));
  return Buffer.from(js, 'utf8').toString('latin1');
}

export { toUtf8, fromUtf8 };

// ---------- strconv and cast ----------

const digitVal = (c: string): number => {
  const x = c.charCodeAt(0);
  if (x >= 48 && x <= 57) return x - 48;
  if (x >= 97 && x <= 122) return x - 87;
  if (x >= 65 && x <= 90) return x - 55;
  return 99;
};

/** strconv.ParseInt(s, base, 64): the value, or 'syntax' / 'range' (with the clamped value). */
export function parseIntGo(s: string, base: number): { v: bigint; err?: 'syntax' | 'range' } {
  if (s.length === 0) return { v: 0n, err: 'syntax' };
  let i = 0;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    i = 1;
  }
  let body = s.slice(i);
  let b = base;
  let underscores = false;
  if (base === 0) {
    b = 10;
    if (body[0] === '0') {
      const p = body[1]?.toLowerCase();
      if (body.length >= 3 && p === 'b') { b = 2; body = body.slice(2); }
      else if (body.length >= 3 && p === 'o') { b = 8; body = body.slice(2); }
      else if (body.length >= 3 && p === 'x') { b = 16; body = body.slice(2); }
      else { b = 8; body = body.slice(1); if (body === '') return { v: 0n }; }
    }
    underscores = true;
  }
  if (body === '') return { v: 0n, err: 'syntax' };
  // Underscores: allowed only with base 0, each between digits (or after the prefix).
  if (body.includes('_')) {
    if (!underscores || !underscoreOK(s.slice(i))) return { v: 0n, err: 'syntax' };
    body = body.replaceAll('_', '');
    if (body === '') return { v: 0n, err: 'syntax' };
  }
  let v = 0n;
  const B = BigInt(b);
  let saturated = false;
  for (let k = 0; k < body.length; k++) {
    const d = digitVal(body[k]!);
    if (d >= b) return { v: 0n, err: 'syntax' };
    if (saturated) continue; // out of range already: only the syntax of the rest matters
    v = v * B + BigInt(d);
    if (v > 1n << 64n) saturated = true;
  }
  if (neg) v = -v;
  if (v > INT64_MAX) return { v: INT64_MAX, err: 'range' };
  if (v < INT64_MIN) return { v: INT64_MIN, err: 'range' };
  return { v };
}

/** strconv's underscoreOK: underscores only between digits or after a base prefix. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseFloat(s, 64): undefined on a syntax or range error (cast then gives 0). */
export function parseFloatGo(s: string): number | undefined {
  const low = s.toLowerCase();
  const sign = low[0] === '-' ? -1 : 1;
  const body = low[0] === '-' || low[0] === '+' ? low.slice(1) : low;
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  if (body === 'nan') return NaN;
  let t = body;
  if (t.includes('_')) {
    // Underscores only between digits (or after a base prefix), as Go's readFloat checks.
    if (!underscoreOK(t)) return undefined;
    t = t.replaceAll('_', '');
  }
  let v: number;
  if (/^0x/.test(t)) {
    const m = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/.exec(t);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const mant = BigInt('0x' + ((m[1] || '') + (m[2] ?? '') || '0'));
    const e = Number(m[3]) - 4 * (m[2] ?? '').length;
    v = Number(mant) * Math.pow(2, e);
    if (!Number.isFinite(Number(mant))) return undefined;
  } else {
    if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
    v = Number(t);
  }
  if (!Number.isFinite(v)) return undefined; // out of range: ParseFloat errors, cast gives 0
  return sign * v;
}

/** cast.ToInt64 (errors give 0), as Sprig's int64/add/sub/... use it. */
export function castInt64(v: GoValue): bigint {
  if (v === null || v === MISSING) return 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (v instanceof GoInt) return wrap64(v.v);
  if (v instanceof GoFloat) return floatToInt64(v.v);
  if (typeof v === 'string') {
    const r = parseIntGo(trimZeroDecimal(v), 0);
    return r.err ? 0n : r.v;
  }
  return 0n;
}

/** Go's int64(f) on amd64: truncation, and the "indefinite" 0x8000000000000000 out of range. */
export function floatToInt64(f: number): bigint {
  if (!Number.isFinite(f) || f >= 9223372036854775808 || f < -9223372036854775808) return INT64_MIN;
  return BigInt(Math.trunc(f));
}

/** cast.ToFloat64 (errors give 0). */
export function castFloat64(v: GoValue): number {
  if (v === null || v === MISSING) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof GoInt) return Number(v.v);
  if (v instanceof GoFloat) return v.v;
  if (typeof v === 'string') return parseFloatGo(v) ?? 0;
  return 0;
}

/** cast's trimZeroDecimal: "12.000" -> "12". */
export function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') {
      foundZero = true;
    } else {
      return s;
    }
  }
  return s;
}

// ---------- Sprig's empty, reflect.DeepEqual ----------

/** Sprig's empty(): nil, zero numbers, false, empty strings/slices/maps; structs never. */
export function isEmpty(v: GoValue): boolean {
  if (v === null || v === MISSING) return true;
  if (typeof v === 'string') return v.length === 0;
  if (typeof v === 'boolean') return !v;
  if (v instanceof GoInt) return v.v === 0n;
  if (v instanceof GoFloat) return v.v === 0;
  if (v instanceof GoBytes) return v.bytes.length === 0;
  if (v instanceof GoSlice) return v.items.length === 0;
  if (v instanceof GoMap) return v.entries.size === 0;
  return false;
}

/** reflect.DeepEqual over GoValues: same types, then equal contents (NaN unequal). */
export function deepEqual(ctx: FuncContext, a: GoValue, b: GoValue, depth = 0): boolean {
  ctx.budget.step();
  if (depth > 1000) throw panicError('value nested too deeply');
  if (a === MISSING) a = null;
  if (b === MISSING) b = null;
  if (a === null || b === null) return a === b;
  if (typeName(a) !== typeName(b)) return false;
  if (typeof a === 'string' || typeof a === 'boolean') return a === b;
  if (a instanceof GoInt) return a.v === (b as GoInt).v;
  if (a instanceof GoFloat) return a.v === (b as GoFloat).v;
  if (a instanceof GoBytes) {
    const bb = b as GoBytes;
    ctx.budget.scan(a.bytes.length);
    return a.bytes.equals(bb.bytes) && isNilSlice(a as never) === isNilSlice(bb as never);
  }
  if (a instanceof GoSlice) {
    const bs = b as GoSlice;
    if (isNilSlice(a) !== isNilSlice(bs)) return false;
    if (a.items.length !== bs.items.length) return false;
    if (a === bs) return true;
    return a.items.every((x, i) => deepEqual(ctx, x, bs.items[i]!, depth + 1));
  }
  if (a instanceof GoMap) {
    const bm = b as GoMap;
    if (a.entries.size !== bm.entries.size) return false;
    if (a === bm) return true;
    for (const [k, x] of a.entries) {
      if (!bm.entries.has(k)) return false;
      if (!deepEqual(ctx, x, bm.entries.get(k)!, depth + 1)) return false;
    }
    return true;
  }
  return a === b || a.format() === (b as GoObject).format();
}

/** Converts a GoValue passed to a `string` parameter (the engine normally did already). */
export function asStr(v: GoValue | undefined): GoString {
  return typeof v === 'string' ? v : '';
}
export function asInt(v: GoValue | undefined): number {
  if (v instanceof GoInt) {
    const x = v.v;
    if (x > 1n << 53n) return Number.MAX_SAFE_INTEGER;
    if (x < -(1n << 53n)) return Number.MIN_SAFE_INTEGER;
    return Number(x);
  }
  return 0;
}
export function asBigInt(v: GoValue | undefined): bigint {
  return v instanceof GoInt ? v.v : 0n;
}

export function toUtf8Safe(s: GoString): string {
  return toUtf8(s);
}
