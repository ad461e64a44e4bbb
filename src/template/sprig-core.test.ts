/**
 * SPRIG-CORE's functions against real Go + Sprig 3.2.3: every case of
 * test/template-golden/cases/sprig-core.json (rendered by test/template-golden/gen.go)
 * is evaluated here by calling the SPRIG_CORE table directly, through a minimal
 * evaluator for the call expressions those cases use (literals, .field, (...), |),
 * and must give Go's bytes, or fail where Go fails with Go's message.
 * The engine's own golden test renders the same cases through the full text/template.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TemplateBudget } from './budget.js';
import { formatValue } from './fmt.js';
import { SPRIG_CORE } from './sprig-core.js';
import { SPRIG_EXTRA } from './sprig-extra.js';
import { type FuncContext, FuncError, GoFloat, GoInt, GoMap, GoObject, GoSlice, type GoParam, type GoString, type GoValue, MISSING, fromUtf8, toUtf8 } from './values.js';

interface Case {
  name: string;
  template: string;
  data: Record<string, string>;
  data_b64?: Record<string, string>;
}
interface Expected {
  name: string;
  output_b64: string;
  error?: string;
}

const dir = new URL('../../test/template-golden/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('cases/sprig-core.json', dir), 'utf8')) as Case[];
const expected = new Map((JSON.parse(readFileSync(new URL('expected/sprig-core.json', dir), 'utf8')) as Expected[]).map((e) => [e.name, e]));

function ctxFor(budget = new TemplateBudget()): FuncContext {
  return { budget, now: () => 0, randomBytes: (n) => Buffer.alloc(n) };
}

// ---- a minimal evaluator for call expressions ----

type Tok = string;
function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')' || c === '|') out.push(src[i++]!);
    else if (c === '"') {
      let j = i + 1;
      while (src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out.push(src.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < src.length && !/[\s()|]/.test(src[j]!)) j++;
      const word = src.slice(i, j);
      // A field chain .a.b is one field access after another.
      if (word.startsWith('.') && word.length > 1 && !/^\.\d/.test(word)) out.push(...word.slice(1).split('.').map((f) => '.' + f));
      else out.push(word);
      i = j;
    }
  }
  return out;
}

/** A Go interpreted string literal to a Go byte string. */
function unquote(tok: string): GoString {
  let out = '';
  for (let i = 1; i < tok.length - 1; i++) {
    const c = tok[i]!;
    if (c !== '\\') {
      out += fromUtf8(c);
      continue;
    }
    const n = tok[++i]!;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (n in simple) out += simple[n];
    else if (n === 'x') {
      out += String.fromCharCode(parseInt(tok.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n === 'u') {
      out += fromUtf8(String.fromCodePoint(parseInt(tok.slice(i + 1, i + 5), 16)));
      i += 4;
    } else throw new Error('escape ' + n);
  }
  return out;
}


function convert(v: GoValue, p: GoParam): GoValue {
  if (p === 'interface {}') return v === MISSING ? null : v;
  if (v === MISSING) throw new FuncError(`invalid value; expected ${p}`);
  if (p === 'string' && typeof v !== 'string') throw new FuncError(`wrong type for value; expected string; got ${formatValue(v)}`);
  if ((p === 'int' || p === 'int64') && !(v instanceof GoInt)) throw new FuncError(`wrong type for value; expected int`);
  if (p === 'float64' && v instanceof GoInt) return new GoFloat(Number(v.v));
  if (p === 'map[string]interface {}' && !(v instanceof GoMap && v.type === 'map[string]interface {}')) throw new FuncError(`wrong type for value; expected map[string]interface {}; got ${v instanceof GoMap ? v.type : typeof v}`);
  return v;
}

function call(ctx: FuncContext, name: string, args: GoValue[]): GoValue {
  // SPRIG-EXTRA's functions only make values (dates) for SPRIG-CORE's to take.
  const spec = SPRIG_CORE[name] ?? SPRIG_EXTRA[name];
  if (!spec) throw new Error(`not a Sprig function: ${name}`);
  const conv = args.map((a, k) => convert(a, k < spec.params.length ? spec.params[k]! : spec.variadic!));
  if (conv.length < spec.params.length || (!spec.variadic && conv.length > spec.params.length)) throw new Error(`wrong number of args for ${name}`);
  return spec.fn(ctx, conv);
}

function evaluate(ctx: FuncContext, src: string, data: GoMap): GoValue {
  const toks = lex(src);
  let pos = 0;
  const operand = (first = false): GoValue => {
    const t = toks[pos++]!;
    let v: GoValue;
    if (t === '(') {
      v = pipeline();
      pos++; // ')'
    } else if (t.startsWith('"')) v = unquote(t);
    else if (t === 'true' || t === 'false') v = t === 'true';
    else if (t === 'nil') v = null;
    else if (t === '.') v = data;
    else if (t.startsWith('.')) v = data.entries.get(t.slice(1)) ?? MISSING;
    else if (/^-?\d+$/.test(t)) v = new GoInt(BigInt(t));
    else if (/^-?[\d.]+(e[+-]?\d+)?$/.test(t)) v = new GoFloat(Number(t));
    else return call(ctx, t, args());
    // (expr).field, (expr).Method args... (the arguments up to the end of the command)
    while (toks[pos]?.startsWith('.') && (toks[pos - 1] === ')' || v instanceof GoObject)) {
      const f = toks[pos++]!.slice(1);
      if (v instanceof GoObject) {
        // Only a command's first word takes arguments (a method called with the rest of the command).
        const margs = !first || toks[pos]?.startsWith('.') ? [] : args();
        const r = v.field(f, margs, ctx);
        if (r === undefined) throw new FuncError(`can't evaluate field ${f} in type ${v.type}`);
        v = r;
      } else v = v instanceof GoMap ? (v.entries.get(f) ?? (v.type === 'map[string]string' ? '' : MISSING)) : MISSING;
    }
    return v;
  };
  const args = (): GoValue[] => {
    const out: GoValue[] = [];
    while (pos < toks.length && toks[pos] !== ')' && toks[pos] !== '|') {
      const t = toks[pos]!;
      if (/^[A-Za-z_]\w*$/.test(t) && !['true', 'false', 'nil'].includes(t)) {
        // A nested function name without parentheses only appears first in a command.
        throw new Error('unexpected function ' + t);
      }
      out.push(operand());
    }
    return out;
  };
  const command = (extra: GoValue[]): GoValue => {
    const t = toks[pos]!;
    if (/^[A-Za-z_]\w*$/.test(t) && !['true', 'false', 'nil'].includes(t)) {
      pos++;
      return call(ctx, t, [...args(), ...extra]);
    }
    return operand(true);
  };
  const pipeline = (): GoValue => {
    let v = command([]);
    while (toks[pos] === '|') {
      pos++;
      v = command([v]);
    }
    return v;
  };
  return pipeline();
}

function render(c: Case): { out?: Buffer; err?: string } {
  const data = new Map<GoString, GoValue>();
  for (const [k, v] of Object.entries(c.data)) data.set(k, fromUtf8(v));
  for (const [k, v] of Object.entries(c.data_b64 ?? {})) data.set(k, Buffer.from(v, 'base64').toString('latin1'));
  const root = new GoMap(data, 'map[string]string', '');
  const ctx = ctxFor();
  let out = '';
  try {
    for (const part of c.template.split(/(\{\{.*?\}\})/s)) {
      if (!part.startsWith('{{')) {
        out += fromUtf8(part);
        continue;
      }
      const v = evaluate(ctx, part.slice(2, -2), root);
      out += v === null || v === MISSING ? '<no value>' : formatValue(v, ctx.budget);
    }
  } catch (e) {
    if (e instanceof FuncError) return { err: e.message };
    throw e;
  }
  return { out: Buffer.from(out, 'latin1') };
}

describe('SPRIG-CORE against Go + Sprig 3.2.3 (test/template-golden/expected/sprig-core.json)', () => {
  it('has a golden output for every case', () => {
    expect(cases.length).toBeGreaterThan(150);
    for (const c of cases) expect(expected.has(c.name), c.name).toBe(true);
  });
  // Cases that need the language itself ($variables, range, if, builtins) are rendered by the engine's
  // golden test (test/template-golden/golden.test.ts runs every case of this file); here, the rest.
  const needsEngine = (t: string) => /\$|\{\{-?\s*(range|if|with|end)\b|\b(len|index|eq|printf)\s/.test(t);
  it('the engine-only cases are a minority (most are checked here too)', () => {
    expect(cases.filter((c) => needsEngine(c.template)).length).toBeLessThan(cases.length / 10);
  });
  for (const c of cases.filter((x) => !needsEngine(x.template))) {
    it(c.name, () => {
      const want = expected.get(c.name)!;
      const got = render(c);
      if (want.error !== undefined) {
        expect(got.err, `Go fails with: ${want.error}`).toBeDefined();
        // A FuncError's message is a Go string (bytes); the golden file holds Go's text as UTF-8.
        expect(want.error.endsWith(toUtf8(got.err!)), `Go: ${want.error}\nours: ${toUtf8(got.err!)}`).toBe(true);
      } else {
        expect(got.err).toBeUndefined();
        expect(got.out!.toString('latin1')).toBe(Buffer.from(want.output_b64, 'base64').toString('latin1'));
      }
    });
  }
});

/** Every name of Sprig 3.2.3's genericMap (functions.go), as upstream's template FuncMap starts from it. */
const SPRIG_GENERIC_MAP = [
  'abbrev', 'abbrevboth', 'add', 'add1', 'add1f', 'addf', 'adler32sum', 'ago', 'all', 'any', 'append', 'atoi',
  'b32dec', 'b32enc', 'b64dec', 'b64enc', 'base', 'bcrypt', 'biggest', 'buildCustomCert', 'camelcase', 'cat', 'ceil',
  'chunk', 'clean', 'coalesce', 'compact', 'concat', 'contains', 'date', 'dateInZone', 'dateModify', 'date_in_zone',
  'date_modify', 'decryptAES', 'deepCopy', 'deepEqual', 'default', 'derivePassword', 'dict', 'dig', 'dir', 'div',
  'divf', 'duration', 'durationRound', 'empty', 'encryptAES', 'env', 'expandenv', 'ext', 'fail', 'first', 'float64',
  'floor', 'fromJson', 'genCA', 'genCAWithKey', 'genPrivateKey', 'genSelfSignedCert', 'genSelfSignedCertWithKey',
  'genSignedCert', 'genSignedCertWithKey', 'get', 'getHostByName', 'has', 'hasKey', 'hasPrefix',
  'hasSuffix', 'hello', 'htmlDate', 'htmlDateInZone', 'htpasswd', 'indent', 'initial', 'initials', 'int', 'int64',
  'isAbs', 'join', 'kebabcase', 'keys', 'kindIs', 'kindOf', 'last', 'list', 'lower', 'max', 'maxf',
  'merge', 'mergeOverwrite', 'min', 'minf', 'mod', 'mul', 'mulf', 'mustAppend', 'mustChunk', 'mustCompact',
  'mustDateModify', 'mustDeepCopy', 'mustFirst', 'mustFromJson', 'mustHas', 'mustInitial', 'mustLast', 'mustMerge',
  'mustMergeOverwrite', 'mustPrepend', 'mustPush', 'mustRegexFind', 'mustRegexFindAll', 'mustRegexMatch',
  'mustRegexReplaceAll', 'mustRegexReplaceAllLiteral', 'mustRegexSplit', 'mustRest', 'mustReverse', 'mustSlice',
  'mustToDate', 'mustToJson', 'mustToPrettyJson', 'mustToRawJson', 'mustUniq', 'mustWithout', 'must_date_modify',
  'nindent', 'nospace', 'now', 'omit', 'osBase', 'osClean', 'osDir', 'osExt', 'osIsAbs', 'pick', 'pluck', 'plural',
  'prepend', 'push', 'quote', 'randAlpha', 'randAlphaNum', 'randAscii', 'randBytes', 'randInt', 'randNumeric',
  'regexFind', 'regexFindAll', 'regexMatch', 'regexQuoteMeta', 'regexReplaceAll', 'regexReplaceAllLiteral',
  'regexSplit', 'repeat', 'replace', 'rest', 'reverse', 'round', 'semver', 'semverCompare', 'seq', 'set', 'sha1sum',
  'sha256sum', 'shuffle', 'slice', 'snakecase', 'sortAlpha', 'split', 'splitList', 'splitn', 'squote', 'sub', 'subf',
  'substr', 'swapcase', 'ternary', 'title', 'toDate', 'toDecimal', 'toJson', 'toPrettyJson', 'toRawJson', 'toString',
  'toStrings', 'trim', 'trimAll', 'trimPrefix', 'trimSuffix', 'trimall', 'trunc', 'tuple', 'typeIs', 'typeIsLike',
  'typeOf', 'uniq', 'unixEpoch', 'unset', 'until', 'untilStep', 'untitle', 'upper', 'urlJoin', 'urlParse', 'uuidv4',
  'values', 'without', 'wrap', 'wrapWith',
];

describe('the Sprig function set', () => {
  it('SPRIG_CORE and SPRIG_EXTRA together have every genericMap name but env, expandenv and getHostByName, once', () => {
    expect(SPRIG_GENERIC_MAP.length).toBe(210);
    const removed = ['env', 'expandenv', 'getHostByName'];
    for (const name of SPRIG_GENERIC_MAP) {
      const where = [Object.hasOwn(SPRIG_CORE, name), Object.hasOwn(SPRIG_EXTRA, name)].filter(Boolean).length;
      expect(where, name).toBe(removed.includes(name) ? 0 : 1);
    }
    for (const name of Object.keys(SPRIG_CORE)) expect(SPRIG_GENERIC_MAP, name).toContain(name);
  });
});

describe('SPRIG-CORE functions that golden outputs cannot pin', () => {
  it('keys gives every key of every dict (Go leaves the order random)', () => {
    const ctx = ctxFor();
    const d1 = new GoMap(new Map([['b', '1'], ['a', '2']]));
    const d2 = new GoMap(new Map([['c', '3']]));
    const k = SPRIG_CORE.keys!.fn(ctx, [d1, d2]) as GoSlice;
    expect(k.type).toBe('[]string');
    expect([...k.items].sort()).toEqual(['a', 'b', 'c']);
  });
  it('values gives every value of the dict', () => {
    const ctx = ctxFor();
    const d = new GoMap(new Map<string, GoValue>([['b', '1'], ['a', new GoInt(2n)]]));
    const v = SPRIG_CORE.values!.fn(ctx, [d]) as GoSlice;
    expect(v.items.map((x) => formatValue(x)).sort()).toEqual(['1', '2']);
  });
  it('set changes the dict it is given, as Go maps are shared', () => {
    const ctx = ctxFor();
    const d = new GoMap(new Map());
    SPRIG_CORE.set!.fn(ctx, [d, 'k', 'v']);
    expect(d.entries.get('k')).toBe('v');
  });
  it('deepCopy is a copy: changing it leaves the original', () => {
    const ctx = ctxFor();
    const inner = new GoMap(new Map([['x', '1']]));
    const d = new GoMap(new Map<string, GoValue>([['n', inner]]));
    const c = SPRIG_CORE.deepCopy!.fn(ctx, [d]) as GoMap;
    SPRIG_CORE.set!.fn(ctx, [c.entries.get('n')!, 'x', '2']);
    expect(inner.entries.get('x')).toBe('1');
  });
});
