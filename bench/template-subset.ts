// The template subset this project rendered before the whole language (src/template.ts at 21cc88a), kept only as the baseline of bench/template.ts.
/**
 * The subset of Go text/template that SealedSecret `spec.template.data` uses in
 * practice, rendered byte-exactly over the decrypted values.
 *
 * Upstream renders each template.data value with text/template (plus Sprig
 * functions) over a map from each encryptedData key to its plaintext
 * (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go, Unseal).
 *
 * Supported:
 *   text, {{ pipeline }}, {{- and -}} whitespace trimming, {{/* comments *\/}}
 *   operands: .  .key  "string"  `raw string`  integers  true  false  ( pipeline )
 *   pipelines: a | b | c  (the left result becomes the last argument)
 *   functions: index  print  printf (%s %v %d %q %x %X %%)  len
 *              and from Sprig: upper lower trim trimPrefix trimSuffix quote squote
 *              b64enc b64dec replace default indent nindent
 * Semantics as in Go: `.missing` renders "<no value>", `index . "missing"` renders "".
 *
 * Not supported, and refused with an error that names the item: if/else/range/with/
 * define/template/block, variables ($x), method calls, and every other function.
 *
 * Two kinds of failure, because of the first rule (SECURITY.md: nothing that someone
 * without read access to the Secret can observe may depend on its values):
 * - ERR_TEMPLATE: found by reading the template alone (syntax, unknown functions,
 *   argument counts, literal argument types). Safe to report in status and Events.
 * - ERR_VALUE: anything that goes wrong while evaluating over the values
 *   (a value that is not base64, a result over the budget, a type that depends on
 *   `default`). Whether it happens can depend on the plaintext, so callers must
 *   report it only where Secret readers look (the controller: an annotation on the
 *   Secret), never in status, Events, metrics, logs or HTTP answers.
 * One TemplateBudget bounds the work of all the templates of one SealedSecret
 * (bytes produced by every step, and steps), enforced before each allocation.
 */
import { SealedSecretsError } from '../src/errors.js';

type Value = Buffer | number | boolean | typeof MAP | typeof MISSING;
const MAP = Symbol('map');
const MISSING = Symbol('missing');

type Node =
  | { t: 'dot' }
  | { t: 'field'; path: string[] }
  | { t: 'lit'; v: Value }
  | { t: 'ident'; name: string }
  | { t: 'pipe'; cmds: Node[][] };

type Part = { kind: 'text'; text: string } | { kind: 'action'; pipe: Node & { t: 'pipe' } };

/** A failure found by reading the template, without its values. */
class TemplateError extends Error {}
/** A failure while evaluating over the values: whether it happens may depend on them. */
class EvalError extends Error {}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil']);

function lexAction(src: string): string[] {
  const toks: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|' || c === '(' || c === ')') { toks.push(c); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      toks.push(src.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw string');
      toks.push(src.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < src.length && !/[\s|()"`]/.test(src[j]!)) j++;
    toks.push(src.slice(i, j));
    i = j;
  }
  return toks;
}

function unquote(tok: string): string {
  if (tok.startsWith('`')) return tok.slice(1, -1);
  let out = '';
  for (let i = 1; i < tok.length - 1; i++) {
    const c = tok[i]!;
    if (c !== '\\') { out += c; continue; }
    const n = tok[++i]!;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
    if (n in simple && n !== '0') out += simple[n];
    else if (n === 'x') { out += String.fromCharCode(parseInt(tok.slice(i + 1, i + 3), 16)); i += 2; }
    else if (n === 'u') { out += String.fromCodePoint(parseInt(tok.slice(i + 1, i + 5), 16)); i += 4; }
    else if (n === 'U') { out += String.fromCodePoint(parseInt(tok.slice(i + 1, i + 9), 16)); i += 8; }
    else throw new TemplateError(`unknown escape sequence \\${n}`);
  }
  return out;
}

