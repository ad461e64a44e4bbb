/**
 * Go's fmt over GoValues: Sprint, Sprintln, Sprintf and %v, as text/template's print,
 * println and printf and Sprig's toString/quote use them.
 *
 * Every byte written is charged to the budget before it is appended (a `%9999999d` width,
 * or a list holding one big string many times, is refused before it is built). Without a
 * budget the output is capped at TEMPLATE_LIMITS.bytes.
 *
 * Covered: %v %+v %#v %s %q %d %x %X %o %O %b %c %U %e %E %f %F %g %G %t %T %%, flags
 * `-+# 0`, width and precision (also `*`), argument indexes ([n]), and Go's error forms
 * %!verb(type=value), %!verb(MISSING), %!(EXTRA ...), %!(NOVERB), %!(BADWIDTH),
 * %!(BADPREC), %!(BADINDEX). %p prints %!p(type=value): addresses are not reproducible.
 */
import { EvalError, TEMPLATE_LIMITS, type TemplateBudget } from './budget.js';
import { GoBytes, GoFloat, GoInt, GoMap, GoObject, GoSlice, MISSING, type GoString, type GoValue } from './values.js';

/** Go's truthiness (text/template isTrue): false, 0, nil, empty string/slice/map, and the invalid value are false. */
export function isTrue(v: GoValue): boolean {
  if (v === null || v === MISSING) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'boolean') return v;
  if (v instanceof GoInt) return v.v !== 0n;
  if (v instanceof GoFloat) return v.v !== 0;
  if (v instanceof GoSlice) return v.items.length > 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  if (v instanceof GoBytes) return v.bytes.length > 0;
  return v.truth();
}

/** %T of a value. */
export function typeName(v: GoValue): string {
  if (v === null || v === MISSING) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return v.type;
  if (v instanceof GoFloat) return v.type;
  if (v instanceof GoBytes) return '[]uint8';
  return v.type;
}

