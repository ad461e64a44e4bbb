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
 */
import { SealedSecretsError } from './errors.js';

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

class TemplateError extends Error {}

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
    if (!(tok in FUNCS)) throw new TemplateError(`function "${tok}" is not supported`);
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
const MAX_OUTPUT_BYTES = 1024 * 1024;
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
function parse(src: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  let trimNext = false;
  for (;;) {
    const open = src.indexOf('{{', i);
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

function str(v: Value): string {
  return Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === MISSING ? '<no value>' : 'map[...]';
}

function bytesOf(v: Value, data: Data): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v === MISSING) return Buffer.from('<no value>');
  if (v === MAP) {
    // Go prints a map as map[k1:v1 k2:v2] with sorted keys.
    const keys = [...data.keys()].sort();
    const items = keys.flatMap((k, n) => [Buffer.from((n ? ' ' : '') + k + ':'), data.get(k)!]);
    return Buffer.concat([Buffer.from('map['), ...items, Buffer.from(']')]);
  }
  return Buffer.from(String(v));
}

function needString(v: Value, fn: string): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v === MISSING) return Buffer.from('<no value>');
  throw new TemplateError(`${fn}: expected a string`);
}

function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

type Fn = (args: Value[], data: Data) => Value;

function arity(name: string, args: Value[], min: number, max = min): void {
  if (args.length < min || args.length > max) throw new TemplateError(`wrong number of args for ${name}: want ${min === max ? min : `${min}-${max}`} got ${args.length}`);
}

const FUNCS: Record<string, Fn> = {
  index(args, data) {
    arity('index', args, 2);
    if (args[0] !== MAP) throw new TemplateError('index: only "index . \\"key\\"" is supported');
    const k = args[1]!;
    if (!Buffer.isBuffer(k)) throw new TemplateError('index: the key must be a string');
    return data.get(k.toString('utf8')) ?? Buffer.alloc(0);
  },
  print(args, data) {
    const out: Buffer[] = [];
    args.forEach((a, n) => {
      // fmt.Sprint adds spaces between operands when neither side is a string.
      if (n > 0 && !Buffer.isBuffer(a) && !Buffer.isBuffer(args[n - 1]!)) out.push(Buffer.from(' '));
      out.push(bytesOf(a, data));
    });
    return Buffer.concat(out);
  },
  printf(args, data) {
    if (args.length < 1 || !Buffer.isBuffer(args[0])) throw new TemplateError('printf: the first argument must be a format string');
    const fmt = args[0].toString('utf8');
    const rest = args.slice(1);
    const out: Buffer[] = [];
    let argi = 0;
    let lit = '';
    for (let i = 0; i < fmt.length; i++) {
      if (fmt[i] !== '%') { lit += fmt[i]; continue; }
      const verb = fmt[++i];
      if (verb === '%') { lit += '%'; continue; }
      out.push(Buffer.from(lit));
      lit = '';
      if (argi >= rest.length) { out.push(Buffer.from(`%!${verb}(MISSING)`)); continue; }
      const a = rest[argi++]!;
      switch (verb) {
        case 's': case 'v': out.push(bytesOf(a, data)); break;
        case 'd':
          if (typeof a !== 'number') throw new TemplateError('printf: %d needs an integer');
          out.push(Buffer.from(String(a)));
          break;
        case 'q': out.push(Buffer.from(goQuote(str(a)))); break;
        case 'x': out.push(Buffer.from(typeof a === 'number' ? a.toString(16) : bytesOf(a, data).toString('hex'))); break;
        case 'X': out.push(Buffer.from((typeof a === 'number' ? a.toString(16) : bytesOf(a, data).toString('hex')).toUpperCase())); break;
        default: throw new TemplateError(`printf: verb %${verb ?? ''} is not supported (use %s %v %d %q %x %X %%)`);
      }
    }
    out.push(Buffer.from(lit));
    if (argi < rest.length) out.push(Buffer.from(`%!(EXTRA ${rest.slice(argi).map(() => 'string').join(', ')})`));
    return Buffer.concat(out);
  },
  len(args, data) {
    arity('len', args, 1);
    const a = args[0]!;
    if (a === MAP) return data.size;
    return needString(a, 'len').length;
  },
  upper: (a) => (arity('upper', a, 1), Buffer.from(needString(a[0]!, 'upper').toString('utf8').toUpperCase())),
  lower: (a) => (arity('lower', a, 1), Buffer.from(needString(a[0]!, 'lower').toString('utf8').toLowerCase())),
  trim: (a) => (arity('trim', a, 1), Buffer.from(needString(a[0]!, 'trim').toString('utf8').trim())),
  trimPrefix(a) {
    arity('trimPrefix', a, 2);
    const [p, s] = [needString(a[0]!, 'trimPrefix'), needString(a[1]!, 'trimPrefix')];
    return s.subarray(0, p.length).equals(p) ? s.subarray(p.length) : s;
  },
  trimSuffix(a) {
    arity('trimSuffix', a, 2);
    const [p, s] = [needString(a[0]!, 'trimSuffix'), needString(a[1]!, 'trimSuffix')];
    return p.length <= s.length && s.subarray(s.length - p.length).equals(p) ? s.subarray(0, s.length - p.length) : s;
  },
  quote: (a) => Buffer.from(a.map((v) => goQuote(str(v))).join(' ')),
  squote: (a) => Buffer.from(a.map((v) => `'${str(v)}'`).join(' ')),
  b64enc: (a) => (arity('b64enc', a, 1), Buffer.from(needString(a[0]!, 'b64enc').toString('base64'))),
  b64dec(a) {
    arity('b64dec', a, 1);
    const s = needString(a[0]!, 'b64dec').toString('latin1');
    // Sprig returns the error text as the result; here a bad value is an error.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new TemplateError('b64dec: illegal base64 data');
    return Buffer.from(s, 'base64');
  },
  replace(a) {
    arity('replace', a, 3);
    const [from, to, s] = a.map((v) => needString(v, 'replace').toString('utf8'));
    return Buffer.from(from === '' ? s! : s!.split(from!).join(to!));
  },
  default(a) {
    arity('default', a, 2);
    const [d, v] = a;
    const empty = v === MISSING || (Buffer.isBuffer(v) && v.length === 0) || v === 0 || v === false;
    return empty ? d! : v!;
  },
  indent(a) {
    arity('indent', a, 2);
    if (typeof a[0] !== 'number') throw new TemplateError('indent: the first argument must be a number');
    if (a[0] < 0 || a[0] > MAX_INDENT) throw new TemplateError(`indent: width must be between 0 and ${MAX_INDENT}`);
    const pad = ' '.repeat(a[0]);
    return Buffer.from(pad + needString(a[1]!, 'indent').toString('utf8').split('\n').join('\n' + pad));
  },
  nindent(a) {
    return Buffer.concat([Buffer.from('\n'), FUNCS['indent']!(a, new Map()) as Buffer]);
  },
};