function parsePipeline(toks: string[], pos: { i: number }, nested: boolean, depth = 0): Node & { t: 'pipe' } {
  if (depth > MAX_DEPTH) throw new TemplateError(`parentheses nested deeper than ${MAX_DEPTH}`);
  const cmds: Node[][] = [];
  let cmd: Node[] = [];
  while (pos.i < toks.length) {
    const tok = toks[pos.i++]!;
    if (tok === ')') {
      if (!nested) throw new TemplateError('unexpected )');
      pos.i--;
      break;
    }
    if (tok === '|') {
      if (cmd.length === 0) throw new TemplateError('missing command before |');
      cmds.push(cmd);
      cmd = [];
      continue;
    }
    if (tok === '(') {
      const inner = parsePipeline(toks, pos, true, depth + 1);
      if (toks[pos.i++] !== ')') throw new TemplateError('unclosed (');
      cmd.push(inner);
      continue;
    }
    cmd.push(parseOperand(tok));
  }
  if (cmd.length === 0) throw new TemplateError(cmds.length ? 'missing command after |' : 'empty action');
  cmds.push(cmd);
  return { t: 'pipe', cmds };
}

function parseOperand(tok: string): Node {
  if (tok === '.') return { t: 'dot' };
  if (tok.startsWith('.')) {
    const path = tok.slice(1).split('.');
    if (path.some((p) => !/^[\p{L}_][\p{L}\p{N}_]*$/u.test(p))) throw new TemplateError(`bad field name "${tok}"`);
    return { t: 'field', path };
  }
  if (tok.startsWith('"') || tok.startsWith('`')) return { t: 'lit', v: Buffer.from(unquote(tok), 'utf8') };
  if (/^-?\d+$/.test(tok)) return { t: 'lit', v: Number(tok) };
  if (tok === 'true' || tok === 'false') return { t: 'lit', v: tok === 'true' };
  if (tok.startsWith('$')) throw new TemplateError(`variables (${tok}) are not supported`);
  if (KEYWORDS.has(tok)) throw new TemplateError(`"${tok}" is not supported; only expressions such as {{ .key }} or {{ index . "key" }}`);
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(tok)) {
    // Own properties only: Object.prototype names (constructor, __proto__) are not functions.
    if (!Object.hasOwn(FUNCS, tok)) throw new TemplateError(`function "${tok}" is not supported`);
    return { t: 'ident', name: tok };
  }
  throw new TemplateError(`unexpected "${tok}"`);
}

/** Go's text/template trims these (unicode.IsSpace on ASCII); done by hand: a regex on a long run is quadratic. */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
function trimLeft(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return s.slice(i);
}
function trimRight(s: string): string {
  let j = s.length;
  while (j > 0 && isSpace(s.charCodeAt(j - 1))) j--;
  return s.slice(0, j);
}

/** Limits that keep a hostile template from exhausting memory or the stack. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
const MAX_DEPTH = 50;
const MAX_INDENT = 1024;

/** The index of the "}}" that closes an action starting at `from`, skipping quoted strings. */
function findClose(src: string, from: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) return -1;
      i = j + 1;
    } else if (c === '}' && src[i + 1] === '}') {
      return i;
    } else {
      i++;
    }
  }
  return -1;
}

/** Splits a template into text and actions, applying {{- -}} trimming; throws TemplateError. */
function parse(src: string, counter: ParseCounter): Part[] {
  const parts: Part[] = [];
  let i = 0;
  let trimNext = false;
  for (;;) {
    const open = src.indexOf('{{', i);
    if (open >= 0 && ++counter.actions > TEMPLATE_LIMITS.actions) throw new TemplateError(`the templates have more than ${TEMPLATE_LIMITS.actions} actions in all`);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = trimLeft(text);
    trimNext = false;
    if (open < 0) {
      if (text) parts.push({ kind: 'text', text });
      return parts;
    }
    let start = open + 2;
    if (src[start] === '-' && isSpace(src.charCodeAt(start + 1))) {
      text = trimRight(text);
      start += 2;
    }
    if (text) parts.push({ kind: 'text', text });
    let lead = 0;
    while (isSpace(src.charCodeAt(start + lead))) lead++;
    if (src.startsWith('/*', start + lead)) {
      const endComment = src.indexOf('*/', start + lead + 2);
      if (endComment < 0) throw new TemplateError('unclosed comment');
      const m = /^(\s+-)?\s*\}\}/.exec(src.slice(endComment + 2, endComment + 2 + 64));
      if (!m) throw new TemplateError('comment ends before closing delimiter');
      trimNext = m[1] !== undefined;
      i = endComment + 2 + m[0].length;
      continue;
    }
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError('unclosed action');
    let inner = src.slice(start, close);
    if (inner.length >= 2 && inner.endsWith('-') && isSpace(inner.charCodeAt(inner.length - 2))) {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    i = close + 2;
    const toks = lexAction(inner);
    const pos = { i: 0 };
    const pipe = parsePipeline(toks, pos, false);
    if (pos.i < toks.length) throw new TemplateError(`unexpected "${toks[pos.i]}"`);
    parts.push({ kind: 'action', pipe });
  }
}