/** Decodes one UTF-8 rune at byte `i` of a GoString as Go does: [rune, size]; invalid bytes are U+FFFD of size 1. */
export function decodeRune(s: GoString, i: number): [number, number] {
  const c0 = s.charCodeAt(i);
  if (c0 < 0x80) return [c0, 1];
  const cont = (k: number) => {
    const c = s.charCodeAt(i + k);
    return c >= 0x80 && c <= 0xbf ? c & 0x3f : -1;
  };
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = cont(1);
    if (c1 >= 0) return [((c0 & 0x1f) << 6) | c1, 2];
  } else if (c0 >= 0xe0 && c0 <= 0xef) {
    const b1 = s.charCodeAt(i + 1);
    const lo = c0 === 0xe0 ? 0xa0 : 0x80;
    const hi = c0 === 0xed ? 0x9f : 0xbf;
    if (b1 >= lo && b1 <= hi) {
      const c2 = cont(2);
      if (c2 >= 0) return [((c0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | c2, 3];
    }
  } else if (c0 >= 0xf0 && c0 <= 0xf4) {
    const b1 = s.charCodeAt(i + 1);
    const lo = c0 === 0xf0 ? 0x90 : 0x80;
    const hi = c0 === 0xf4 ? 0x8f : 0xbf;
    if (b1 >= lo && b1 <= hi) {
      const c2 = cont(2);
      const c3 = cont(3);
      if (c2 >= 0 && c3 >= 0) return [((c0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | (c2 << 6) | c3, 4];
    }
  }
  return [0xfffd, 1];
}

/** The UTF-8 bytes of one rune (invalid runes become U+FFFD, as Go's utf8.AppendRune). */
export function encodeRune(r: number): GoString {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;
  if (r < 0x80) return String.fromCharCode(r);
  if (r < 0x800) return String.fromCharCode(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
  if (r < 0x10000) return String.fromCharCode(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  return String.fromCharCode(0xf0 | (r >> 18), 0x80 | ((r >> 12) & 0x3f), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
}

/** utf8.RuneCountInString. */
export function runeCount(s: GoString): number {
  let n = 0;
  for (let i = 0; i < s.length; n++) i += decodeRune(s, i)[1];
  return n;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
/** unicode.IsPrint (approximately: JS's Unicode tables, which may be newer than Go's). */
export function isPrint(r: number): boolean {
  if (r === 0x20) return true;
  if (r < 0x20 || r === 0x7f || (r >= 0x80 && r < 0xa0) || r === 0xad) return false;
  if (r >= 0xd800 && r <= 0xdfff) return false;
  return PRINTABLE.test(String.fromCodePoint(r));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeRune(r: number, quote: number, ascii: boolean): string {
  if (r === quote || r === 0x5c) return '\\' + String.fromCharCode(r);
  if (ascii ? r < 0x80 && isPrint(r) : isPrint(r)) return encodeRune(r);
  switch (r) {
    case 7: return '\\a';
    case 8: return '\\b';
    case 12: return '\\f';
    case 10: return '\\n';
    case 13: return '\\r';
    case 9: return '\\t';
    case 11: return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + hex(r, 2);
  if (r < 0x10000) return '\\u' + hex(r, 4);
  return '\\U' + hex(r, 8);
}

/** Runs of ASCII that quote as themselves (printable, not " or \\). */
const PLAIN_RUN = /[\x20\x21\x23-\x5b\x5d-\x7e]*/y;
/** How each ASCII byte quotes. */
const ASCII_ESCAPES: string[] = Array.from({ length: 128 }, (_, c) => escapeRune(c, 0x22, false));

/** strconv.Quote (or QuoteToASCII) of a byte string; invalid UTF-8 bytes become \xNN. */
export function goQuote(s: GoString, ascii = false): GoString {
  const parts: string[] = ['"'];
  for (let i = 0; i < s.length; ) {
    PLAIN_RUN.lastIndex = i;
    PLAIN_RUN.exec(s);
    if (PLAIN_RUN.lastIndex > i) {
      parts.push(s.slice(i, PLAIN_RUN.lastIndex));
      i = PLAIN_RUN.lastIndex;
      continue;
    }
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      parts.push(ASCII_ESCAPES[c]!);
      i++;
      continue;
    }
    const [r, size] = decodeRune(s, i);
    if (size === 1 && r === 0xfffd) parts.push('\\x' + hex(s.charCodeAt(i), 2));
    else parts.push(escapeRune(r, 0x22, ascii));
    i += size;
  }
  parts.push('"');
  return parts.join('');
}

function goQuoteSlow(s: GoString, ascii = false): GoString {
  let out = '"';
  for (let i = 0; i < s.length; ) {
    const [r, size] = decodeRune(s, i);
    if (size === 1 && r === 0xfffd) out += '\\x' + hex(s.charCodeAt(i), 2);
    else out += escapeRune(r, 0x22, ascii);
    i += size;
  }
  return out + '"';
}

void goQuoteSlow;

/** strconv.QuoteRune (or QuoteRuneToASCII). */
export function goQuoteRune(r: number, ascii = false): GoString {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;
  return "'" + escapeRune(r, 0x27, ascii) + "'";
}

/** strconv.CanBackquote. */
function canBackquote(s: GoString): boolean {
  for (let i = 0; i < s.length; ) {
    const [r, size] = decodeRune(s, i);
    if (size === 1 && r === 0xfffd && s.charCodeAt(i) !== 0xef) return false;
    if (r === 0xfeff) return false;
    if ((r < 0x20 && r !== 9) || r === 0x60 || r === 0x7f) return false;
    i += size;
  }
  return true;
}

// ---- floats (strconv.FormatFloat) ----

/** The shortest decimal digits of |v| and its decimal exponent: v = 0.d1d2... x 10^dp. */
function shortestDigits(v: number): { digits: string; dp: number } {
  if (v === 0) return { digits: '0', dp: 1 };
  const e = Math.abs(v).toExponential(); // "d.ddde+x": the shortest round-trip digits
  const [mant, exp] = e.split('e') as [string, string];
  return { digits: mant.replace('.', ''), dp: Number(exp) + 1 };
}

/** The exact decimal digits of |v| (a double is m x 2^e: its expansion is finite), v = 0.d1d2... x 10^dp. */
function exactDigits(v: number): { digits: string; dp: number } {
  const a = Math.abs(v);
  if (a === 0) return { digits: '0', dp: 1 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const bits = buf.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let m = bits & ((1n << 52n) - 1n);
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    m |= 1n << 52n;
    e = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (m << BigInt(e)).toString();
    dp = digits.length;
  } else {
    const k = -e;
    digits = (m * 5n ** BigInt(k)).toString();
    dp = digits.length - k;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed || '0', dp };
}

/** Rounds exact digits to `keep` digits, half to even (strconv's rule for exact ties). */
function roundDigits(d: { digits: string; dp: number }, keep: number): { digits: string; dp: number } {
  const ds = d.digits;
  if (keep < 0) return { digits: '0', dp: d.dp };
  if (ds.length <= keep) return { digits: ds.padEnd(Math.max(keep, 1), '0'), dp: d.dp };
  const next = ds.charCodeAt(keep) - 48;
  const rest = ds.slice(keep + 1);
  let up = next > 5 || (next === 5 && /[1-9]/.test(rest));
  if (next === 5 && !/[1-9]/.test(rest)) up = keep > 0 ? (ds.charCodeAt(keep - 1) - 48) % 2 === 1 : false;
  let kept = ds.slice(0, keep);
  let dp = d.dp;
  if (up) {
    const arr = kept.split('').map(Number);
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === 9) arr[i--] = 0;
    if (i < 0) {
      arr.unshift(1);
      dp++;
      arr.length = Math.max(keep, 1);
    } else arr[i]!++;
    kept = arr.join('');
  }
  if (kept === '') return { digits: '0', dp: 1 };
  return { digits: kept, dp };
}

/** Digits of |v| rounded to `n` significant digits (n >= 1). */
function precDigits(v: number, n: number): { digits: string; dp: number } {
  if (v === 0) return { digits: '0'.repeat(n), dp: 1 };
  const r = roundDigits(exactDigits(v), n);
  return { digits: r.digits.padEnd(n, '0'), dp: r.dp };
}

function fmtE(neg: boolean, digits: string, dp: number, prec: number, ch: string): string {
  let s = neg ? '-' : '';
  s += digits[0] ?? '0';
  if (prec > 0) s += '.' + digits.slice(1, 1 + prec).padEnd(prec, '0');
  const exp = digits === '0' || /^0+$/.test(digits) ? 0 : dp - 1;
  const ae = Math.abs(exp);
  return s + ch + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + ae;
}

function fmtF(neg: boolean, digits: string, dp: number, prec: number): string {
  let s = neg ? '-' : '';
  if (dp > 0) s += digits.slice(0, dp).padEnd(dp, '0');
  else s += '0';
  if (prec > 0) {
    let frac = '';
    for (let i = 0; i < prec; i++) {
      const j = dp + i;
      frac += j < 0 || j >= digits.length ? '0' : digits[j]!;
    }
    s += '.' + frac;
  }
  return s;
}

/** Digits of |v| with exactly `prec` digits after the point ('f'), half to even on exact ties. */
function fixedDigits(v: number, prec: number): { digits: string; dp: number } {
  if (v === 0) return { digits: '0', dp: 1 };
  const d = exactDigits(v);
  const keep = d.dp + prec;
  if (keep <= 0) {
    // Rounds to 0 or to one unit in the last place.
    const half = keep === 0 && (d.digits.charCodeAt(0) - 48 > 5 || (d.digits[0] === '5' && /[1-9]/.test(d.digits.slice(1))));
    return half ? { digits: '1', dp: 1 - prec } : { digits: '0', dp: 1 };
  }
  return roundDigits(d, keep);
}

/** strconv.FormatFloat(v, fmt, prec, 64). */
export function formatFloat(v: number, fmt: string, prec: number, bits: 32 | 64 = 64, sharp = false): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (bits === 32) v = Math.fround(v);
  const neg = v < 0 || Object.is(v, -0);
  switch (fmt) {
    case 'e':
    case 'E': {
      const d = prec < 0 ? shortestDigits(v) : precDigits(v, prec + 1);
      return fmtE(neg, d.digits, d.dp, prec < 0 ? d.digits.length - 1 : prec, fmt);
    }
    case 'f': {
      if (prec < 0) {
        const d = shortestDigits(v);
        return fmtF(neg, d.digits, d.dp, Math.max(d.digits.length - d.dp, 0));
      }
      const d = fixedDigits(v, prec);
      return fmtF(neg, d.digits, d.dp, prec);
    }
    case 'g':
    case 'G': {
      let eprec = prec;
      const shortest = prec < 0;
      let d: { digits: string; dp: number };
      if (shortest) d = shortestDigits(v);
      else {
        if (prec === 0) prec = 1;
        d = precDigits(v, prec);
        eprec = prec;
      }
      // %#g keeps its trailing zeros.
      if (!shortest && !sharp) d = { digits: d.digits.replace(/0+$/, '') || '0', dp: d.dp };
      if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
      if (shortest) eprec = 6;
      const exp = d.dp - 1;
      if (v !== 0 && (exp < -4 || exp >= eprec)) {
        const p = (shortest ? d.digits.length : Math.min(prec, d.digits.length)) - 1;
        return fmtE(neg, d.digits, d.dp, Math.max(p, 0), fmt === 'g' ? 'e' : 'E');
      }
      if (v === 0) return (neg ? '-0' : '0') + (sharp && !shortest && prec > 1 ? '.' + '0'.repeat(prec - 1) : '');
      return fmtF(neg, d.digits, d.dp, Math.max(d.digits.length - d.dp, 0));
    }
    case 'b':
    case 'x':
    case 'X':
      // Rarely used; %b and %x of floats print Go's forms only approximately.
      return (neg ? '-' : '') + Math.abs(v).toString(fmt === 'b' ? 2 : 16);
  }
  return '%' + fmt;
}

// ---- the printer ----

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

const noFlags = (): Flags => ({ plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: 0, widPresent: false, prec: 0, precPresent: false });

class Printer {
  out: string[] = [];
  size = 0;
  f: Flags = noFlags();
  readonly limit: number;
  constructor(readonly budget: TemplateBudget | undefined) {
    this.limit = TEMPLATE_LIMITS.bytes;
  }

  /** Charges `n` bytes before they are built. */
  charge(n: number): void {
    if (this.budget) this.budget.produce(n);
    else if (this.size + n > this.limit) throw new EvalError(`fmt: the result would be over ${this.limit} bytes`);
    this.size += n;
  }

  /** Fails unless `n` more bytes fit (for what is built before its final size is known). */
  reserve(n: number): void {
    if (this.budget) this.budget.reserve(n);
    else if (this.size + n > this.limit) throw new EvalError(`fmt: the result would be over ${this.limit} bytes`);
  }

  write(s: string): void {
    if (!s) return;
    this.charge(s.length);
    this.out.push(s);
  }

  padding(n: number): void {
    if (n <= 0) return;
    this.charge(n);
    this.out.push((this.f.zero ? '0' : ' ').repeat(n));
  }

  /** fmt.pad: s with width padding (width counted in runes). */
  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) return this.write(s);
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) {
      this.padding(width);
      this.write(s);
    } else {
      this.write(s);
      const z = this.f.zero;
      this.f.zero = false;
      this.padding(width);
      this.f.zero = z;
    }
  }

  /** Truncates to the precision in runes. */
  truncate(s: string): string {
    if (!this.f.precPresent) return s;
    let n = this.f.prec;
    for (let i = 0; i < s.length; ) {
      if (n-- <= 0) return s.slice(0, i);
      i += decodeRune(s, i)[1];
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.f.sharp && canBackquote(s)) return this.pad('`' + s + '`');
    this.reserve(s.length * 4 + 2); // quoting at most 4x per byte (\xNN; \UXXXXXXXX for 4 bytes)
    this.pad(goQuote(s, this.f.plus));
  }

  fmtSbx(b: string, upper: boolean): void {
    let length = b.length;
    if (this.f.precPresent && this.f.prec < length) length = this.f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.f.space) {
        if (this.f.sharp) width *= 2;
        width += length - 1;
      } else if (this.f.sharp) width += 2;
    } else {
      if (this.f.widPresent) this.padding(this.f.wid);
      return;
    }
    if (this.f.widPresent && this.f.wid > width && !this.f.minus) this.padding(this.f.wid - width);
    this.charge(width);
    const x = upper ? 'X' : 'x';
    const parts: string[] = [];
    if (this.f.sharp) parts.push('0' + x);
    for (let i = 0; i < length; i++) {
      if (this.f.space && i > 0) {
        parts.push(' ');
        if (this.f.sharp) parts.push('0' + x);
      }
      const h = hex(b.charCodeAt(i), 2);
      parts.push(upper ? h.toUpperCase() : h);
    }
    this.out.push(parts.join(''));
    if (this.f.widPresent && this.f.wid > width && this.f.minus) {
      const z = this.f.zero;
      this.f.zero = false;
      this.padding(this.f.wid - width);
      this.f.zero = z;
    }
  }

  fmtInteger(v: bigint, base: number, verb: string, upper: boolean): void {
    const f = this.f;
    const negative = v < 0n;
    let u = negative ? -v : v;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        const z = f.zero;
        f.zero = false;
        this.padding(f.wid);
        f.zero = z;
        return;
      }
    } else if (f.zero && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    this.reserve(Math.max(prec, 0));
    let digits = u.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (prec > digits.length) digits = '0'.repeat(prec - digits.length) + digits;
    if (f.sharp) {
      if (base === 2) digits = '0b' + digits;
      else if (base === 8) {
        if (digits[0] !== '0') digits = '0' + digits;
      } else if (base === 16) digits = (upper ? '0X' : '0x') + digits;
    }
    if (verb === 'O') digits = '0o' + digits;
    if (negative) digits = '-' + digits;
    else if (f.plus) digits = '+' + digits;
    else if (f.space) digits = ' ' + digits;
    u = 0n;
    const z = f.zero;
    f.zero = false;
    this.pad(digits);
    f.zero = z;
  }

  fmtC(v: bigint): void {
    const r = v < 0n || v > 0x10ffffn ? 0xfffd : Number(v);
    this.pad(encodeRune(r));
  }

  fmtQc(v: bigint): void {
    const r = v < 0n || v > 0x10ffffn ? 0xfffd : Number(v);
    this.pad(goQuoteRune(r, this.f.plus));
  }

  fmtUnicode(v: bigint): void {
    let s = 'U+' + (v < 0n ? (v + (1n << 64n)) : v).toString(16).toUpperCase();
    const prec = this.f.precPresent && this.f.prec > 4 ? this.f.prec : 4;
    const digits = s.slice(2);
    if (digits.length < prec) s = 'U+' + '0'.repeat(prec - digits.length) + digits;
    if (this.f.sharp && v >= 0n && v <= 0x10ffffn && isPrint(Number(v))) s += " '" + encodeRune(Number(v)) + "'";
    const z = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = z;
  }

  fmtFloat(v: number, bits: 32 | 64, verb: string, prec: number): void {
    const f = this.f;
    if (f.precPresent) prec = f.prec;
    // %.999999f builds that many digits: charged before they are built.
    if (prec > 0) {
      this.reserve(prec + 32);
      // Building (and, for %g, stripping) that many digits is work even when little is kept.
      this.budget?.scan(prec);
    }
    let num = formatFloat(v, verb === 'F' ? 'f' : verb, prec, bits, f.sharp && (verb === 'g' || verb === 'G'));
    if (f.sharp && prec < 0 && (verb === 'g' || verb === 'G') && !/Inf|NaN/.test(num)) {
      // %#g with the shortest digits keeps at least 6 significant digits (zeros added), as Go's fmt.
      const eAt = num.search(/[eE]/);
      let mant = eAt >= 0 ? num.slice(0, eAt) : num;
      const tail = eAt >= 0 ? num.slice(eAt) : '';
      const sig = mant.replace(/^[-+]?/, '').replace('.', '').replace(/^0+(?=\d)/, '');
      const n = sig === '0' || /^0*$/.test(sig) ? 1 : sig.replace(/^0+/, '').length;
      if (n < 6) mant = (mant.includes('.') ? mant : mant + '.') + '0'.repeat(6 - n);
      num = mant + tail;
    }
    if (f.sharp && verb !== 'b' && !/Inf|NaN/.test(num) && !num.includes('.')) {
      // %#e, %#f, %#g always have a decimal point.
      const eAt = num.search(/[eE]/);
      num = eAt >= 0 ? num.slice(0, eAt) + '.' + num.slice(eAt) : num + '.';
    }
    let sign = '+';
    if (num[0] === '-' || num[0] === '+') {
      sign = num[0];
      num = num.slice(1);
    }
    if (f.space && sign === '+' && !f.plus) sign = ' ';
    if (num === 'Inf' || num === 'NaN') {
      const z = f.zero;
      f.zero = false;
      if (num === 'NaN' && !f.space && !f.plus) this.pad(num);
      else this.pad(sign + num);
      f.zero = z;
      return;
    }
    if (f.plus || sign !== '+') {
      const full = sign + num;
      if (f.zero && f.widPresent && f.wid > full.length) {
        this.write(sign);
        this.padding(f.wid - full.length);
        this.write(num);
        return;
      }
      this.pad(full);
      return;
    }
    this.pad(num);
  }

  badVerb(verb: string, v: GoValue | undefined): void {
    this.write('%!' + verb + '(');
    if (v === undefined || v === null || v === MISSING) this.write('<nil>');
    else {
      this.write(typeName(v) + '=');
      this.printValue(v, 'v', 0);
    }
    this.write(')');
  }

  printValue(v: GoValue, verb: string, depth: number): void {
    if (depth > 100) throw new EvalError('fmt: the value is nested too deeply to print');
    const f = this.f;
    if (verb === 'T') return this.fmtS(typeName(v));
    if (v === MISSING) {
      if (verb === 'v' || verb === 's') return this.pad('<no value>');
      return this.badVerb(verb, null);
    }
    if (v === null) {
      if (verb === 'v') return this.pad(depth > 0 && f.sharpV ? 'interface {}(nil)' : '<nil>');
      return this.badVerb(verb, null);
    }
    if (typeof v === 'boolean') {
      if (verb === 't' || verb === 'v') return this.pad(v ? 'true' : 'false');
      return this.badVerb(verb, v);
    }
    if (typeof v === 'string') {
      switch (verb) {
        case 'v': return f.sharpV ? this.fmtQ(v) : this.fmtS(v);
        case 's': return this.fmtS(v);
        case 'x': return this.fmtSbx(v, false);
        case 'X': return this.fmtSbx(v, true);
        case 'q': return this.fmtQ(v);
      }
      return this.badVerb(verb, v);
    }
    if (v instanceof GoInt) {
      const unsigned = v.type.startsWith('u');
      switch (verb) {
        case 'v':
          if (f.sharpV && unsigned) {
            const s = f.sharp;
            f.sharp = true;
            this.fmtInteger(v.v, 16, verb, false);
            f.sharp = s;
            return;
          }
          return this.fmtInteger(v.v, 10, verb, false);
        case 'd': return this.fmtInteger(v.v, 10, verb, false);
        case 'b': return this.fmtInteger(v.v, 2, verb, false);
        case 'o': case 'O': return this.fmtInteger(v.v, 8, verb, false);
        case 'x': return this.fmtInteger(v.v, 16, verb, false);
        case 'X': return this.fmtInteger(v.v, 16, verb, true);
        case 'c': return this.fmtC(v.v);
        case 'q': return this.fmtQc(v.v);
        case 'U': return this.fmtUnicode(v.v);
      }
      return this.badVerb(verb, v);
    }
    if (v instanceof GoFloat) {
      const bits = v.type === 'float32' ? 32 : 64;
      switch (verb) {
        case 'v': return this.fmtFloat(v.v, bits, 'g', -1);
        case 'b': case 'g': case 'G': case 'x': case 'X': return this.fmtFloat(v.v, bits, verb, -1);
        case 'f': case 'e': case 'E': case 'F': return this.fmtFloat(v.v, bits, verb, 6);
      }
      return this.badVerb(verb, v);
    }
    if (v instanceof GoBytes) {
      const s = v.bytes.toString('latin1');
      if (verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') {
        if (verb === 's') return this.fmtS(s);
        if (verb === 'q') return this.fmtQ(s);
        return this.fmtSbx(s, verb === 'X');
      }
      if (f.sharpV) {
        this.write('[]byte{');
        for (let i = 0; i < v.bytes.length; i++) {
          if (i) this.write(', ');
          this.write('0x' + v.bytes[i]!.toString(16));
        }
        return this.write('}');
      }
      this.write('[');
      for (let i = 0; i < v.bytes.length; i++) {
        if (i) this.write(' ');
        this.printValue(new GoInt(BigInt(v.bytes[i]!), 'uint8'), verb, depth + 1);
      }
      return this.write(']');
    }
    if (v instanceof GoSlice) {
      if (f.sharpV) {
        this.write(v.type + '{');
        v.items.forEach((e, i) => {
          if (i) this.write(', ');
          this.printValue(e, verb, depth + 1);
        });
        return this.write('}');
      }
      this.write('[');
      v.items.forEach((e, i) => {
        if (i) this.write(' ');
        this.printValue(e, verb, depth + 1);
      });
      return this.write(']');
    }
    if (v instanceof GoMap) {
      const keys = [...v.entries.keys()].sort(compareBytes);
      if (f.sharpV) {
        this.write(v.type + '{');
        keys.forEach((k, i) => {
          if (i) this.write(', ');
          this.printValue(k, verb, depth + 1);
          this.write(':');
          this.printValue(v.entries.get(k)!, verb, depth + 1);
        });
        return this.write('}');
      }
      this.write('map[');
      keys.forEach((k, i) => {
        if (i) this.write(' ');
        this.printValue(k, verb, depth + 1);
        this.write(':');
        this.printValue(v.entries.get(k)!, verb, depth + 1);
      });
      return this.write(']');
    }
    if (v instanceof GoObject) {
      if (verb === 'v' || verb === 's') return this.fmtS(v.format());
      if (verb === 'q') return this.fmtQ(v.format());
      return this.badVerb(verb, v);
    }
    return this.badVerb(verb, v);
  }

  result(): GoString {
    return this.out.join('');
  }
}

