/**
 * Go's text/template lexer and parser (Go 1.19, text/template/parse: lex.go, parse.go,
 * node.go), over a GoString (the template's UTF-8 bytes), so positions are byte offsets
 * and error texts are Go's: "template: NAME:LINE: ...".
 *
 * Bounded for hostile input: the actions of all the templates of one SealedSecret are
 * counted (TEMPLATE_LIMITS.actions), and parentheses and control blocks nest at most
 * MAX_DEPTH deep, so neither the parser nor the evaluator recurse without bound.
 */
import { TEMPLATE_LIMITS, TemplateError } from './budget.js';
import { decodeRune, goQuote } from './fmt.js';

export const MAX_DEPTH = 50;
/** Links of one else-if chain (parsed and walked recursively, a few frames each). */
export const MAX_ELSE_IF = 1000;

// ---- lexer ----

export type ItemType =
  | 'error' | 'bool' | 'char' | 'charConstant' | 'complex' | 'assign' | 'declare' | 'EOF' | 'field' | 'identifier'
  | 'leftDelim' | 'leftParen' | 'number' | 'pipe' | 'rawString' | 'rightDelim' | 'rightParen' | 'space' | 'string'
  | 'text' | 'variable' | 'comment'
  // keywords
  | 'block' | 'break' | 'continue' | 'dot' | 'define' | 'else' | 'end' | 'if' | 'range' | 'nil' | 'template' | 'with';