type Data = ReadonlyMap<string, Buffer>;

/** replace() charges one step for this many matches it finds (a match costs less than an evaluation step). */
const OCCURRENCES_PER_STEP = 4;

/** Work allowed for rendering all the templates of one SealedSecret. */
export const TEMPLATE_LIMITS = {
  /** Bytes produced by every step together (text, function results, printed values). */
  bytes: 2 * 1024 * 1024,
  /** Operands evaluated and functions called (and matches found by replace). */
  steps: 20_000,
  /** Actions ({{ ... }}) in all the templates of one SealedSecret: bounds the parser's work. */
  actions: 10_000,
  /** Bytes read by every function together (trim, upper, replace, ... scan their input). */
  scanned: 4 * 1024 * 1024,
  /** Wall-clock time, a backstop for what the counts above miss (a loaded machine makes it fire early: still an ERR_VALUE). */
  ms: 250,
} as const;

/**
 * One budget for the whole rendering of a SealedSecret: every function charges what it
 * will produce before it allocates, so no template, however nested, builds more than
 * `maxBytes` in total or runs more than `maxSteps` steps.
 */
export class TemplateBudget {
  bytes = 0;
  steps = 0;
  scanned = 0;
  readonly #deadline: number;
  constructor(
    readonly maxBytes: number = TEMPLATE_LIMITS.bytes,
    readonly maxSteps: number = TEMPLATE_LIMITS.steps,
    readonly maxScanned: number = TEMPLATE_LIMITS.scanned,
    maxMs: number = TEMPLATE_LIMITS.ms,
  ) {
    this.#deadline = performance.now() + maxMs;
  }

  #clock(): void {
    if (performance.now() > this.#deadline) throw new EvalError('the templates take too long to render');
  }

  /** Charges `n` bytes about to be read by a function that scans its input. */
  scan(n: number): void {
    this.scanned += n;
    if (this.scanned > this.maxScanned) throw new EvalError(`the templates would read more than ${this.maxScanned} bytes in all`);
    if (n > 4096) this.#clock();
  }

  /** Fails unless `n` more bytes fit (for results whose exact size is known only once built). */
  reserve(n: number): void {
    if (this.bytes + n > this.maxBytes) throw new EvalError(`the templates would produce more than ${this.maxBytes} bytes in all`);
  }

  /** Charges `n` bytes about to be produced. */
  produce(n: number): void {
    this.reserve(n);
    this.bytes += n;
  }

  step(): void {
    if (++this.steps > this.maxSteps) throw new EvalError(`the templates take more than ${this.maxSteps} steps in all`);
    if ((this.steps & 255) === 0) this.#clock();
  }
}

interface Ctx {
  data: Data;
  budget: TemplateBudget;
  /** The first failure: evaluation goes on after it (see evalPipe), so how much work is done does not show where a value failed. */
  failed?: Error;
}

/** Records a failure and stands in an empty string for what failed. */
function failedWith(ctx: Ctx, e: unknown): Value {
  if (!(e instanceof EvalError || e instanceof RangeError)) throw e;
  ctx.failed ??= e;
  return Buffer.alloc(0);
}

const NO_VALUE = Buffer.from('<no value>');

function str(v: Value): string {
  return Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === MISSING ? '<no value>' : 'map[...]';
}

/** How a value prints, charged to the budget when printing allocates. */
function bytesOf(v: Value, ctx: Ctx): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v === MISSING) return NO_VALUE;
  if (v === MAP) {
    // Go prints a map as map[k1:v1 k2:v2] with sorted keys.
    const keys = [...ctx.data.keys()].sort();
    let size = 5;
    for (const k of keys) size += Buffer.byteLength(k) + 2 + ctx.data.get(k)!.length;
    ctx.budget.produce(size);
    const items = keys.flatMap((k, n) => [Buffer.from((n ? ' ' : '') + k + ':'), ctx.data.get(k)!]);
    return Buffer.concat([Buffer.from('map['), ...items, Buffer.from(']')]);
  }
  return Buffer.from(String(v));
}

function needString(v: Value, fn: string): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v === MISSING) return NO_VALUE;
  throw new EvalError(`${fn}: expected a string`);
}