/** Sorts byte strings as Go compares strings (bytewise; latin1 code units sort the same way). */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** fmt's %v of one value. */
export function formatValue(v: GoValue, budget?: TemplateBudget): GoString {
  const p = new Printer(budget);
  p.printValue(v, 'v', 0);
  return p.result();
}

const isStringArg = (v: GoValue) => typeof v === 'string';

/** fmt.Sprint: operands printed with %v, a space between operands when neither is a string. */
export function sprint(args: readonly GoValue[], budget?: TemplateBudget): GoString {
  const p = new Printer(budget);
  args.forEach((a, i) => {
    if (i > 0 && !isStringArg(a) && !isStringArg(args[i - 1]!)) p.write(' ');
    p.printValue(a, 'v', 0);
  });
  return p.result();
}

/** fmt.Sprintln: operands printed with %v, always separated by spaces, and a newline. */
export function sprintln(args: readonly GoValue[], budget?: TemplateBudget): GoString {
  const p = new Printer(budget);
  args.forEach((a, i) => {
    if (i > 0) p.write(' ');
    p.printValue(a, 'v', 0);
  });
  p.write('\n');
  return p.result();
}

function tooLarge(n: number): boolean {
  return n > 1e6 || n < -1e6;
}

/** fmt.Sprintf. */
export function sprintf(format: GoString, args: readonly GoValue[], budget?: TemplateBudget): GoString {
  const p = new Printer(budget);
  budget?.scan(format.length);
  const end = format.length;
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;

  const parsenum = (i: number): [number, boolean, number] => {
    let num = 0;
    let isnum = false;
    let j = i;
    for (; j < end && format.charCodeAt(j) >= 48 && format.charCodeAt(j) <= 57; j++) {
      if (tooLarge(num)) return [0, false, end];
      num = num * 10 + (format.charCodeAt(j) - 48);
      isnum = true;
    }
    return [num, isnum, j];
  };
  const argNumber = (i: number): number => {
    // "[n]": returns the new position; sets argNum.
    if (i >= end || format[i] !== '[') return i;
    reordered = true;
    for (let j = i + 1; j < end; j++) {
      if (format[j] === ']') {
        const [w, ok, newi] = parsenum(i + 1);
        if (!ok || newi !== j) {
          goodArgNum = false;
          return j + 1;
        }
        if (w - 1 >= 0 && w - 1 < args.length) {
          argNum = w - 1;
          return j + 1;
        }
        goodArgNum = false;
        return j + 1;
      }
    }
    goodArgNum = false;
    return i + 1;
  };
  const intFromArg = (): [number, boolean] => {
    if (argNum >= args.length) return [0, false];
    const a = args[argNum++]!;
    if (a instanceof GoInt) {
      const n = Number(a.v);
      if (tooLarge(n)) return [0, false];
      return [n, true];
    }
    return [0, false];
  };

  let i = 0;
  while (i < end) {
    budget?.step();
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.write(format.slice(lasti, i));
    if (i >= end) break;
    i++; // skip %
    p.f = noFlags();
    const f = p.f;
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#': f.sharp = true; break;
        case '0': f.zero = !f.minus; break;
        case '+': f.plus = true; break;
        case '-': f.minus = true; f.zero = false; break;
        case ' ': f.space = true; break;
        default: break flags;
      }
    }
    i = argNumber(i);
    let afterIndex = i > 0 && format[i - 1] === ']' && reordered;
    if (i < end && format[i] === '*') {
      i++;
      [f.wid, f.widPresent] = intFromArg();
      if (!f.widPresent) p.write('%!(BADWIDTH)');
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      afterIndex = false;
    } else {
      [f.wid, f.widPresent, i] = parsenum(i);
      if (afterIndex && f.widPresent) goodArgNum = false;
    }
    if (i + 1 <= end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      i = argNumber(i);
      afterIndex = format[i - 1] === ']' && reordered && i > 0;
      if (i < end && format[i] === '*') {
        i++;
        [f.prec, f.precPresent] = intFromArg();
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!f.precPresent) p.write('%!(BADPREC)');
        afterIndex = false;
      } else {
        [f.prec, f.precPresent, i] = parsenum(i);
        if (!f.precPresent) {
          f.prec = 0;
          f.precPresent = true;
        }
      }
    }
    if (!afterIndex) i = argNumber(i);
    if (i >= end) {
      p.write('%!(NOVERB)');
      break;
    }
    const [verbRune, size] = decodeRune(format, i);
    const verb = format.slice(i, i + size);
    i += size;
    if (verb === '%') {
      p.write('%');
      continue;
    }
    if (!goodArgNum) {
      p.write('%!' + verb + '(BADINDEX)');
      continue;
    }
    if (argNum >= args.length) {
      p.write('%!' + verb + '(MISSING)');
      continue;
    }
    void verbRune;
    if (verb === 'v') {
      f.sharpV = f.sharp;
      f.sharp = false;
      f.plusV = f.plus;
      f.plus = false;
    }
    const a = args[argNum++]!;
    if (verb === 'p') p.badVerb('p', a);
    else if ((a === null || a === MISSING) && verb !== 'T' && verb !== 'v') p.badVerb(verb, null);
    else if ((a === null || a === MISSING) && verb === 'T') p.fmtS('<nil>');
    else p.printValue(a, verb, 0);
  }
  if (!reordered && argNum < args.length) {
    p.f = noFlags();
    p.write('%!(EXTRA ');
    args.slice(argNum).forEach((a, k) => {
      if (k > 0) p.write(', ');
      if (a === null || a === MISSING) p.write('<nil>');
      else {
        p.write(typeName(a) + '=');
        p.printValue(a, 'v', 0);
      }
    });
    p.write(')');
  }
  return p.result();
}