const KEYWORDS: Record<string, ItemType> = { '.': 'dot', block: 'block', break: 'break', continue: 'continue', define: 'define', else: 'else', end: 'end', if: 'if', range: 'range', nil: 'nil', template: 'template', with: 'with' };
const isKeyword = (t: ItemType) => ['block', 'break', 'continue', 'dot', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with'].includes(t);

export interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

function itemString(i: Item): string {
  if (i.typ === 'EOF') return 'EOF';
  if (i.typ === 'error') return i.val;
  if (isKeyword(i.typ)) return `<${i.val}>`;
  if (i.val.length > 10) return goQuote(i.val.slice(0, 10)).replace(/"$/, '') + '"...';
  return goQuote(i.val);
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 13 || c === 10;
const LETTER = /^[\p{L}\p{Nd}_]$/u;
function isAlphaNumeric(r: number): boolean {
  if (r < 0) return false;
  if (r < 0x80) return r === 95 || (r >= 48 && r <= 57) || (r >= 65 && r <= 90) || (r >= 97 && r <= 122);
  return LETTER.test(String.fromCodePoint(r));
}

function hexRune(r: number): string {
  return 'U+' + r.toString(16).toUpperCase().padStart(4, '0');
}

/** Lexes the whole template; the last item is EOF or an error. */
export function lex(input: string, counter: { actions: number }): Item[] {
  const items: Item[] = [];
  let start = 0;
  let pos = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;
  const emit = (typ: ItemType) => {
    items.push({ typ, pos: start, val: input.slice(start, pos), line: startLine });
    start = pos;
    startLine = line;
  };
  const ignore = () => {
    line += count(input, start, pos);
    start = pos;
    startLine = line;
  };
  const next = (): number => {
    if (pos >= input.length) return -1;
    const c = input.charCodeAt(pos);
    if (c < 0x80) {
      pos++;
      if (c === 10) line++;
      return c;
    }
    const [r, size] = decodeRune(input, pos);
    pos += size;
    if (r === 10) line++;
    return r;
  };
  const peek = (): number => {
    if (pos >= input.length) return -1;
    const c = input.charCodeAt(pos);
    return c < 0x80 ? c : decodeRune(input, pos)[0];
  };
  let lastSize = 0;
  const nextT = (): number => {
    const p = pos;
    const r = next();
    lastSize = pos - p;
    return r;
  };
  const backup = () => {
    pos -= lastSize;
    if (lastSize === 1 && input.charCodeAt(pos) === 10) line--;
  };
  /** Scans the rest of a word (ASCII natively, then rune by rune); returns the rune that ended it, left unread. */
  const scanAlphaNumeric = (): number => {
    ASCII_WORD.lastIndex = pos;
    ASCII_WORD.exec(input);
    pos = ASCII_WORD.lastIndex;
    for (;;) {
      const c = nextT();
      if (!isAlphaNumeric(c)) {
        backup();
        return c;
      }
    }
  };
  const fail = (msg: string): Item[] => {
    items.push({ typ: 'error', pos: start, val: msg, line: startLine });
    return items;
  };
  const hasLeftTrim = (at: number) => input.charCodeAt(at) === 45 && isSpace(input.charCodeAt(at + 1));
  const hasRightTrim = (at: number) => isSpace(input.charCodeAt(at)) && input.charCodeAt(at + 1) === 45;
  /** 0: not at "}}"; 1: at "}}"; 2: at " -}}". (A number, not a pair: this runs at every character of an action.) */
  const atRightDelim = (): number => {
    const c = input.charCodeAt(pos);
    if (c === 125) return input.charCodeAt(pos + 1) === 125 ? 1 : 0;
    if (isSpace(c) && input.charCodeAt(pos + 1) === 45 && input.charCodeAt(pos + 2) === 125 && input.charCodeAt(pos + 3) === 125) return 2;
    return 0;
  };
  const atTerminator = (): boolean => {
    const r = peek();
    if (isSpace(r)) return true;
    if (r === -1 || r === 46 || r === 44 || r === 124 || r === 58 || r === 41 || r === 40) return true;
    return input.startsWith('}}', pos);
  };
  const accept = (valid: string): boolean => {
    if (pos < input.length && valid.includes(input[pos]!)) {
      pos++;
      return true;
    }
    return false;
  };
  const acceptRun = (valid: string) => {
    while (pos < input.length && valid.includes(input[pos]!)) pos++;
  };
  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(peek())) {
      nextT();
      return false;
    }
    return true;
  };
  const trailingSpace = (from: number, to: number) => {
    let j = to;
    while (j > from && isSpace(input.charCodeAt(j - 1))) j--;
    return to - j;
  };
  const leadingSpace = (from: number) => {
    let j = from;
    while (j < input.length && isSpace(input.charCodeAt(j))) j++;
    return j - from;
  };

  // lexText and friends, as a loop.
  for (;;) {
    // text
    const x = input.indexOf('{{', pos);
    if (x < 0) {
      pos = input.length;
      if (pos > start) {
        line += count(input, start, pos);
        emit('text');
      }
      items.push({ typ: 'EOF', pos, val: '', line });
      return items;
    }
    if (++counter.actions > TEMPLATE_LIMITS.actions) throw new TemplateError(`the templates have more than ${TEMPLATE_LIMITS.actions} actions in all`);
    if (x > pos) {
      pos = x;
      const trim = hasLeftTrim(x + 2) ? trailingSpace(start, pos) : 0;
      pos -= trim;
      line += count(input, start, pos);
      if (pos > start) emit('text');
      pos += trim;
      ignore();
    }
    // left delim
    pos += 2;
    const trimSpace = hasLeftTrim(pos);
    const afterMarker = trimSpace ? 2 : 0;
    if (input.startsWith('/*', pos + afterMarker)) {
      pos += afterMarker;
      ignore();
      // comment
      const i = input.indexOf('*/', pos + 2);
      if (i < 0) return fail('unclosed comment');
      pos = i + 2;
      const at = atRightDelim();
      const trimR = at === 2;
      if (!at) return fail('comment ends before closing delimiter');
      emit('comment');
      if (trimR) pos += 2;
      pos += 2;
      if (trimR) pos += leadingSpace(pos);
      ignore();
      continue;
    }
    emit('leftDelim');
    pos += afterMarker;
    ignore();
    parenDepth = 0;
    // inside action
    for (;;) {
      const at = atRightDelim();
      if (at) {
        const trimR = at === 2;
        if (parenDepth !== 0) return fail('unclosed left paren');
        if (trimR) {
          pos += 2;
          ignore();
        }
        pos += 2;
        emit('rightDelim');
        if (trimR) {
          pos += leadingSpace(pos);
          ignore();
        }
        break;
      }
      const r = nextT();
      if (r === -1) return fail('unclosed action');
      if (isSpace(r)) {
        backup();
        let n = 0;
        while (isSpace(peek())) {
          nextT();
          n++;
        }
        if (hasRightTrim(pos - 1) && input.startsWith('}}', pos + 1)) {
          pos--;
          if (input.charCodeAt(pos) === 10) line--;
          if (n === 1) continue;
        }
        emit('space');
      } else if (r === 61) emit('assign');
      else if (r === 58) {
        if (nextT() !== 61) return fail('expected :=');
        emit('declare');
      } else if (r === 124) emit('pipe');
      else if (r === 34 || r === 39) {
        // A quoted string or char constant: scanned by byte (its delimiters are ASCII; UTF-8
        // continuation bytes never are), which keeps long literals linear and cheap.
        let j = pos;
        const run = r === 34 ? STRING_RUN : CHAR_RUN;
        for (;;) {
          run.lastIndex = j;
          run.exec(input);
          j = run.lastIndex;
          if (j >= input.length) return fail(r === 34 ? 'unterminated quoted string' : 'unterminated character constant');
          const c = input.charCodeAt(j);
          if (c === 92) {
            if (j + 1 >= input.length || input.charCodeAt(j + 1) === 10) return fail(r === 34 ? 'unterminated quoted string' : 'unterminated character constant');
            j += 2;
            continue;
          }
          if (c === 10) return fail(r === 34 ? 'unterminated quoted string' : 'unterminated character constant');
          j++;
          if (c === r) break;
        }
        pos = j;
        emit(r === 34 ? 'string' : 'charConstant');
      } else if (r === 96) {
        const j = input.indexOf('`', pos);
        if (j < 0) return fail('unterminated raw quoted string');
        line += count(input, pos, j + 1);
        pos = j + 1;
        emit('rawString');
      } else if (r === 36 || r === 46 && !(pos < input.length && input.charCodeAt(pos) >= 48 && input.charCodeAt(pos) <= 57)) {
        // $variable or .field
        const typ: ItemType = r === 36 ? 'variable' : 'field';
        if (atTerminator()) {
          emit(typ === 'variable' ? 'variable' : 'dot');
          continue;
        }
        const c = scanAlphaNumeric();
        if (!atTerminator()) return fail(`bad character ${hexRune(c)}`);
        emit(typ);
      } else if (r === 46 || r === 43 || r === 45 || (r >= 48 && r <= 57)) {
        backup();
        if (!scanNumber()) return fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
        const sign = peek();
        if (sign === 43 || sign === 45) {
          if (!scanNumber() || input[pos - 1] !== 'i') return fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
          emit('complex');
        } else emit('number');
      } else if (isAlphaNumeric(r)) {
        const c = scanAlphaNumeric();
        const word = input.slice(start, pos);
        if (!atTerminator()) return fail(`bad character ${hexRune(c)}`);
        if (Object.hasOwn(KEYWORDS, word)) emit(KEYWORDS[word]!);
        else if (word === 'true' || word === 'false') emit('bool');
        else emit('identifier');
      } else if (r === 40) {
        emit('leftParen');
        parenDepth++;
      } else if (r === 41) {
        emit('rightParen');
        parenDepth--;
        if (parenDepth < 0) return fail(`unexpected right paren ${hexRune(r)}`);
      } else if (r < 0x80 && r >= 0x20 && r !== 0x7f) emit('char');
      else return fail(`unrecognized character in action: ${hexRune(r)}`);
    }
  }
}

/** Runs of bytes that cannot end or escape a quoted string / char constant (a sticky regex: V8 scans them natively). */
const ASCII_WORD = /[A-Za-z0-9_]*/y;
const STRING_RUN = /[^"\\\n]*/y;
const CHAR_RUN = /[^'\\\n]*/y;

function count(s: string, from: number, to: number): number {
  // A bounded scan: indexOf would look past `to` to the end of the input (quadratic over many actions).
  if (to - from < 64) {
    let n = 0;
    for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++;
    return n;
  }
  const part = s.slice(from, to);
  let n = 0;
  for (let i = part.indexOf('\n'); i >= 0; i = part.indexOf('\n', i + 1)) n++;
  return n;
}

// ---- nodes ----

export interface NumberInfo {
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int: bigint;
  float: number;
  text: string;
}

export type Arg =
  | { t: 'field'; pos: number; idents: string[] }
  | { t: 'var'; pos: number; idents: string[] }
  | { t: 'dot'; pos: number }
  | { t: 'nil'; pos: number }
  | { t: 'bool'; pos: number; v: boolean }
  | { t: 'number'; pos: number; n: NumberInfo }
  | { t: 'string'; pos: number; quoted: string; text: string }
  | { t: 'ident'; pos: number; name: string }
  | { t: 'chain'; pos: number; node: Arg; fields: string[] }
  | Pipe;

export interface Pipe {
  t: 'pipe';
  pos: number;
  line: number;
  isAssign: boolean;
  decl: { pos: number; name: string }[];
  cmds: Cmd[];
}

export interface Cmd {
  pos: number;
  args: Arg[];
}

export type Node =
  | { t: 'text'; pos: number; text: string }
  | { t: 'action'; pos: number; pipe: Pipe }
  | { t: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: Node[]; elseList: Node[] | null }
  | { t: 'template'; pos: number; name: string; pipe: Pipe | null }
  | { t: 'break' | 'continue'; pos: number };

export function argString(a: Arg): string {
  switch (a.t) {
    case 'field': return '.' + a.idents.join('.');
    case 'var': return a.idents.join('.');
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return a.v ? 'true' : 'false';
    case 'number': return a.n.text;
    case 'string': return a.quoted;
    case 'ident': return a.name;
    case 'chain': return (a.node.t === 'pipe' ? '(' + pipeString(a.node) + ')' : argString(a.node)) + a.fields.map((f) => '.' + f).join('');
    case 'pipe': return pipeString(a);
  }
}

export function cmdString(c: Cmd): string {
  return c.args.map((a) => (a.t === 'pipe' ? '(' + pipeString(a) + ')' : argString(a))).join(' ');
}

export function pipeString(p: Pipe): string {
  let s = '';
  if (p.decl.length) s = p.decl.map((d) => d.name).join(', ') + (p.isAssign ? ' = ' : ' := ');
  return s + p.cmds.map(cmdString).join(' | ');
}

export function nodeString(n: Node): string {
  switch (n.t) {
    case 'text': return n.text;
    case 'action': return '{{' + pipeString(n.pipe) + '}}';
    case 'template': return n.pipe ? `{{template ${goQuote(n.name)} ${pipeString(n.pipe)}}}` : `{{template ${goQuote(n.name)}}}`;
    case 'break': return '{{break}}';
    case 'continue': return '{{continue}}';
    default: {
      const list = (l: Node[]) => l.map(nodeString).join('');
      return `{{${n.t} ${pipeString(n.pipe)}}}${list(n.list)}${n.elseList ? '{{else}}' + list(n.elseList) : ''}{{end}}`;
    }
  }
}

// ---- numbers and quoting (strconv) ----

const UNDERSCORE_OK = /^[+-]?(0[xXoObB])?_?[0-9a-fA-F]+(_[0-9a-fA-F]+)*(\.([0-9a-fA-F]+(_[0-9a-fA-F]+)*)?)?([eEpP][+-]?[0-9]+(_[0-9]+)*)?$/;

function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  if (/^0[xX]/.test(s)) (base = 16), (s = s.slice(2));
  else if (/^0[oO]/.test(s)) (base = 8), (s = s.slice(2));
  else if (/^0[bB]/.test(s)) (base = 2), (s = s.slice(2));
  else if (/^0[0-9_]/.test(s)) (base = 8), (s = s.slice(1));
  if (s.includes('_')) {
    if (!UNDERSCORE_OK.test(text)) return undefined;
    s = s.replace(/_/g, '');
  }
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!valid.test(s)) return undefined;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const v = BigInt(prefix + s);
  return neg ? -v : v;
}

function parseGoFloat(text: string): number | undefined {
  let s = text;
  if (s.includes('_')) {
    if (!UNDERSCORE_OK.test(s)) return undefined;
    s = s.replace(/_/g, '');
  }
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let v: number;
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
  if (hex) {
    const [, ip = '', fp = ''] = hex;
    if (!ip && !fp) return undefined;
    v = (parseInt(ip + fp || '0', 16) / 16 ** fp.length) * 2 ** Number(hex[3]);
  } else if (/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) v = Number(s);
  else return undefined;
  return neg ? -v : v;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** parse.newNumber: the constant's int, uint and float readings. */
function newNumber(text: string, typ: ItemType, unquoteChar: (s: string) => [number, string]): NumberInfo {
  const n: NumberInfo = { isInt: false, isUint: false, isFloat: false, int: 0n, float: 0, text };
  if (typ === 'charConstant') {
    const [r, tail] = unquoteChar(text.slice(1));
    if (tail !== "'") throw new TemplateError(`malformed character constant: ${text}`);
    return { ...n, isInt: true, isUint: true, isFloat: true, int: BigInt(r), float: r };
  }
  if (typ === 'complex' || text.endsWith('i')) throw new TemplateError(`complex number ${text}: complex numbers are not supported`);
  const i = parseGoInt(text);
  if (i !== undefined) {
    if (i >= 0n && i <= UINT64_MAX) n.isUint = true;
    if (i >= INT64_MIN && i <= INT64_MAX) n.isInt = true;
    n.int = i;
  }
  if (n.isInt || n.isUint) {
    n.isFloat = true;
    n.float = Number(n.int);
  } else {
    const f = parseGoFloat(text);
    if (f !== undefined && Number.isFinite(f)) {
      if (!/[.eEpP]/.test(text)) throw new TemplateError(`integer overflow: ${goQuote(text)}`);
      n.isFloat = true;
      n.float = f;
      if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
        n.isInt = true;
        n.int = BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
        n.isUint = true;
        n.int = BigInt(f);
      }
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new TemplateError(`illegal number syntax: ${goQuote(text)}`);
  return n;
}

function encodeUtf8(r: number): string {
  return Buffer.from(String.fromCodePoint(r), 'utf8').toString('latin1');
}

/** strconv.UnquoteChar over bytes: [value, tail]. Byte escapes (\x, octal) give a byte (< 256). */
function unquoteChar(s: string, quote: string): [number, string, boolean] {
  const c = s.charCodeAt(0);
  if (s.length === 0) throw new TemplateError('invalid syntax');
  if (s[0] === quote && (quote === "'" || quote === '"')) throw new TemplateError('invalid syntax');
  if (c >= 0x80) {
    const [r, size] = decodeRune(s, 0);
    return [r, s.slice(size), false];
  }
  if (s[0] !== '\\') return [c, s.slice(1), false];
  if (s.length <= 1) throw new TemplateError('invalid syntax');
  const e = s[1]!;
  s = s.slice(2);
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
  if (Object.hasOwn(simple, e)) return [simple[e]!, s, false];
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const h = s.slice(0, n);
    if (h.length < n || !/^[0-9a-fA-F]+$/.test(h)) throw new TemplateError('invalid syntax');
    const v = parseInt(h, 16);
    if (e === 'x') return [v, s.slice(n), true];
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new TemplateError('invalid syntax');
    return [v, s.slice(n), false];
  }
  if (e >= '0' && e <= '7') {
    const o = e + s.slice(0, 2);
    if (!/^[0-7]{3}$/.test(o)) throw new TemplateError('invalid syntax');
    const v = parseInt(o, 8);
    if (v > 255) throw new TemplateError('invalid syntax');
    return [v, s.slice(2), true];
  }
  if (e === quote && (e === "'" || e === '"')) return [e.charCodeAt(0), s, false];
  throw new TemplateError('invalid syntax');
}

/** strconv.Unquote of a "..." or `...` token, to a GoString. */
function unquote(tok: string): string {
  if (tok[0] === '`') return tok.slice(1, -1).replace(/\r/g, '');
  let s = tok.slice(1, -1);
  // No escapes: the bytes are the string (the lexer has refused newlines and bare quotes).
  if (!s.includes('\\')) return s;
  let out = '';
  while (s.length > 0) {
    if (s[0] === '"' || s[0] === '\n') throw new TemplateError('invalid syntax');
    const [v, rest, isByte] = unquoteChar(s, '"');
    out += isByte || v < 0x80 ? String.fromCharCode(v) : encodeUtf8(v);
    s = rest;
  }
  return out;
}

// ---- parser ----

/** A parsed template set: the top template (named after the item) and its {{define}}s. */
export interface Tree {
  name: string;
  root: Node[];
}

export interface ParseResult {
  /** Every template by name; the item's own one under its name. */
  trees: Map<string, Tree>;
}

export interface FuncInfo {
  has(name: string): boolean;
}

/** Parses a template as text/template's Parse does. Throws TemplateError with Go's message. */
export function parse(name: string, input: string, funcs: FuncInfo, counter: { actions: number }): ParseResult {
  const items = lex(input, counter);
  let p = 0;
  let vars: string[] = ['$'];
  let rangeDepth = 0;
  let depth = 0;
  let elseIfs = 0;
  let tok: Item = items[0]!;
  const trees = new Map<string, Tree>();

  const errorf = (msg: string): never => {
    throw new TemplateError(`template: ${name}:${tok.line}: ${msg}`);
  };
  const next = (): Item => {
    tok = items[p] ?? items[items.length - 1]!;
    p++;
    if (tok.typ === 'error') errorf(tok.val);
    return tok;
  };
  const backup = () => {
    p--;
  };
  const peek = (): Item => items[p] ?? items[items.length - 1]!;
  const nextNonSpace = (): Item => {
    let t: Item;
    do t = next();
    while (t.typ === 'space');
    return t;
  };
  const peekNonSpace = (): Item => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const unexpected = (t: Item, context: string): never => errorf(`unexpected ${itemString(t)} in ${context}`);
  const expect = (typ: ItemType, context: string): Item => {
    const t = nextNonSpace();
    if (t.typ !== typ) unexpected(t, context);
    return t;
  };
  const enter = (what: string) => {
    if (++depth > MAX_DEPTH) errorf(`${what} nested deeper than ${MAX_DEPTH}`);
  };

  const add = (treeName: string, root: Node[]) => {
    const old = trees.get(treeName);
    if (!old || isEmptyTree(old.root)) {
      trees.set(treeName, { name: treeName, root });
      return;
    }
    if (!isEmptyTree(root)) errorf(`template: multiple definition of template ${goQuote(treeName)}`);
  };

  const useVar = (pos: number, text: string): Arg => {
    const idents = text.split('.');
    if (!vars.includes(idents[0]!)) errorf(`undefined variable ${goQuote(idents[0]!)}`);
    return { t: 'var', pos, idents };
  };

  const term = (): Arg | null => {
    const t = nextNonSpace();
    switch (t.typ) {
      case 'identifier':
        if (!funcs.has(t.val)) errorf(`function ${goQuote(t.val)} not defined`);
        return { t: 'ident', pos: t.pos, name: t.val };
      case 'dot': return { t: 'dot', pos: t.pos };
      case 'nil': return { t: 'nil', pos: t.pos };
      case 'variable': return useVar(t.pos, t.val);
      case 'field': return { t: 'field', pos: t.pos, idents: t.val.slice(1).split('.') };
      case 'bool': return { t: 'bool', pos: t.pos, v: t.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        try {
          return { t: 'number', pos: t.pos, n: newNumber(t.val, t.typ, (s) => { const [r, tail] = unquoteChar(s, "'"); return [r, tail]; }) };
        } catch (e) {
          if (e instanceof TemplateError) errorf(e.message);
          throw e;
        }
      case 'leftParen': {
        enter('parentheses');
        const pp = pipeline('parenthesized pipeline', 'rightParen');
        depth--;
        return pp;
      }
      case 'string':
      case 'rawString':
        try {
          return { t: 'string', pos: t.pos, quoted: t.val, text: unquote(t.val) };
        } catch (e) {
          if (e instanceof TemplateError) errorf(e.message);
          throw e;
        }
    }
    backup();
    return null;
  };

  const operand = (): Arg | null => {
    const node = term();
    if (!node) return null;
    if (peek().typ === 'field') {
      const chainPos = peek().pos;
      const fields: string[] = [];
      while (peek().typ === 'field') fields.push(next().val.slice(1));
      switch (node.t) {
        case 'field': return { t: 'field', pos: chainPos, idents: [...node.idents, ...fields.flatMap((f) => f.split('.'))] };
        case 'var': return { t: 'var', pos: chainPos, idents: [...node.idents, ...fields.flatMap((f) => f.split('.'))] };
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          errorf(`unexpected . after term ${goQuote(argString(node))}`);
      }
      return { t: 'chain', pos: chainPos, node, fields: fields.flatMap((f) => f.split('.')) };
    }
    return node;
  };

  const command = (): Cmd => {
    const cmd: Cmd = { pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const o = operand();
      if (o) cmd.args.push(o);
      const t = next();
      if (t.typ === 'space') continue;
      if (t.typ === 'rightDelim' || t.typ === 'rightParen') backup();
      else if (t.typ !== 'pipe') unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) errorf('empty command');
    return cmd;
  };

  const pipeline = (context: string, end: ItemType): Pipe => {
    const first = peekNonSpace();
    const pipe: Pipe = { t: 'pipe', pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = peekNonSpace();
      const vIdx = p;
      if (v.typ !== 'variable') break;
      nextNonSpace();
      const after = peek();
      const nx = peekNonSpace();
      if (nx.typ === 'assign' || nx.typ === 'declare') {
        pipe.isAssign = nx.typ === 'assign';
        nextNonSpace();
        pipe.decl.push({ pos: v.pos, name: v.val });
        vars.push(v.val);
      } else if (nx.typ === 'char' && nx.val === ',') {
        nextNonSpace();
        pipe.decl.push({ pos: v.pos, name: v.val });
        vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const k = peekNonSpace().typ;
          if (k === 'variable' || k === 'rightDelim' || k === 'rightParen') continue decls;
          errorf('range can only initialize variables');
        }
        errorf(`too many declarations in ${context}`);
      } else {
        // "$x foo": an argument, not a declaration.
        void after;
        p = vIdx;
      }
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.typ === end) {
        if (pipe.cmds.length === 0) errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, i) => {
          const k = c.args[0]!.t;
          if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') errorf(`non executable command in pipeline stage ${i + 2}`);
        });
        return pipe;
      }
      switch (t.typ) {
        case 'bool': case 'charConstant': case 'complex': case 'dot': case 'field': case 'identifier':
        case 'number': case 'nil': case 'rawString': case 'string': case 'variable': case 'leftParen':
          backup();
          pipe.cmds.push(command());
          break;
        default:
          unexpected(t, context);
      }
    }
  };

  type End = { t: 'end' | 'else'; pos: number };

  const itemList = (): [Node[], End] => {
    const list: Node[] = [];
    while (peekNonSpace().typ !== 'EOF') {
      const n = textOrAction();
      if (n === null) continue;
      if ('t' in n && (n.t === 'end' || n.t === 'else')) return [list, n as End];
      list.push(n as Node);
    }
    return errorf('unexpected EOF');
  };

  const parseControl = (allowElseIf: boolean, context: 'if' | 'with' | 'range'): [Pipe, Node[], Node[] | null] => {
    const saved = vars.length;
    enter('actions');
    const pipe = pipeline(context, 'rightDelim');
    if (context === 'range') rangeDepth++;
    let [list, nx] = itemList();
    if (context === 'range') rangeDepth--;
    let elseList: Node[] | null = null;
    if (nx.t === 'else') {
      if (allowElseIf && peek().typ === 'if') {
        next();
        // An else-if chain is flat in the text: its links do not count as nesting (Go has no
        // limit); they are bounded on their own, for the recursion that walks them.
        if (++elseIfs > MAX_ELSE_IF) errorf(`more than ${MAX_ELSE_IF} else-if branches`);
        depth--;
        elseList = [ifControl()];
        depth++;
      } else {
        [elseList, nx] = itemList();
        if (nx.t !== 'end') errorf(`expected end; found {{else}}`);
      }
    }
    vars = vars.slice(0, saved);
    depth--;
    void list;
    return [pipe, list, elseList];
  };

  const ifControl = (): Node => {
    const [pipe, list, elseList] = parseControl(true, 'if');
    return { t: 'if', pos: pipe.pos, pipe, list, elseList };
  };

  const parseTemplateName = (t: Item, context: string): string => {
    if (t.typ === 'string' || t.typ === 'rawString') {
      try {
        return unquote(t.val);
      } catch (e) {
        if (e instanceof TemplateError) errorf(e.message);
        throw e;
      }
    }
    return unexpected(t, context);
  };

  const action = (): Node | End => {
    const t = nextNonSpace();
    switch (t.typ) {
      case 'block': {
        const context = 'block clause';
        const nt = nextNonSpace();
        const bname = parseTemplateName(nt, context);
        const pipe = pipeline(context, 'rightDelim');
        const savedVars = vars;
        const savedRange = rangeDepth;
        vars = ['$'];
        rangeDepth = 0;
        enter('actions');
        const [root, end] = itemList();
        depth--;
        if (end.t !== 'end') errorf(`unexpected {{else}} in ${context}`);
        add(bname, root);
        vars = savedVars;
        rangeDepth = savedRange;
        return { t: 'template', pos: nt.pos, name: bname, pipe };
      }
      case 'break':
      case 'continue': {
        const nt = nextNonSpace();
        if (nt.typ !== 'rightDelim') unexpected(nt, `{{${t.typ}}}`);
        if (rangeDepth === 0) errorf(`{{${t.typ}}} outside {{range}}`);
        return { t: t.typ, pos: t.pos };
      }
      case 'else': {
        const pk = peekNonSpace();
        if (pk.typ === 'if') return { t: 'else', pos: pk.pos };
        const e = expect('rightDelim', 'else');
        return { t: 'else', pos: e.pos };
      }
      case 'end': {
        const e = expect('rightDelim', 'end');
        return { t: 'end', pos: e.pos };
      }
      case 'if': return ifControl();
      case 'range': {
        const [pipe, list, elseList] = parseControl(false, 'range');
        return { t: 'range', pos: pipe.pos, pipe, list, elseList };
      }
      case 'with': {
        const [pipe, list, elseList] = parseControl(false, 'with');
        return { t: 'with', pos: pipe.pos, pipe, list, elseList };
      }
      case 'template': {
        const context = 'template clause';
        const nt = nextNonSpace();
        const tname = parseTemplateName(nt, context);
        let pipe: Pipe | null = null;
        if (nextNonSpace().typ !== 'rightDelim') {
          backup();
          pipe = pipeline(context, 'rightDelim');
        }
        return { t: 'template', pos: nt.pos, name: tname, pipe };
      }
    }
    backup();
    const pos = peek().pos;
    return { t: 'action', pos, pipe: pipeline('command', 'rightDelim') };
  };

  const textOrAction = (): Node | End | null => {
    const t = nextNonSpace();
    switch (t.typ) {
      case 'text': return { t: 'text', pos: t.pos, text: t.val };
      case 'leftDelim': return action();
      case 'comment': return null;
    }
    return unexpected(t, 'input');
  };

  // Tree.parse: top level, with {{define}}.
  const root: Node[] = [];
  while (peek().typ !== 'EOF') {
    if (peek().typ === 'leftDelim') {
      const delimAt = p;
      next();
      if (nextNonSpace().typ === 'define') {
        const context = 'define clause';
        const nameTok = expectOneOf(['string', 'rawString'], context);
        const dname = parseTemplateName(nameTok, context);
        expect('rightDelim', context);
        const savedVars = vars;
        vars = ['$'];
        const [droot, end] = itemList();
        if (end.t !== 'end') errorf(`unexpected {{else}} in ${context}`);
        add(dname, droot);
        vars = savedVars;
        continue;
      }
      p = delimAt;
    }
    const n = textOrAction();
    if (n === null) continue;
    if ('t' in n && (n.t === 'end' || n.t === 'else')) errorf(`unexpected {{${n.t}}}`);
    root.push(n as Node);
  }
  add(name, root);
  return { trees };

  function expectOneOf(types: ItemType[], context: string): Item {
    const t = nextNonSpace();
    if (!types.includes(t.typ)) unexpected(t, context);
    return t;
  }
}

/** parse.IsEmptyTree. */
export function isEmptyTree(list: Node[]): boolean {
  return list.every((n) => n.t === 'text' && n.text.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, '').length === 0);
}

/** "LINE:COL" of a byte offset, as Tree.ErrorContext computes it. */
export function location(input: string, pos: number): string {
  const before = input.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  const col = nl < 0 ? pos : pos - (nl + 1);
  return `${count(input, 0, pos) + 1}:${col}`;
}
