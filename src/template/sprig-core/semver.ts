/**
 * Sprig's semver and semverCompare over Masterminds/semver v3 (version.go, constraints.go):
 * the same regular expressions (run on re2js, linear time), the same error texts, and a
 * *semver.Version value whose methods (Major, Minor, Patch, Prerelease, Metadata, Original,
 * String, Compare, LessThan, GreaterThan, Equal, IncMajor, IncMinor, IncPatch) templates can call.
 */
import { RE2JS } from 're2js';
import { type FuncContext, FuncError, type FuncSpec, GoInt, GoObject, type GoString, type GoValue } from '../values.js';
import { asStr } from './go.js';

const cvRegex = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const semVerRegex = String.raw`v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const ops = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;

const compileRe = (s: string) => {
  const p = RE2JS.compile(s);
  return { re: p.re2(), size: p.programSize() };
};
let res: Record<'version' | 'constraint' | 'range' | 'find' | 'valid', { re: ReturnType<RE2JS['re2']>; size: number }> | undefined;
function regexes() {
  res ??= {
    version: compileRe('^' + semVerRegex + '$'),
    constraint: compileRe(String.raw`^\s*(${ops})\s*(${cvRegex})\s*$`),
    range: compileRe(String.raw`\s*(${cvRegex})\s+-\s+(${cvRegex})\s*`),
    find: compileRe(String.raw`(${ops})\s*(${cvRegex})`),
    valid: compileRe(String.raw`^(\s*(${ops})\s*(${cvRegex})\s*)((?:\s+|,\s*)(${ops})\s*(${cvRegex})\s*)*$`),
  };
  return res;
}

/** Runs one of the regexes over `s`, charged as regex.ts charges (|input| x |program|). */
function match(ctx: FuncContext, which: keyof ReturnType<typeof regexes>, s: string, all: boolean): (string | null)[][] {
  const r = regexes()[which];
  ctx.budget.scan((s.length + 1) * Math.max(4, r.size * 4));
  const buf = Buffer.from(s, 'latin1');
  const idx: number[][] = r.re.findAllUTF8SubmatchIndex(buf, all ? buf.length + 1 : 1) ?? [];
  return idx.map((m) => {
    const out: (string | null)[] = [];
    for (let k = 0; k < m.length; k += 2) out.push(m[k]! < 0 ? null : s.slice(m[k], m[k + 1]));
    return out;
  });
}

const U64_MAX = (1n << 64n) - 1n;
function parseUint(s: string): bigint | string {
  const v = BigInt(s);
  if (v > U64_MAX) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`;
  return v;
}

const NUM = /^[0-9]*$/;
const ALLOWED = /^[a-zA-Z0-9-]*$/;

export class SemverVersion extends GoObject {
  /** *semver.Version from NewVersion; a semver.Version value from IncMajor/IncMinor/IncPatch. */
  get type(): string {
    return this.pointer ? '*semver.Version' : 'semver.Version';
  }
  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: string,
    readonly metadata: string,
    readonly original: string,
    readonly pointer = true,
  ) {
    super();
  }
  override format(): GoString {
    return this.str();
  }
  str(): string {
    return `${this.major}.${this.minor}.${this.patch}` + (this.pre ? '-' + this.pre : '') + (this.metadata ? '+' + this.metadata : '');
  }
  private vPrefix(): string {
    return this.original.startsWith('v') ? 'v' : '';
  }
  private next(major: bigint, minor: bigint, patch: bigint): SemverVersion {
    const n = new SemverVersion(major, minor, patch, '', '', '', false);
    return new SemverVersion(major, minor, patch, '', '', this.vPrefix() + n.str(), false);
  }
  field(name: string, args: GoValue[]): GoValue | undefined {
    const other = (): SemverVersion => {
      if (args.length !== 1) throw new FuncError(`wrong number of args for ${name}: want 1 got ${args.length}`);
      const o = args[0];
      if (!(o instanceof SemverVersion) || !o.pointer) throw new FuncError(`wrong type for value; expected *semver.Version`);
      return o;
    };
    // Pointer-receiver methods (Original, Compare, LessThan, GreaterThan, Equal) are not in a value's method set.
    if (!this.pointer && ['Original', 'Compare', 'LessThan', 'GreaterThan', 'Equal'].includes(name)) return undefined;
    const none = () => {
      if (args.length !== 0) throw new FuncError(`wrong number of args for ${name}: want 0 got ${args.length}`);
    };
    switch (name) {
      case 'Major':
        return none(), new GoInt(this.major, 'uint64');
      case 'Minor':
        return none(), new GoInt(this.minor, 'uint64');
      case 'Patch':
        return none(), new GoInt(this.patch, 'uint64');
      case 'Prerelease':
        return none(), this.pre;
      case 'Metadata':
        return none(), this.metadata;
      case 'Original':
        return none(), this.original;
      case 'String':
        return none(), this.str();
      case 'MarshalJSONText':
        return this.str();
      case 'Compare':
        return new GoInt(BigInt(compareVersions(this, other())));
      case 'LessThan':
        return compareVersions(this, other()) < 0;
      case 'GreaterThan':
        return compareVersions(this, other()) > 0;
      case 'Equal':
        return compareVersions(this, other()) === 0;
      case 'IncPatch':
        none();
        return this.pre ? this.next(this.major, this.minor, this.patch) : this.next(this.major, this.minor, this.patch + 1n);
      case 'IncMinor':
        return none(), this.next(this.major, this.minor + 1n, 0n);
      case 'IncMajor':
        return none(), this.next(this.major + 1n, 0n, 0n);
      default:
        return undefined;
    }
  }
}