function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A string built from `b`, at most `factor` times its size, charged as built. */
function grown(ctx: Ctx, b: Buffer, factor: number, build: (s: string) => string): Buffer {
  ctx.budget.scan(b.length);
  ctx.budget.reserve(b.length * factor);
  const out = Buffer.from(build(b.toString('utf8')));
  ctx.budget.produce(out.length);
  return out;
}

type Fn = (args: Value[], ctx: Ctx) => Value;

/** A function with what can be checked without values: its argument count and which arguments are strings. */
interface FnSpec {
  min: number;
  max: number;
  /** Argument positions that must be strings. */
  strings?: number[];
  /** Argument positions that must be integers. */
  ints?: number[];
  fn: Fn;
}

const fixed = (n: number, fn: Fn, types: Partial<FnSpec> = {}): FnSpec => ({ min: n, max: n, fn, ...types });
const variadic = (min: number, fn: Fn, types: Partial<FnSpec> = {}): FnSpec => ({ min, max: Infinity, fn, ...types });

function indent(width: Value, s: Buffer, ctx: Ctx, newline: boolean): Buffer {
  if (typeof width !== 'number') throw new EvalError('indent: the width must be a number');
  if (width < 0 || width > MAX_INDENT) throw new EvalError(`indent: width must be between 0 and ${MAX_INDENT}`);
  ctx.budget.scan(s.length);
  let lines = 1;
  for (let i = s.indexOf(10); i >= 0; i = s.indexOf(10, i + 1)) lines++;
  ctx.budget.produce(s.length + lines * width + (newline ? 1 : 0));
  const pad = ' '.repeat(width);
  return Buffer.from((newline ? '\n' : '') + pad + s.toString('latin1').split('\n').join('\n' + pad), 'latin1');
}