function evalNode(n: Node, data: Data, piped: Value[]): Value {
  switch (n.t) {
    case 'dot': return MAP;
    case 'lit': return n.v;
    case 'field': {
      const v = data.get(n.path[0]!);
      if (n.path.length > 1) throw new TemplateError(`can't evaluate field ${n.path[1]} in type string`);
      return v ?? MISSING;
    }
    case 'ident': return FUNCS[n.name]!(piped, data);
    case 'pipe': return evalPipe(n, data);
  }
}

function evalPipe(p: Node & { t: 'pipe' }, data: Data): Value {
  let prev: Value[] = [];
  for (const cmd of p.cmds) {
    const [head, ...rest] = cmd;
    if (head!.t === 'ident') {
      const args = rest.map((a) => evalNode(a, data, []));
      prev = [FUNCS[head!.name]!([...args, ...prev], data)];
    } else {
      if (rest.length) throw new TemplateError("can't give arguments to a non-function");
      if (prev.length) throw new TemplateError("can't pipe into a non-function");
      prev = [evalNode(head!, data, [])];
    }
  }
  return prev[0]!;
}

/**
 * Renders one template.data value. `item` names it in errors. Throws ERR_TEMPLATE.
 */
export function renderTemplate(item: string, source: string, data: Data): Buffer {
  try {
    const out: Buffer[] = [];
    let size = 0;
    for (const part of parse(source)) {
      const b = part.kind === 'text' ? Buffer.from(part.text, 'utf8') : bytesOf(evalPipe(part.pipe, data), data);
      size += b.length;
      if (size > MAX_OUTPUT_BYTES) throw new TemplateError(`the rendered value is over ${MAX_OUTPUT_BYTES} bytes`);
      out.push(b);
    }
    return Buffer.concat(out);
  } catch (e) {
    if (e instanceof TemplateError) {
      throw new SealedSecretsError('ERR_TEMPLATE', `template.data["${item}"]: ${e.message}`, {
        hint: 'supported: {{ .key }}, {{ index . "key" }}, pipelines and the functions listed in the README',
      });
    }
    throw e;
  }
}
