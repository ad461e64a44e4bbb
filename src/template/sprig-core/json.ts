/**
 * Sprig's toJson/toPrettyJson/toRawJson/fromJson (and must*) with Go's encoding/json:
 * sorted map keys, HTML-safe escapes (<, >, & unless raw), U+2028/U+2029 escaped, invalid
 * UTF-8 as U+FFFD, []byte as base64, floats in Go's JSON format, NaN/Inf and cycles as
 * errors; decoding gives map[string]interface{}, []interface{}, float64, string, bool, nil
 * and Go's syntax error texts. Every byte written and element visited is charged.
 */
import { type FuncContext, FuncError, type FuncSpec, GoBytes, GoFloat, GoInt, GoMap, GoObject, GoSlice, type GoString, type GoValue, MISSING } from '../values.js';
import { asStr, compareBytes, decodeRune, formatFloatJson, isNilSlice, parseFloatGo, typeName } from './go.js';

const HEX = '0123456789abcdef';

function encodeString(s: GoString, html: boolean): string {
  const buf = Buffer.from(s, 'latin1');
  let out = '"';
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      if (b >= 0x20 && b !== 0x22 && b !== 0x5c && (!html || (b !== 0x3c && b !== 0x3e && b !== 0x26))) {
        out += String.fromCharCode(b);
        continue;
      }
      if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
      else if (b === 10) out += '\\n';
      else if (b === 13) out += '\\r';
      else if (b === 9) out += '\\t';
      else out += '\\u00' + HEX[b >> 4] + HEX[b & 15];
      continue;
    }
    const r = decodeRune(buf, i);
    if (r.rune === 0xfffd && r.size === 1) {
      out += '\\ufffd';
      i++;
      continue;
    }
    if (r.rune === 0x2028 || r.rune === 0x2029) {
      out += '\\u202' + HEX[r.rune & 15];
      i += r.size;
      continue;
    }
    out += s.slice(i, i + r.size);
    i += r.size;
  }
  return out + '"';
}

/** The exact length encodeString will produce, counted before it builds anything. */
function encodedLength(s: GoString, html: boolean): number {
  let n = 2;
  const buf = Buffer.from(s, 'latin1');
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      if (b >= 0x20 && b !== 0x22 && b !== 0x5c && (!html || (b !== 0x3c && b !== 0x3e && b !== 0x26))) n += 1;
      else if (b === 0x22 || b === 0x5c || b === 10 || b === 13 || b === 9) n += 2;
      else n += 6;
      continue;
    }
    const r = decodeRune(buf, i);
    // An invalid byte becomes \ufffd, U+2028/2029 their escapes, any other rune its own bytes.
    n += (r.rune === 0xfffd && r.size === 1) || r.rune === 0x2028 || r.rune === 0x2029 ? 6 : r.size;
    i += r.size;
  }
  return n;
}

interface Enc {
  ctx: FuncContext;
  html: boolean;
  indent: boolean;
  stack: Set<object>;
}

function write(e: Enc, parts: string[], s: string): void {
  e.ctx.budget.produce(s.length);
  parts.push(s);
}

function encode(e: Enc, v: GoValue, parts: string[], depth: number): void {
  e.ctx.budget.step();
  if (depth > MAX_JSON_DEPTH) throw new FuncError(`json: unsupported value: nested deeper than ${MAX_JSON_DEPTH}`);
  if (v === null || v === MISSING) return write(e, parts, 'null');
  if (typeof v === 'string') {
    e.ctx.budget.scan(v.length);
    e.ctx.budget.reserve(encodedLength(v, e.html));
    return write(e, parts, encodeString(v, e.html));
  }
  if (typeof v === 'boolean') return write(e, parts, v ? 'true' : 'false');
  if (v instanceof GoInt) return write(e, parts, v.v.toString());
  if (v instanceof GoFloat) {
    if (!Number.isFinite(v.v)) throw new FuncError(`json: unsupported value: ${Number.isNaN(v.v) ? 'NaN' : v.v > 0 ? '+Inf' : '-Inf'}`);
    return write(e, parts, formatFloatJson(v.v, v.type === 'float32' ? 32 : 64));
  }
  if (v instanceof GoBytes) return write(e, parts, '"' + v.bytes.toString('base64') + '"');
  const nl = (d: number) => (e.indent ? '\n' + '  '.repeat(d) : '');
  if (v instanceof GoSlice) {
    if (isNilSlice(v)) return write(e, parts, 'null');
    if (v.items.length === 0) return write(e, parts, '[]');
    if (e.stack.has(v)) throw new FuncError(`json: unsupported value: encountered a cycle via ${v.type}`);
    e.stack.add(v);
    write(e, parts, '[');
    v.items.forEach((x, k) => {
      write(e, parts, (k ? ',' : '') + nl(depth + 1));
      encode(e, x, parts, depth + 1);
    });
    write(e, parts, nl(depth) + ']');
    e.stack.delete(v);
    return;
  }
  if (v instanceof GoMap) {
    if (v.entries.size === 0) return write(e, parts, '{}');
    if (e.stack.has(v)) throw new FuncError(`json: unsupported value: encountered a cycle via ${v.type}`);
    e.stack.add(v);
    write(e, parts, '{');
    const keys = [...v.entries.keys()].sort(compareBytes);
    e.ctx.budget.step(Math.ceil(keys.length / 8) || 1);
    keys.forEach((k, n) => {
      write(e, parts, (n ? ',' : '') + nl(depth + 1));
      e.ctx.budget.scan(k.length);
      e.ctx.budget.reserve(encodedLength(k, e.html) + 2);
      write(e, parts, encodeString(k, e.html) + (e.indent ? ': ' : ':'));
      encode(e, v.entries.get(k)!, parts, depth + 1);
    });
    write(e, parts, nl(depth) + '}');
    e.stack.delete(v);
    return;
  }
  if (v instanceof GoObject) return write(e, parts, encodeObject(e, v));
}