const FUNCS: Record<string, FnSpec> = {
  index: fixed(2, (args, ctx) => {
    if (args[0] !== MAP) throw new EvalError('index: only "index . \\"key\\"" is supported');
    const k = args[1]!;
    if (!Buffer.isBuffer(k)) throw new EvalError('index: the key must be a string');
    ctx.budget.scan(k.length);
    return ctx.data.get(k.toString('utf8')) ?? Buffer.alloc(0);
  }, { strings: [1] }),
  print: variadic(0, (args, ctx) => {
    const out: Buffer[] = [];
    args.forEach((a, n) => {
      // fmt.Sprint adds spaces between operands when neither side is a string.
      if (n > 0 && !Buffer.isBuffer(a) && !Buffer.isBuffer(args[n - 1]!)) out.push(Buffer.from(' '));
      out.push(bytesOf(a, ctx));
    });
    ctx.budget.produce(out.reduce((n, b) => n + b.length, 0));
    return Buffer.concat(out);
  }),
  printf: variadic(1, (args, ctx) => {
    const f = args[0];
    if (!Buffer.isBuffer(f)) throw new EvalError('printf: the first argument must be a format string');
    ctx.budget.scan(f.length);
    const rest = args.slice(1);
    const out: Buffer[] = [];
    const push = (b: Buffer) => {
      ctx.budget.produce(b.length);
      out.push(b);
    };
    let argi = 0;
    let from = 0;
    // Literal runs are slices of the format (a format is scanned once, never copied per character).
    for (let i = f.indexOf(0x25); i >= 0; i = f.indexOf(0x25, from)) {
      ctx.budget.step();
      push(f.subarray(from, i));
      const verb = i + 1 < f.length ? String.fromCharCode(f[i + 1]!) : undefined;
      from = i + 2;
      if (verb === '%') { push(Buffer.from('%')); continue; }
      if (argi >= rest.length) { push(Buffer.from(`%!${verb ?? ''}(MISSING)`)); continue; }
      const a = rest[argi++]!;
      switch (verb) {
        case 's': case 'v': push(bytesOf(a, ctx)); break;
        case 'd':
          if (typeof a !== 'number') throw new EvalError('printf: %d needs an integer');
          push(Buffer.from(String(a)));
          break;
        case 'q': push(grown(ctx, Buffer.from(str(a)), 6, goQuote)); break;
        case 'x': case 'X': {
          const b = typeof a === 'number' ? Buffer.from(a.toString(16)) : bytesOf(a, ctx);
          ctx.budget.scan(b.length);
          ctx.budget.produce(b.length * 2);
          const hex = typeof a === 'number' ? b.toString() : b.toString('hex');
          out.push(Buffer.from(verb === 'X' ? hex.toUpperCase() : hex));
          break;
        }
        // Fixed text: the format may come from the values, and this message reaches the Secret's annotation.
        default: throw new EvalError('printf: the format has a verb that is not supported (use %s %v %d %q %x %X %%)');
      }
    }
    push(f.subarray(Math.min(from, f.length)));
    if (argi < rest.length) push(Buffer.from(`%!(EXTRA ${rest.slice(argi).map(() => 'string').join(', ')})`));
    return Buffer.concat(out);
  }, { strings: [0] }),
  len: fixed(1, (args, ctx) => {
    const a = args[0]!;
    if (a === MAP) return ctx.data.size;
    return needString(a, 'len').length;
  }),
  upper: fixed(1, (a, ctx) => grown(ctx, needString(a[0]!, 'upper'), 3, (s) => s.toUpperCase()), { strings: [0] }),
  lower: fixed(1, (a, ctx) => grown(ctx, needString(a[0]!, 'lower'), 3, (s) => s.toLowerCase()), { strings: [0] }),
  trim: fixed(1, (a, ctx) => grown(ctx, needString(a[0]!, 'trim'), 3, (s) => s.trim()), { strings: [0] }),
  trimPrefix: fixed(2, (a, ctx) => {
    const [p, s] = [needString(a[0]!, 'trimPrefix'), needString(a[1]!, 'trimPrefix')];
    ctx.budget.scan(p.length);
    return s.subarray(0, p.length).equals(p) ? s.subarray(p.length) : s;
  }, { strings: [0, 1] }),
  trimSuffix: fixed(2, (a, ctx) => {
    const [p, s] = [needString(a[0]!, 'trimSuffix'), needString(a[1]!, 'trimSuffix')];
    ctx.budget.scan(p.length);
    return p.length <= s.length && s.subarray(s.length - p.length).equals(p) ? s.subarray(0, s.length - p.length) : s;
  }, { strings: [0, 1] }),
  quote: variadic(0, (a, ctx) => {
    for (const v of a) if (Buffer.isBuffer(v)) ctx.budget.scan(v.length);
    const parts = a.map(str);
    ctx.budget.reserve(parts.reduce((n, p) => n + Buffer.byteLength(p) * 6 + 3, 0));
    const out = Buffer.from(parts.map(goQuote).join(' '));
    ctx.budget.produce(out.length);
    return out;
  }),
  squote: variadic(0, (a, ctx) => {
    for (const v of a) if (Buffer.isBuffer(v)) ctx.budget.scan(v.length);
    const parts = a.map(str);
    ctx.budget.produce(parts.reduce((n, p) => n + Buffer.byteLength(p) + 3, 0));
    return Buffer.from(parts.map((p) => `'${p}'`).join(' '));
  }),
  b64enc: fixed(1, (a, ctx) => {
    const b = needString(a[0]!, 'b64enc');
    ctx.budget.scan(b.length);
    ctx.budget.produce(Math.ceil(b.length / 3) * 4);
    return Buffer.from(b.toString('base64'));
  }, { strings: [0] }),
  b64dec: fixed(1, (a, ctx) => {
    const raw = needString(a[0]!, 'b64dec');
    ctx.budget.scan(raw.length);
    const s = raw.toString('latin1');
    // Sprig returns the error text as the result; here a bad value is an error.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new EvalError('b64dec: illegal base64 data');
    ctx.budget.produce((s.length / 4) * 3);
    return Buffer.from(s, 'base64');
  }, { strings: [0] }),
  replace: fixed(3, (a, ctx) => {
    const budget = ctx.budget;
    // strings.Replace(s, old, new, -1) on bytes, as Go does; the result's size is known before it is built.
    const [from, to, s] = a.map((v) => needString(v, 'replace')) as [Buffer, Buffer, Buffer];
    if (from.length === 0) return s;
    // A search can compare up to |s| x |from| bytes (V8's indexOf does, for long needles that
    // mismatch late): charged as that, in 8-byte units, before searching.
    budget.scan(s.length * Math.ceil(from.length / 8) + from.length + to.length);
    // Counting costs CPU per occurrence, and the result's size grows with each: both are charged
    // as the count goes, so a value full of matches is stopped early instead of counted out.
    const at: number[] = [];
    const remaining = budget.maxBytes - budget.bytes;
    // latin1 maps bytes to chars one to one: String indexOf (much cheaper per call than Buffer's) finds byte offsets.
    const [hay, needle] = [s.toString('latin1'), from.toString('latin1')];
    for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) {
      at.push(i);
      if (at.length % OCCURRENCES_PER_STEP === 0) budget.step();
      if (s.length + at.length * (to.length - from.length) > remaining) budget.produce(remaining + 1);
    }
    const size = s.length + at.length * (to.length - from.length);
    budget.produce(size);
    const out = Buffer.allocUnsafe(size);
    let w = 0;
    let r = 0;
    for (const i of at) {
      w += s.copy(out, w, r, i);
      w += to.copy(out, w);
      r = i + from.length;
    }
    s.copy(out, w, r);
    return out;
  }, { strings: [0, 1, 2] }),
  default: fixed(2, (a) => {
    const [d, v] = a;
    const empty = v === MISSING || (Buffer.isBuffer(v) && v.length === 0) || v === 0 || v === false;
    return empty ? d! : v!;
  }),
  indent: fixed(2, (a, ctx) => indent(a[0]!, needString(a[1]!, 'indent'), ctx, false), { ints: [0], strings: [1] }),
  nindent: fixed(2, (a, ctx) => indent(a[0]!, needString(a[1]!, 'nindent'), ctx, true), { ints: [0], strings: [1] }),
};