function validatePrerelease(p: string): string | undefined {
  for (const part of p.split('.')) {
    if (NUM.test(part)) {
      if (part.length > 1 && part[0] === '0') return 'Version segment starts with 0';
    } else if (!ALLOWED.test(part)) return 'Invalid Prerelease string';
  }
  return undefined;
}
function validateMetadata(m: string): string | undefined {
  for (const part of m.split('.')) if (!ALLOWED.test(part)) return 'Invalid Metadata string';
  return undefined;
}

/** semver.NewVersion: the version, or Go's error text. */
export function newVersion(ctx: FuncContext, v: string): SemverVersion | string {
  const m = match(ctx, 'version', v, false)[0];
  if (!m) return 'Invalid Semantic Version';
  const seg = (s: string | null): bigint | string => {
    if (!s) return 0n;
    const r = parseUint(s.replace(/^\./, ''));
    return typeof r === 'string' ? `Error parsing version segment: ${r}` : r;
  };
  const [major, minor, patch] = [seg(m[1]!), seg(m[2] ?? null), seg(m[3] ?? null)];
  for (const x of [major, minor, patch]) if (typeof x === 'string') return x;
  const pre = m[5] ?? '';
  const metadata = m[8] ?? '';
  if (pre) {
    const e = validatePrerelease(pre);
    if (e) return e;
  }
  if (metadata) {
    const e = validateMetadata(metadata);
    if (e) return e;
  }
  return new SemverVersion(major as bigint, minor as bigint, patch as bigint, pre, metadata, v);
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
function comparePrePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === '') return o !== '' ? -1 : 1;
  if (o === '') return s !== '' ? 1 : -1;
  const isU = (x: string) => /^[0-9]+$/.test(x) && BigInt(x) <= U64_MAX;
  const [n1, n2] = [!isU(o), !isU(s)];
  if (n1 && n2) return s > o ? 1 : -1;
  if (n1) return -1;
  if (n2) return 1;
  return BigInt(s) > BigInt(o) ? 1 : -1;
}
function comparePrerelease(v: string, o: string): number {
  const [sp, op] = [v.split('.'), o.split('.')];
  const l = Math.max(sp.length, op.length);
  for (let k = 0; k < l; k++) {
    const d = comparePrePart(sp[k] ?? '', op[k] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}
function compareVersions(v: SemverVersion, o: SemverVersion): number {
  const d = cmp(v.major, o.major) || cmp(v.minor, o.minor) || cmp(v.patch, o.patch);
  if (d) return d;
  if (v.pre === '' && o.pre === '') return 0;
  if (v.pre === '') return 1;
  if (o.pre === '') return -1;
  return comparePrerelease(v.pre, o.pre);
}

interface Constraint {
  con: SemverVersion;
  orig: string;
  origfunc: string;
  minorDirty: boolean;
  dirty: boolean;
  patchDirty: boolean;
}
const isX = (x: string) => x === 'x' || x === '*' || x === 'X';

function parseConstraint(ctx: FuncContext, c: string): Constraint | string {
  if (c.length === 0) {
    return { con: new SemverVersion(0n, 0n, 0n, '', '', '0.0.0'), orig: c, origfunc: '', minorDirty: false, patchDirty: false, dirty: true };
  }
  const m = match(ctx, 'constraint', c, false)[0];
  if (!m) return `improper constraint: ${c}`;
  let ver = m[2]!;
  let [minorDirty, patchDirty, dirty] = [false, false, false];
  const [m3, m4, m5, m6] = [m[3] ?? '', m[4] ?? '', m[5] ?? '', m[6] ?? ''];
  if (isX(m3) || m3 === '') {
    ver = `0.0.0${m6}`;
    dirty = true;
  } else if (isX(m4.replace(/^\./, '')) || m4 === '') {
    minorDirty = dirty = true;
    ver = `${m3}.0.0${m6}`;
  } else if (isX(m5.replace(/^\./, '')) || m5 === '') {
    dirty = patchDirty = true;
    ver = `${m3}${m4}.0${m6}`;
  }
  const con = newVersion(ctx, ver);
  if (typeof con === 'string') return 'constraint Parser Error';
  return { con, orig: m[2]!, origfunc: m[1]!, minorDirty, dirty, patchDirty };
}

function rewriteRange(ctx: FuncContext, s: string): string {
  const ms = match(ctx, 'range', s, true);
  let o = s;
  for (const v of ms) {
    const at = o.indexOf(v[0]!);
    if (at >= 0) o = o.slice(0, at) + `>= ${v[1]}, <= ${v[11]}` + o.slice(at + v[0]!.length);
  }
  return o;
}

function newConstraint(ctx: FuncContext, c: string): Constraint[][] | string {
  c = rewriteRange(ctx, c);
  const out: Constraint[][] = [];
  for (const v of c.split('||')) {
    ctx.budget.step();
    if (match(ctx, 'valid', v, false).length === 0) return `improper constraint: ${v}`;
    let cs = match(ctx, 'find', v, true).map((m) => m[0]!);
    if (cs.length === 0) cs = [v];
    const group: Constraint[] = [];
    for (const s of cs) {
      ctx.budget.step();
      const pc = parseConstraint(ctx, s);
      if (typeof pc === 'string') return pc;
      group.push(pc);
    }
    out.push(group);
  }
  return out;
}

function tilde(v: SemverVersion, c: Constraint): boolean {
  if (v.pre !== '' && c.con.pre === '') return false;
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

const CHECKS: Record<string, (v: SemverVersion, c: Constraint) => boolean> = {
  '': (v, c) => (v.pre !== '' && c.con.pre === '' ? false : c.dirty ? tilde(v, c) : compareVersions(v, c.con) === 0),
  '!=': (v, c) => {
    if (c.dirty) {
      if (v.pre !== '' && c.con.pre === '') return false;
      if (c.con.major !== v.major) return true;
      if (c.con.minor !== v.minor && !c.minorDirty) return true;
      else if (c.minorDirty) return false;
      else if (c.con.patch !== v.patch && !c.patchDirty) return true;
      else if (c.patchDirty) {
        if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
        return false;
      }
    }
    return compareVersions(v, c.con) !== 0;
  },
  '>': (v, c) => {
    if (v.pre !== '' && c.con.pre === '') return false;
    if (!c.dirty) return compareVersions(v, c.con) === 1;
    if (v.major > c.con.major) return true;
    if (v.major < c.con.major) return false;
    if (c.minorDirty) return false;
    if (c.patchDirty) return v.minor > c.con.minor;
    return compareVersions(v, c.con) === 1;
  },
  '<': (v, c) => !(v.pre !== '' && c.con.pre === '') && compareVersions(v, c.con) < 0,
  '>=': (v, c) => !(v.pre !== '' && c.con.pre === '') && compareVersions(v, c.con) >= 0,
  '<=': (v, c) => {
    if (v.pre !== '' && c.con.pre === '') return false;
    if (!c.dirty) return compareVersions(v, c.con) <= 0;
    if (v.major > c.con.major) return false;
    if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
    return true;
  },
  '~': tilde,
  '^': (v, c) => {
    if (v.pre !== '' && c.con.pre === '') return false;
    if (compareVersions(v, c.con) < 0) return false;
    if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
    if (c.con.major === 0n && v.major > 0n) return false;
    if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
    if (c.con.minor === 0n && v.minor > 0n) return false;
    return c.con.patch === v.patch;
  },
};
CHECKS['='] = CHECKS['']!;
CHECKS['=>'] = CHECKS['>=']!;
CHECKS['=<'] = CHECKS['<=']!;
CHECKS['~>'] = CHECKS['~']!;

export const SEMVER_FUNCS: Record<string, FuncSpec> = {
  semver: {
    params: ['string'],
    fn: (ctx, [s]) => {
      const v = newVersion(ctx, asStr(s));
      if (typeof v === 'string') throw new FuncError(v);
      return v;
    },
  },
  semverCompare: {
    params: ['string', 'string'],
    fn: (ctx, [c, s]) => {
      const cs = newConstraint(ctx, asStr(c));
      if (typeof cs === 'string') throw new FuncError(cs);
      const v = newVersion(ctx, asStr(s));
      if (typeof v === 'string') throw new FuncError(v);
      return cs.some((group) => group.every((k) => CHECKS[k.origfunc]!(v, k)));
    },
  },
};