/** Go types with their own JSON: time.Time (RFC 3339 with nanoseconds), time.Duration and time.Month/Weekday (integers), semver.Version (its String). */
function encodeObject(e: Enc, v: GoObject): string {
  const o = v as GoObject & { ns?: unknown; v?: unknown };
  if (v.type === 'time.Time') {
    const year = v.field('Year', [], e.ctx);
    if (year instanceof GoInt && (year.v < 0n || year.v > 9999n)) throw new FuncError('json: error calling MarshalJSON for type time.Time: Time.MarshalJSON: year outside of range [0,9999]');
    const s = v.field('Format', ['2006-01-02T15:04:05.999999999Z07:00'], e.ctx);
    return encodeString(typeof s === 'string' ? s : v.format(), e.html);
  }
  if (v.type === 'time.Duration' && typeof o.ns === 'bigint') return o.ns.toString();
  if ((v.type === 'time.Month' || v.type === 'time.Weekday') && typeof o.v === 'number') return String(o.v);
  const f = v.field('MarshalJSONText', [], e.ctx);
  return encodeString(typeof f === 'string' ? f : v.format(), e.html);
}

function toJson(ctx: FuncContext, v: GoValue, html: boolean, indent: boolean): GoString {
  const parts: string[] = [];
  encode({ ctx, html, indent, stack: new Set() }, v, parts, 0);
  return parts.join('');
}

// ---- decoding ----

class Syntax extends Error {}

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const code = c.charCodeAt(0);
  // strconv.Quote(string(rune(c))): the byte read as a Latin-1 rune.
  const q = JSON.stringify(String.fromCharCode(code));
  if (code < 0x20 || code === 0x7f) return "'" + goEsc(code) + "'";
  if (code >= 0x80 && code < 0xa0) return "'\\u00" + HEX[code >> 4] + HEX[code & 15] + "'";
  if (code === 0xad) return "'\\u00ad'";
  return "'" + Buffer.from(q.slice(1, -1), 'utf8').toString('latin1') + "'";
}
function goEsc(code: number): string {
  const m: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
  return m[code] ?? '\\x' + HEX[code >> 4] + HEX[code & 15];
}