/**
 * Checks what needs no values: argument counts, the types of literal and `.` arguments,
 * printf verbs in a literal format, field chains, and pipelines into non-functions.
 */
function checkPipe(p: Node & { t: 'pipe' }): void {
  p.cmds.forEach((cmd, ci) => {
    const [head, ...rest] = cmd;
    for (const a of rest) {
      if (a.t === 'pipe') checkPipe(a);
      // A function name as an argument is called with no arguments.
      if (a.t === 'ident' && FUNCS[a.name]!.min > 0) throw new TemplateError(`wrong number of args for ${a.name}: want ${FUNCS[a.name]!.min} got 0`);
    }
    if (head!.t === 'pipe') checkPipe(head!);
    if (head!.t === 'field' && head!.path.length > 1) throw new TemplateError(`can't evaluate field ${head!.path[1]} in type string`);
    for (const a of rest) if (a.t === 'field' && a.path.length > 1) throw new TemplateError(`can't evaluate field ${a.path[1]} in type string`);
    if (head!.t !== 'ident') {
      if (rest.length) throw new TemplateError("can't give arguments to a non-function");
      if (ci > 0) throw new TemplateError("can't pipe into a non-function");
      return;
    }
    const name = head!.name;
    const spec = FUNCS[name]!;
    const n = rest.length + (ci > 0 ? 1 : 0);
    if (n < spec.min || n > spec.max) {
      const want = spec.max === Infinity ? `at least ${spec.min}` : spec.min === spec.max ? String(spec.min) : `${spec.min}-${spec.max}`;
      throw new TemplateError(`wrong number of args for ${name}: want ${want} got ${n}`);
    }
    rest.forEach((a, i) => {
      const lit = a.t === 'lit' ? a.v : a.t === 'dot' ? MAP : undefined;
      if (lit === undefined) return;
      if (spec.strings?.includes(i) && !Buffer.isBuffer(lit)) throw new TemplateError(`${name}: argument ${i + 1} must be a string`);
      if (spec.ints?.includes(i) && typeof lit !== 'number') throw new TemplateError(`${name}: argument ${i + 1} must be a number`);
    });
    if (name === 'index' && rest[0] && rest[0].t !== 'dot' && ci === 0) throw new TemplateError('index: only "index . \\"key\\"" is supported');
    if ((name === 'indent' || name === 'nindent') && rest[0]?.t === 'lit' && typeof rest[0].v === 'number' && (rest[0].v < 0 || rest[0].v > MAX_INDENT)) {
      throw new TemplateError(`${name}: width must be between 0 and ${MAX_INDENT}`);
    }
    if (name === 'printf' && rest[0]?.t === 'lit' && Buffer.isBuffer(rest[0].v)) {
      const fmt = rest[0].v.toString('utf8');
      for (let i = fmt.indexOf('%'); i >= 0; i = fmt.indexOf('%', i + 2)) {
        const verb = fmt[i + 1];
        if (verb === undefined || !'svdqxX%'.includes(verb)) throw new TemplateError(`printf: verb %${verb ?? ''} is not supported (use %s %v %d %q %x %X %%)`);
      }
    }
  });
}

function evalNode(n: Node, ctx: Ctx): Value {
  ctx.budget.step();
  switch (n.t) {
    case 'dot': return MAP;
    case 'lit': return n.v;
    case 'field': return ctx.data.get(n.path[0]!) ?? MISSING;
    case 'ident': return call(n.name, [], ctx);
    case 'pipe': return evalPipe(n, ctx);
  }
}

function call(name: string, args: Value[], ctx: Ctx): Value {
  ctx.budget.step();
  return FUNCS[name]!.fn(args, ctx);
}

/**
 * Evaluates a pipeline. A command that fails (over the values: an EvalError) is recorded and
 * replaced by an empty string, and evaluation goes on, so the rest of the template still does
 * its work: otherwise a cheap failing probe in front of costly work would time the value.
 */
function evalPipe(p: Node & { t: 'pipe' }, ctx: Ctx): Value {
  let prev: Value[] = [];
  for (const cmd of p.cmds) {
    const [head, ...rest] = cmd;
    try {
      if (head!.t === 'ident') {
        const args = rest.map((a) => {
          try {
            return evalNode(a, ctx);
          } catch (e) {
            return failedWith(ctx, e);
          }
        });
        prev = [call(head!.name, [...args, ...prev], ctx)];
      } else prev = [evalNode(head!, ctx)];
    } catch (e) {
      prev = [failedWith(ctx, e)];
    }
  }
  return prev[0]!;
}

/** A template read and checked without its values; render it with renderParsed. */
export interface ParsedTemplate {
  readonly item: string;
  readonly parts: readonly Part[];
}

const HINT = 'supported: {{ .key }}, {{ index . "key" }}, pipelines and the functions listed in the README';

/** Counts the actions of all the templates of one SealedSecret as they are parsed. */
export interface ParseCounter {
  actions: number;
}

/** Reads and checks one template.data value (no values needed). Throws ERR_TEMPLATE. */
export function parseTemplate(item: string, source: string, counter: ParseCounter = { actions: 0 }): ParsedTemplate {
  try {
    const parts = parse(source, counter);
    for (const part of parts) if (part.kind === 'action') checkPipe(part.pipe);
    return { item, parts };
  } catch (e) {
    if (e instanceof TemplateError) throw new SealedSecretsError('ERR_TEMPLATE', `template.data["${item}"]: ${e.message}`, { hint: HINT });
    throw e;
  }
}

/**
 * Renders a parsed template over the values, within `budget` (shared by all the templates
 * of one SealedSecret). Throws ERR_VALUE, which must be reported only to readers
 * of the Secret (see the top of this file).
 */
export function renderParsed(t: ParsedTemplate, data: Data, budget: TemplateBudget): Buffer {
  const ctx: Ctx = { data, budget };
  try {
    const out: Buffer[] = [];
    let size = 0;
    for (const part of t.parts) {
      let b: Buffer;
      if (part.kind === 'text') {
        budget.step();
        budget.produce(Buffer.byteLength(part.text));
        b = Buffer.from(part.text, 'utf8');
      } else {
        try {
          b = bytesOf(evalPipe(part.pipe, ctx), ctx);
        } catch (e) {
          b = failedWith(ctx, e) as Buffer;
        }
      }
      size += b.length;
      // Recorded like any failure; what is left is still evaluated (and charged), not kept.
      if (size > MAX_OUTPUT_BYTES) ctx.failed ??= new EvalError(`the rendered value is over ${MAX_OUTPUT_BYTES} bytes`);
      else out.push(b);
    }
    if (ctx.failed) throw ctx.failed;
    budget.produce(size);
    return Buffer.concat(out);
  } catch (e) {
    if (e instanceof EvalError || e instanceof RangeError) {
      throw new SealedSecretsError('ERR_VALUE', `template.data["${t.item}"]: ${e instanceof EvalError ? e.message : 'the value is too large to render'}`, {
        hint: 'this depends on the values: fix the template or the sealed values',
      });
    }
    throw e;
  }
}

/** Parses and renders one template.data value with a budget of its own (tests, one-off use). */
export function renderTemplate(item: string, source: string, data: Data, budget = new TemplateBudget()): Buffer {
  return renderParsed(parseTemplate(item, source), data, budget);
}