class Decoder {
  i = 0;
  constructor(
    readonly s: string,
    readonly ctx: FuncContext,
  ) {}
  err(ctxWord: string): never {
    if (this.i >= this.s.length) {
      // Go's checkValid ends the input with a space: an error only where a space cannot go.
      if (/literal (true|false|null)|numeric literal|escape/.test(ctxWord)) throw new Syntax(`invalid character ' ' ${ctxWord}`);
      throw new Syntax('unexpected end of JSON input');
    }
    throw new Syntax(`invalid character ${quoteChar(this.s[this.i]!)} ${ctxWord}`);
  }
  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }
  value(depth: number): GoValue {
    this.ctx.budget.step();
    if (depth > 10000) throw new Syntax('exceeded max depth');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [lit, val] of [['true', true], ['false', false], ['null', null]] as const) {
      if (c === lit[0]) {
        for (let k = 1; k < lit.length; k++) {
          this.i++;
          if (this.s[this.i] !== lit[k]) this.err(`in literal ${lit} (expecting '${lit[k]}')`);
        }
        this.i++;
        return val;
      }
    }
    return this.err('looking for beginning of value');
  }
  object(depth: number): GoMap {
    this.i++;
    const m = new Map<GoString, GoValue>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return new GoMap(m);
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.err('looking for beginning of object key string');
      const k = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.err('after object key');
      this.i++;
      this.ctx.budget.produce(32);
      m.set(k, this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === '}') {
        this.i++;
        return new GoMap(m);
      }
      this.err('after object key:value pair');
    }
  }
  array(depth: number): GoSlice {
    this.i++;
    const items: GoValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return new GoSlice(items);
    }
    for (;;) {
      this.ctx.budget.produce(16);
      items.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === ']') {
        this.i++;
        return new GoSlice(items);
      }
      this.err('after array element');
    }
  }
  string(): GoString {
    this.i++;
    let out = '';
    const s = this.s;
    for (;;) {
      if (this.i >= s.length) this.err('');
      const c = s[this.i]!;
      const code = c.charCodeAt(0);
      if (c === '"') {
        this.i++;
        return out;
      }
      if (code < 0x20) this.err('in string literal');
      if (c === '\\') {
        this.i++;
        const e = s[this.i];
        if (e === undefined) this.err('');
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e in simple) {
          out += simple[e]!;
          this.i++;
          continue;
        }
        if (e !== 'u') this.err('in string escape code');
        let cp = 0;
        for (let k = 0; k < 4; k++) {
          this.i++;
          const h = s[this.i];
          if (h === undefined) this.err('');
          if (!/[0-9a-fA-F]/.test(h)) this.err('in \\u hexadecimal character escape');
          cp = cp * 16 + parseInt(h, 16);
        }
        this.i++;
        // A surrogate pair in two escapes; a lone surrogate is U+FFFD.
        if (cp >= 0xd800 && cp < 0xdc00 && s[this.i] === '\\' && s[this.i + 1] === 'u' && /^[dD][c-fC-F][0-9a-fA-F]{2}$/.test(s.slice(this.i + 2, this.i + 6))) {
          const lo = parseInt(s.slice(this.i + 2, this.i + 6), 16);
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          this.i += 6;
        } else if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
        out += Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
        continue;
      }
      if (code < 0x80) {
        out += c;
        this.i++;
        continue;
      }
      const r = decodeRune(Buffer.from(s.slice(this.i, this.i + 4), 'latin1'), 0);
      out += r.rune === 0xfffd && r.size === 1 ? '\xef\xbf\xbd' : s.slice(this.i, this.i + r.size);
      this.i += r.size;
    }
  }
  number(): GoFloat {
    const s = this.s;
    const start = this.i;
    if (s[this.i] === '-') this.i++;
    const digit = () => this.i < s.length && s[this.i]! >= '0' && s[this.i]! <= '9';
    if (s[this.i] === '0') this.i++;
    else if (digit()) while (digit()) this.i++;
    else this.err('in numeric literal');
    if (s[this.i] === '.') {
      this.i++;
      if (!digit()) this.err('after decimal point in numeric literal');
      while (digit()) this.i++;
    }
    if (s[this.i] === 'e' || s[this.i] === 'E') {
      this.i++;
      if (s[this.i] === '+' || s[this.i] === '-') this.i++;
      if (!digit()) this.err('in exponent of numeric literal');
      while (digit()) this.i++;
    }
    const lit = s.slice(start, this.i);
    const f = parseFloatGo(lit);
    if (f === undefined) throw new Syntax(`json: cannot unmarshal number ${lit} into Go value of type float64`);
    return new GoFloat(f);
  }
}

/** Go's decoder allows 10000 levels; this one stops at 1000 (recursion on the JS stack), without recursing to find out. */
export const MAX_JSON_DEPTH = 1000;
function checkDepth(s: string): void {
  let depth = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (c === '"') {
      for (k++; k < s.length && s[k] !== '"'; k++) if (s[k] === '\\') k++;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_JSON_DEPTH) throw new Syntax(`invalid character '${c}' exceeded max depth`);
    } else if (c === ']' || c === '}') depth--;
  }
}

function fromJson(ctx: FuncContext, s: GoString): GoValue {
  ctx.budget.scan(s.length);
  ctx.budget.reserve(s.length * 2);
  const d = new Decoder(s, ctx);
  try {
    checkDepth(s);
    // Go's Unmarshal checks the whole input's syntax before decoding.
    const v = d.value(0);
    d.ws();
    if (d.i < s.length) d.err('after top-level value');
    return v;
  } catch (e) {
    if (e instanceof Syntax) throw new FuncError(e.message);
    throw e;
  }
}

const json1 = (html: boolean, indent: boolean, swallow: boolean): FuncSpec => ({
  params: ['interface {}'],
  fn: (ctx, [v]) => {
    try {
      return toJson(ctx, v ?? null, html, indent);
    } catch (e) {
      if (swallow && e instanceof FuncError) return '';
      throw e;
    }
  },
});

export const JSON_FUNCS: Record<string, FuncSpec> = {
  toJson: json1(true, false, true),
  mustToJson: json1(true, false, false),
  toPrettyJson: json1(true, true, true),
  mustToPrettyJson: json1(true, true, false),
  // toRawJson panics on an error (text/template reports it), mustToRawJson returns it: the same to a template.
  toRawJson: json1(false, false, false),
  mustToRawJson: json1(false, false, false),
  fromJson: {
    params: ['string'],
    fn: (ctx, [s]) => {
      try {
        return fromJson(ctx, asStr(s));
      } catch (e) {
        if (e instanceof FuncError) return null;
        throw e;
      }
    },
  },
  mustFromJson: { params: ['string'], fn: (ctx, [s]) => fromJson(ctx, asStr(s)) },
};

export { typeName };
