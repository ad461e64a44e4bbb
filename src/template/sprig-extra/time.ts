/**
 * Go's time package as Sprig's date functions use it: time.Time values (GoTime), layouts
 * (Time.Format and time.Parse with every layout element of Go 1.19's time/format.go),
 * locations (UTC, Local, fixed zones, and IANA zones read from the same TZif files Go's
 * LoadLocation reads, /usr/share/zoneinfo, with their POSIX TZ footers), durations
 * (ParseDuration, Duration.String, Round).
 *
 * "Local" is UTC named "Local", as in upstream's container (no TZ, no zone database entry
 * for localtime): a controller's output must not depend on the host it happens to run on.
 */
import { readFileSync, statSync } from 'node:fs';
import { EvalError } from '../budget.js';
import { type FuncContext, FuncError, type GoString, type GoValue, GoFloat, GoInt, GoObject, MISSING } from '../values.js';

// ---------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): { year: number; month: number; day: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

function daysIn(month: number, year: number): number {
  if (month === 2 && isLeap(year)) return 29;
  return DAYS_BEFORE[month]! - DAYS_BEFORE[month - 1]!;
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);
const mod = (a: number, b: number): number => ((a % b) + b) % b;

export const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_MONTHS = LONG_MONTHS.map((m) => m.slice(0, 3));
const SHORT_DAYS = LONG_DAYS.map((d) => d.slice(0, 3));

// ---------------------------------------------------------------------------------------
// Locations

export interface ZoneInfo {
  abbr: string;
  offset: number;
  isDST: boolean;
  /** The range [start, end) of unix seconds in which this answer holds. */
  start: number;
  end: number;
}

export interface Location {
  readonly name: string;
  lookup(sec: number): ZoneInfo;
  /** The offset of the zone abbreviated `abbr` in effect near `sec`, for time.Parse. */
  lookupName?(abbr: string, sec: number): number | undefined;
}

const ALWAYS = { start: -Infinity, end: Infinity };

export class FixedZone implements Location {
  constructor(
    readonly name: string,
    readonly offset: number,
    readonly abbr: string = name,
  ) {}
  lookup(): ZoneInfo {
    return { abbr: this.abbr, offset: this.offset, isDST: false, ...ALWAYS };
  }
  lookupName(abbr: string): number | undefined {
    return abbr === this.abbr ? this.offset : undefined;
  }
}

export const UTC: Location = new FixedZone('UTC', 0);
/** Upstream's Local: the container's zone, UTC. Named "Local", abbreviated "UTC". */
export const LOCAL: Location = new FixedZone('Local', 0, 'UTC');

interface TzRule {
  kind: 'J' | 'n' | 'M';
  day: number;
  week: number;
  mon: number;
  time: number;
}

/** A POSIX TZ string (a TZif footer): std offset [dst [offset] [,start[/time],end[/time]]]. */
class TzString {
  constructor(
    readonly std: string,
    readonly stdOff: number,
    readonly dst?: { name: string; off: number; start: TzRule; end: TzRule },
  ) {}

  static parse(s: string): TzString | undefined {
    let i = 0;
    const name = (): string | undefined => {
      if (s[i] === '<') {
        const j = s.indexOf('>', i);
        if (j < 0) return undefined;
        const n = s.slice(i + 1, j);
        i = j + 1;
        return n;
      }
      const j = i;
      while (i < s.length && /[A-Za-z]/.test(s[i]!)) i++;
      return i - j >= 3 ? s.slice(j, i) : undefined;
    };
    const num = (): number | undefined => {
      const j = i;
      while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
      return i > j ? Number(s.slice(j, i)) : undefined;
    };
    const clock = (): number | undefined => {
      let sign = 1;
      if (s[i] === '+' || s[i] === '-') sign = s[i++] === '-' ? -1 : 1;
      const h = num();
      if (h === undefined) return undefined;
      let t = h * 3600;
      if (s[i] === ':') {
        i++;
        t += (num() ?? 0) * 60;
        if (s[i] === ':') {
          i++;
          t += num() ?? 0;
        }
      }
      return sign * t;
    };
    const rule = (): TzRule | undefined => {
      let r: TzRule;
      if (s[i] === 'J') {
        i++;
        r = { kind: 'J', day: num() ?? -1, week: 0, mon: 0, time: 7200 };
      } else if (s[i] === 'M') {
        i++;
        const mon = num();
        if (s[i++] !== '.') return undefined;
        const week = num();
        if (s[i++] !== '.') return undefined;
        const day = num();
        if (mon === undefined || week === undefined || day === undefined) return undefined;
        r = { kind: 'M', day, week, mon, time: 7200 };
      } else {
        r = { kind: 'n', day: num() ?? -1, week: 0, mon: 0, time: 7200 };
      }
      if (s[i] === '/') {
        i++;
        const t = clock();
        if (t === undefined) return undefined;
        r.time = t;
      }
      return r;
    };
    const std = name();
    if (std === undefined) return undefined;
    const stdOff = clock();
    if (stdOff === undefined) return undefined;
    if (i >= s.length) return new TzString(std, -stdOff);
    const dst = name();
    if (dst === undefined) return undefined;
    let dstOff = -stdOff + 3600;
    if (i < s.length && s[i] !== ',') {
      const o = clock();
      if (o === undefined) return undefined;
      dstOff = -o;
    }
    if (i >= s.length) {
      // No rule: the US rules of POSIX's default ("M3.2.0,M11.1.0").
      return new TzString(std, -stdOff, { name: dst, off: dstOff, start: { kind: 'M', mon: 3, week: 2, day: 0, time: 7200 }, end: { kind: 'M', mon: 11, week: 1, day: 0, time: 7200 } });
    }
    if (s[i++] !== ',') return undefined;
    const start = rule();
    if (s[i++] !== ',') return undefined;
    const end = rule();
    if (!start || !end || i < s.length) return undefined;
    return new TzString(std, -stdOff, { name: dst, off: dstOff, start, end });
  }

  /** Seconds from the start of `year` (UTC) at which the rule fires, given the offset in force before it. */
  static ruleTime(year: number, r: TzRule, off: number): number {
    let day: number;
    if (r.kind === 'J') {
      day = r.day - 1;
      if (isLeap(year) && day >= 59) day++;
    } else if (r.kind === 'n') {
      day = r.day;
    } else {
      const first = daysFromCivil(year, r.mon, 1);
      const wd = mod(first + 4, 7);
      let d = mod(r.day - wd, 7);
      for (let w = 1; w < r.week; w++) {
        if (d + 7 >= daysIn(r.mon, year)) break;
        d += 7;
      }
      day = DAYS_BEFORE[r.mon - 1]! + (isLeap(year) && r.mon > 2 ? 1 : 0) + d;
    }
    return day * 86400 + r.time - off;
  }

  lookup(sec: number): ZoneInfo {
    const std = { abbr: this.std, offset: this.stdOff, isDST: false };
    if (!this.dst) return { ...std, ...ALWAYS };
    const days = floorDiv(sec, 86400);
    const { year } = civilFromDays(days);
    const yearStart = daysFromCivil(year, 1, 1) * 86400;
    const ysec = sec - yearStart;
    const startSec = TzString.ruleTime(year, this.dst.start, this.stdOff);
    const endSec = TzString.ruleTime(year, this.dst.end, this.dst.off);
    const dst = { abbr: this.dst.name, offset: this.dst.off, isDST: true };
    const yearEnd = daysFromCivil(year + 1, 1, 1) * 86400;
    if (startSec < endSec) {
      if (ysec < startSec) return { ...std, start: yearStart, end: yearStart + startSec };
      if (ysec >= endSec) return { ...std, start: yearStart + endSec, end: yearEnd };
      return { ...dst, start: yearStart + startSec, end: yearStart + endSec };
    }
    if (ysec < endSec) return { ...dst, start: yearStart, end: yearStart + endSec };
    if (ysec >= startSec) return { ...dst, start: yearStart + startSec, end: yearEnd };
    return { ...std, start: yearStart + endSec, end: yearStart + startSec };
  }
}

interface TzType {
  offset: number;
  isDST: boolean;
  abbr: string;
}

/** A zone from a TZif file (RFC 8536), as Go's LoadLocationFromTZData reads it. */
export class TzifZone implements Location {
  constructor(
    readonly name: string,
    readonly tx: number[],
    readonly idx: number[],
    readonly types: TzType[],
    readonly extend: TzString | undefined,
  ) {}

  static parse(name: string, b: Buffer): TzifZone | undefined {
    if (b.length < 44 || b.toString('latin1', 0, 4) !== 'TZif') return undefined;
    const version = b[4]!;
    let p = 0;
    const header = (at: number) => ({
      isut: b.readUInt32BE(at + 20),
      isstd: b.readUInt32BE(at + 24),
      leap: b.readUInt32BE(at + 28),
      time: b.readUInt32BE(at + 32),
      type: b.readUInt32BE(at + 36),
      char: b.readUInt32BE(at + 40),
    });
    let h = header(0);
    let tsize = 4;
    p = 44;
    if (version >= 0x32) {
      p += h.time * 4 + h.time + h.type * 6 + h.char + h.leap * 8 + h.isstd + h.isut;
      if (b.length < p + 44) return undefined;
      h = header(p);
      p += 44;
      tsize = 8;
    }
    const need = h.time * tsize + h.time + h.type * 6 + h.char + h.leap * (tsize + 4) + h.isstd + h.isut;
    if (b.length < p + need || h.type === 0 || h.type > 256) return undefined;
    const tx: number[] = [];
    for (let i = 0; i < h.time; i++) tx.push(tsize === 8 ? Number(b.readBigInt64BE(p + i * 8)) : b.readInt32BE(p + i * 4));
    p += h.time * tsize;
    const idx: number[] = [];
    for (let i = 0; i < h.time; i++) idx.push(b[p + i]!);
    p += h.time;
    const raw: { off: number; dst: boolean; ai: number }[] = [];
    for (let i = 0; i < h.type; i++) raw.push({ off: b.readInt32BE(p + i * 6), dst: b[p + i * 6 + 4] !== 0, ai: b[p + i * 6 + 5]! });
    p += h.type * 6;
    const chars = b.toString('latin1', p, p + h.char);
    p += h.char + h.leap * (tsize + 4) + h.isstd + h.isut;
    if (idx.some((i) => i >= raw.length)) return undefined;
    const types = raw.map((r) => {
      const end = chars.indexOf('\0', r.ai);
      return { offset: r.off, isDST: r.dst, abbr: chars.slice(r.ai, end < 0 ? undefined : end) };
    });
    let extend: TzString | undefined;
    if (tsize === 8 && b[p] === 0x0a) {
      const end = b.indexOf(0x0a, p + 1);
      if (end > p + 1) extend = TzString.parse(b.toString('latin1', p + 1, end));
    }
    return new TzifZone(name, tx, idx, types, extend);
  }

  #firstZone(): TzType {
    if (this.tx.length > 0 && this.types[this.idx[0]!]!.isDST) {
      for (let zi = this.idx[0]! - 1; zi >= 0; zi--) if (!this.types[zi]!.isDST) return this.types[zi]!;
    }
    return this.types.find((t) => !t.isDST) ?? this.types[0]!;
  }

  lookup(sec: number): ZoneInfo {
    if (this.tx.length === 0 || sec < this.tx[0]!) {
      const z = this.#firstZone();
      return { abbr: z.abbr, offset: z.offset, isDST: z.isDST, start: -Infinity, end: this.tx[0] ?? Infinity };
    }
    let lo = 0;
    let hi = this.tx.length;
    while (hi - lo > 1) {
      const m = (lo + hi) >> 1;
      if (sec < this.tx[m]!) hi = m;
      else lo = m;
    }
    const last = lo === this.tx.length - 1;
    if (last && this.extend) {
      const z = this.extend.lookup(sec);
      return { ...z, start: Math.max(z.start, this.tx[lo]!) };
    }
    const z = this.types[this.idx[lo]!]!;
    return { abbr: z.abbr, offset: z.offset, isDST: z.isDST, start: this.tx[lo]!, end: last ? Infinity : this.tx[lo + 1]! };
  }

  lookupName(abbr: string, sec: number): number | undefined {
    // Go: first a zone with that name in effect at sec, else any zone with that name.
    for (const t of this.types) {
      if (t.abbr !== abbr) continue;
      const z = this.lookup(sec - t.offset);
      if (z.abbr === t.abbr) return z.offset;
    }
    return this.types.find((t) => t.abbr === abbr)?.offset;
  }
}

const ZONEINFO_DIRS = ['/usr/share/zoneinfo/', '/usr/share/lib/zoneinfo/', '/usr/lib/locale/TZ/'];
/** Steps a zone load costs: it reads a file (a few KiB). */
export const ZONE_LOAD_STEPS = 20;

/**
 * time.LoadLocation. Names are checked before any file is touched: IANA names only
 * (letters, digits, "_", "-", "+", "/"), no "..", no leading "/", at most 64 bytes,
 * so a template cannot make the controller read any other file.
 */
export function loadLocation(ctx: FuncContext, name: GoString): Location | undefined {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return LOCAL;
  if (name.length > 64 || name.includes('..') || !/^[A-Za-z0-9_+-][A-Za-z0-9_+/-]*$/.test(name)) return undefined;
  for (let i = 0; i < ZONE_LOAD_STEPS; i++) ctx.budget.step();
  const dirs = process.env['ZONEINFO'] ? [process.env['ZONEINFO'].replace(/\/?$/, '/'), ...ZONEINFO_DIRS] : ZONEINFO_DIRS;
  for (const dir of dirs) {
    let data: Buffer;
    try {
      // Zone files are a few KiB; the directory's other files (tzdata.zi, *.tab) are not read whole.
      const st = statSync(dir + name);
      if (!st.isFile()) continue;
      if (st.size > 1 << 16) return undefined;
      data = readFileSync(dir + name);
    } catch {
      continue;
    }
    return TzifZone.parse(name, data);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Durations (int64 nanoseconds)

export const NS = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n } as const;
const MAX_I64 = (1n << 63n) - 1n;
const MIN_I64 = -(1n << 63n);

export function wrapI64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Duration.String. */
export function durationString(d: bigint): GoString {
  let u = d < 0n ? -d : d;
  if (d === MIN_I64) u = 1n << 63n;
  const neg = d < 0n;
  const frac = (v: bigint, prec: number): [string, bigint] => {
    let s = '';
    let print = false;
    for (let i = 0; i < prec; i++) {
      const digit = v % 10n;
      print = print || digit !== 0n;
      if (print) s = String(digit) + s;
      v /= 10n;
    }
    return [print ? '.' + s : '', v];
  };
  let out: string;
  if (u < NS.s) {
    if (u === 0n) return '0s';
    let unit: string;
    let prec: number;
    if (u < NS.us) [unit, prec] = ['ns', 0];
    else if (u < NS.ms) [unit, prec] = ['\xc2\xb5s', 3];
    else [unit, prec] = ['ms', 6];
    const [f, v] = frac(u, prec);
    out = String(v) + f + unit;
  } else {
    const [f, v0] = frac(u, 9);
    let v = v0;
    out = String(v % 60n) + f + 's';
    v /= 60n;
    if (v > 0n) {
      out = String(v % 60n) + 'm' + out;
      v /= 60n;
      if (v > 0n) out = String(v) + 'h' + out;
    }
  }
  return neg ? '-' + out : out;
}

const UNITS = new Map<string, bigint>([
  ['ns', NS.ns],
  ['us', NS.us],
  ['\xc2\xb5s', NS.us],
  ['\xce\xbcs', NS.us],
  ['ms', NS.ms],
  ['s', NS.s],
  ['m', NS.m],
  ['h', NS.h],
]);

/** Go's quote() in time error messages (non-ASCII and control bytes as \xNN). */
function tquote(s: GoString): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || c < 0x20) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += c === 0x22 || c === 0x5c ? '\\' + s[i] : s[i];
  }
  return out + '"';
}

/** time.ParseDuration; throws FuncError with Go's message. */
export function parseDuration(orig: GoString): bigint {
  let s = orig;
  let neg = false;
  const invalid = () => new FuncError('time: invalid duration ' + tquote(orig));
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0]! >= '0' && s[0]! <= '9'))) throw invalid();
    let i = 0;
    let v = 0n;
    while (i < s.length && s[i]! >= '0' && s[i]! <= '9') {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > 1n << 63n) throw invalid();
      i++;
    }
    const pre = i > 0;
    s = s.slice(i);
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (j < s.length && s[j]! >= '0' && s[j]! <= '9') {
        if (!overflow) {
          const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
          if (f > (MAX_I64 / 10n) || y > 1n << 63n) overflow = true;
          else {
            f = y;
            scale *= 10;
          }
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    let k = 0;
    while (k < s.length && !(s[k] === '.' || (s[k]! >= '0' && s[k]! <= '9'))) k++;
    if (k === 0) throw new FuncError('time: missing unit in duration ' + tquote(orig));
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = UNITS.get(u);
    if (unit === undefined) throw new FuncError('time: unknown unit ' + tquote(u) + ' in duration ' + tquote(orig));
    if (v > (1n << 63n) / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > 1n << 63n) throw invalid();
    }
    d += v;
    if (d > 1n << 63n) throw invalid();
  }
  if (neg) return wrapI64(-d);
  if (d > MAX_I64) throw invalid();
  return d;
}

/** Duration.Round. */
export function durationRound(d: bigint, m: bigint): bigint {
  if (m <= 0n) return d;
  let r = d % m;
  const lessThanHalf = (x: bigint, y: bigint) => x + x < y;
  if (d < 0n) {
    r = -r;
    if (lessThanHalf(r, m)) return d + r;
    const d1 = d - m + r;
    return d1 < d && d1 >= MIN_I64 ? d1 : MIN_I64;
  }
  if (lessThanHalf(r, m)) return d - r;
  const d1 = d + m - r;
  return d1 > d && d1 <= MAX_I64 ? d1 : MAX_I64;
}

/** A time.Duration value: prints as Duration.String, is an int64 underneath. */
export class GoDuration extends GoObject {
  readonly type = 'time.Duration';
  constructor(readonly ns: bigint) {
    super();
  }
  field(name: string): GoValue | undefined {
    switch (name) {
      case 'String':
        return durationString(this.ns);
      case 'Seconds':
        return new GoFloat(Number(this.ns / NS.s) + Number(this.ns % NS.s) / 1e9);
      case 'Nanoseconds':
        return new GoInt(this.ns, 'int64');
      default:
        return undefined;
    }
  }
  format(): GoString {
    return durationString(this.ns);
  }
  override truth(): boolean {
    return this.ns !== 0n;
  }
}

// ---------------------------------------------------------------------------------------
// time.Time

/** A named Go integer type printed through its String method (time.Month, time.Weekday). */
export class GoNamedInt extends GoObject {
  constructor(
    readonly type: string,
    readonly v: number,
    readonly text: string,
  ) {
    super();
  }
  field(name: string): GoValue | undefined {
    return name === 'String' ? this.text : undefined;
  }
  format(): GoString {
    return this.text;
  }
  override truth(): boolean {
    return this.v !== 0;
  }
}

export class GoTime extends GoObject {
  readonly type = 'time.Time';
  /**
   * @param sec unix seconds
   * @param nsec 0..999999999
   * @param mono the monotonic clock reading in ns (time.Now only; printed as m=+...)
   */
  constructor(
    readonly sec: number,
    readonly nsec: number,
    readonly loc: Location,
    readonly mono?: bigint,
  ) {
    super();
  }

  static unix(sec: number, nsec: number, loc: Location): GoTime {
    return new GoTime(sec + floorDiv(nsec, 1e9), mod(nsec, 1e9), loc);
  }

  /** Go's time.Date with normalisation and the zone offset looked up as Go does. */
  static date(year: number, month: number, day: number, hour: number, min: number, sec: number, nsec: number, loc: Location): GoTime {
    let m = month - 1;
    year += floorDiv(m, 12);
    m = mod(m, 12);
    sec += floorDiv(nsec, 1e9);
    nsec = mod(nsec, 1e9);
    min += floorDiv(sec, 60);
    sec = mod(sec, 60);
    hour += floorDiv(min, 60);
    min = mod(min, 60);
    day += floorDiv(hour, 24);
    hour = mod(hour, 24);
    const days = daysFromCivil(year, m + 1, 1) + day - 1;
    let unix = days * 86400 + hour * 3600 + min * 60 + sec;
    const z = loc.lookup(unix);
    if (z.offset !== 0) {
      const utc = unix - z.offset;
      const off = utc < z.start || utc >= z.end ? loc.lookup(utc).offset : z.offset;
      unix -= off;
    }
    return new GoTime(unix, nsec, loc);
  }

  zone(): ZoneInfo {
    return this.loc.lookup(this.sec);
  }

  /** Wall-clock fields in the time's location. */
  parts() {
    const z = this.zone();
    const local = this.sec + z.offset;
    const days = floorDiv(local, 86400);
    const secOfDay = local - days * 86400;
    const { year, month, day } = civilFromDays(days);
    const yday = days - daysFromCivil(year, 1, 1) + 1;
    return {
      year,
      month,
      day,
      yday,
      hour: Math.floor(secOfDay / 3600),
      min: Math.floor((secOfDay % 3600) / 60),
      sec: secOfDay % 60,
      weekday: mod(days + 4, 7),
      zone: z,
    };
  }

  in(loc: Location): GoTime {
    return new GoTime(this.sec, this.nsec, loc);
  }

  add(d: bigint): GoTime {
    const total = BigInt(this.nsec) + d;
    const s = total / NS.s - (total % NS.s < 0n ? 1n : 0n);
    const ns = Number(total - s * NS.s);
    return new GoTime(this.sec + Number(s), ns, this.loc, this.mono === undefined ? undefined : this.mono + d);
  }

  /** t.Sub(u) saturated to int64 as Go does. */
  sub(u: GoTime): bigint {
    const d = (this.mono !== undefined && u.mono !== undefined) ? this.mono - u.mono : (BigInt(this.sec) - BigInt(u.sec)) * NS.s + BigInt(this.nsec - u.nsec);
    return d > MAX_I64 ? MAX_I64 : d < MIN_I64 ? MIN_I64 : d;
  }

  unixNano(): bigint {
    return wrapI64(BigInt(this.sec) * NS.s + BigInt(this.nsec));
  }

  isZero(): boolean {
    // Go's zero Time is January 1, year 1, 00:00:00 UTC.
    return this.sec === ZERO_UNIX && this.nsec === 0;
  }

  formatLayout(layout: GoString): GoString {
    return formatTime(this, layout);
  }

  format(): GoString {
    let s = formatTime(this, '2006-01-02 15:04:05.999999999 -0700 MST');
    if (this.mono !== undefined) {
      const neg = this.mono < 0n;
      let m2 = neg ? -this.mono : this.mono;
      let m1 = m2 / 1_000_000_000n;
      m2 %= 1_000_000_000n;
      const m0 = m1 / 1_000_000_000n;
      m1 %= 1_000_000_000n;
      s += ' m=' + (neg ? '-' : '+') + (m0 !== 0n ? String(m0) + String(m1).padStart(9, '0') : String(m1)) + '.' + String(m2).padStart(9, '0');
    }
    return s;
  }

  field(name: string, args: GoValue[], ctx: FuncContext): GoValue | undefined {
    try {
      return this.#method(name, args, ctx);
    } catch (e) {
      // As for functions (sprig-extra.ts guarded): a library failure is the call's error, not an exception.
      if (e instanceof FuncError || e instanceof EvalError || e instanceof RangeError) throw e;
      throw new FuncError(`${name}: internal error: ${e instanceof Error ? e.constructor.name : 'exception'}`);
    }
  }

  #method(name: string, args: GoValue[], ctx: FuncContext): GoValue | undefined {
    const p = () => this.parts();
    const int = (v: number | bigint, type: 'int' | 'int64' = 'int') => new GoInt(BigInt(v), type);
    const arity = (n: number) => {
      if (args.length !== n) throw new FuncError(`wrong number of args for ${name}: want ${n} got ${args.length}`);
    };
    const needTime = (v: GoValue | undefined): GoTime => {
      if (v instanceof GoTime) return v;
      throw new FuncError(`wrong type for value; expected time.Time; got ${typeName(v)}`);
    };
    const needInt = (v: GoValue | undefined): bigint => {
      if (v instanceof GoInt) return v.v;
      if (v instanceof GoDuration) return v.ns;
      throw new FuncError(`wrong type for value; expected int; got ${typeName(v)}`);
    };
    switch (name) {
      case 'Year':
        return arity(0), int(p().year);
      case 'Month': {
        arity(0);
        const m = p().month;
        return new GoNamedInt('time.Month', m, LONG_MONTHS[m - 1]!);
      }
      case 'Day':
        return arity(0), int(p().day);
      case 'Hour':
        return arity(0), int(p().hour);
      case 'Minute':
        return arity(0), int(p().min);
      case 'Second':
        return arity(0), int(p().sec);
      case 'Nanosecond':
        return arity(0), int(this.nsec);
      case 'YearDay':
        return arity(0), int(p().yday);
      case 'Weekday': {
        arity(0);
        const w = p().weekday;
        return new GoNamedInt('time.Weekday', w, LONG_DAYS[w]!);
      }
      case 'Unix':
        return arity(0), int(this.sec, 'int64');
      case 'UnixMilli':
        return arity(0), int(wrapI64(BigInt(this.sec) * 1000n + BigInt(Math.floor(this.nsec / 1e6))), 'int64');
      case 'UnixMicro':
        return arity(0), int(wrapI64(BigInt(this.sec) * 1_000_000n + BigInt(Math.floor(this.nsec / 1e3))), 'int64');
      case 'UnixNano':
        return arity(0), int(this.unixNano(), 'int64');
      case 'UTC':
        return arity(0), this.in(UTC);
      case 'Local':
        return arity(0), this.in(LOCAL);
      case 'IsZero':
        return arity(0), this.isZero();
      case 'String':
        return arity(0), ctx.budget.produce(64), this.format();
      case 'Location':
        return arity(0), this.loc.name;
      case 'Format': {
        arity(1);
        const layout = args[0];
        if (typeof layout !== 'string') throw new FuncError(`wrong type for value; expected string; got ${typeName(layout)}`);
        ctx.budget.scan(layout.length);
        ctx.budget.step(layoutSteps(layout));
        ctx.budget.reserve(formatBound(layout));
        const out = this.formatLayout(layout);
        ctx.budget.produce(out.length);
        return out;
      }
      case 'Add':
        return arity(1), this.add(needInt(args[0]));
      case 'Sub':
        return arity(1), new GoDuration(this.sub(needTime(args[0])));
      case 'AddDate': {
        arity(3);
        const [y, m, d] = args.map(needInt) as [bigint, bigint, bigint];
        const q = p();
        const lim = (v: bigint) => Number(v > 100_000_000n ? 100_000_000n : v < -100_000_000n ? -100_000_000n : v);
        return GoTime.date(q.year + lim(y), q.month + lim(m), q.day + lim(d), q.hour, q.min, q.sec, this.nsec, this.loc);
      }
      case 'Before':
        return arity(1), compare(this, needTime(args[0])) < 0;
      case 'After':
        return arity(1), compare(this, needTime(args[0])) > 0;
      case 'Equal':
        return arity(1), compare(this, needTime(args[0])) === 0;
      case 'Truncate':
      case 'Round': {
        arity(1);
        const m = needInt(args[0]);
        if (m <= 0n) return new GoTime(this.sec, this.nsec, this.loc);
        // Go rounds the absolute time (since year 1); for divisors of a day this is the same as from the epoch.
        const abs = (BigInt(this.sec) - BigInt(ZERO_UNIX)) * NS.s + BigInt(this.nsec);
        // The floored remainder (Go's div works on |t| and flips it for times before year 1).
        let r = ((abs % m) + m) % m;
        if (name === 'Round' && r + r >= m) r -= m;
        return new GoTime(this.sec, this.nsec, this.loc).add(-r);
      }
      default:
        return undefined;
    }
  }
}

/** Unix seconds of Go's zero time, 0001-01-01T00:00:00Z. */
export const ZERO_UNIX = daysFromCivil(1, 1, 1) * 86400;

function compare(a: GoTime, b: GoTime): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}

function typeName(v: GoValue | undefined): string {
  if (v === undefined || v === null || v === MISSING) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return v.type;
  if (v instanceof GoObject) return v.type;
  return 'value';
}

// ---------------------------------------------------------------------------------------
// Layouts

const enum Std {
  None = 0,
  LongMonth,
  Month,
  NumMonth,
  ZeroMonth,
  LongWeekDay,
  WeekDay,
  Day,
  UnderDay,
  ZeroDay,
  UnderYearDay,
  ZeroYearDay,
  Hour,
  Hour12,
  ZeroHour12,
  Minute,
  ZeroMinute,
  Second,
  ZeroSecond,
  LongYear,
  Year,
  PM,
  pm,
  TZ,
  ISO8601TZ,
  ISO8601SecondsTZ,
  ISO8601ShortTZ,
  ISO8601ColonTZ,
  ISO8601ColonSecondsTZ,
  NumTZ,
  NumSecondsTz,
  NumShortTZ,
  NumColonTZ,
  NumColonSecondsTZ,
  FracSecond0,
  FracSecond9,
}

interface Chunk {
  prefix: string;
  std: Std;
  /** Digits of a fractional second, and its separator. */
  digits?: number;
  sep?: string;
  suffix: string;
}

const STD0X = [Std.ZeroMonth, Std.ZeroDay, Std.ZeroHour12, Std.ZeroMinute, Std.ZeroSecond, Std.Year];

const lowerAt = (s: string, i: number) => i < s.length && s[i]! >= 'a' && s[i]! <= 'z';
const digitAt = (s: string, i: number) => i < s.length && s[i]! >= '0' && s[i]! <= '9';

/** Go's nextStdChunk. */
function nextStdChunk(layout: string): Chunk {
  const at = (i: number, s: string) => layout.startsWith(s, i);
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    const r = (std: Std, len: number, prefixEnd = i): Chunk => ({ prefix: layout.slice(0, prefixEnd), std, suffix: layout.slice(i + len) });
    switch (c) {
      case 'J':
        if (at(i, 'Jan')) {
          if (at(i, 'January')) return r(Std.LongMonth, 7);
          if (!lowerAt(layout, i + 3)) return r(Std.Month, 3);
        }
        break;
      case 'M':
        if (at(i, 'Mon')) {
          if (at(i, 'Monday')) return r(Std.LongWeekDay, 6);
          if (!lowerAt(layout, i + 3)) return r(Std.WeekDay, 3);
        }
        if (at(i, 'MST')) return r(Std.TZ, 3);
        break;
      case '0':
        if (i + 1 < layout.length && layout[i + 1]! >= '1' && layout[i + 1]! <= '6') return r(STD0X[layout.charCodeAt(i + 1) - 49]!, 2);
        if (at(i, '002')) return r(Std.ZeroYearDay, 3);
        break;
      case '1':
        if (at(i, '15')) return r(Std.Hour, 2);
        return r(Std.NumMonth, 1);
      case '2':
        if (at(i, '2006')) return r(Std.LongYear, 4);
        return r(Std.Day, 1);
      case '_':
        if (at(i, '_2')) {
          if (at(i + 1, '2006')) return { prefix: layout.slice(0, i + 1), std: Std.LongYear, suffix: layout.slice(i + 5) };
          return r(Std.UnderDay, 2);
        }
        if (at(i, '__2')) return r(Std.UnderYearDay, 3);
        break;
      case '3':
        return r(Std.Hour12, 1);
      case '4':
        return r(Std.Minute, 1);
      case '5':
        return r(Std.Second, 1);
      case 'P':
        if (at(i, 'PM')) return r(Std.PM, 2);
        break;
      case 'p':
        if (at(i, 'pm')) return r(Std.pm, 2);
        break;
      case '-':
        if (at(i, '-070000')) return r(Std.NumSecondsTz, 7);
        if (at(i, '-07:00:00')) return r(Std.NumColonSecondsTZ, 9);
        if (at(i, '-0700')) return r(Std.NumTZ, 5);
        if (at(i, '-07:00')) return r(Std.NumColonTZ, 6);
        if (at(i, '-07')) return r(Std.NumShortTZ, 3);
        break;
      case 'Z':
        if (at(i, 'Z070000')) return r(Std.ISO8601SecondsTZ, 7);
        if (at(i, 'Z07:00:00')) return r(Std.ISO8601ColonSecondsTZ, 9);
        if (at(i, 'Z0700')) return r(Std.ISO8601TZ, 5);
        if (at(i, 'Z07:00')) return r(Std.ISO8601ColonTZ, 6);
        if (at(i, 'Z07')) return r(Std.ISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.length && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!digitAt(layout, j)) {
            // Go keeps the digit count in 12 bits of the code.
            return { prefix: layout.slice(0, i), std: ch === '0' ? Std.FracSecond0 : Std.FracSecond9, digits: (j - (i + 1)) & 0xfff, sep: c, suffix: layout.slice(j) };
          }
        }
        break;
    }
  }
  return { prefix: layout, std: Std.None, suffix: '' };
}

function appendInt(x: number, width: number): string {
  const s = String(Math.abs(x));
  return (x < 0 ? '-' : '') + s.padStart(width, '0');
}

/**
 * Steps a layout costs to format or parse: one per 4 bytes. Each layout element allocates a few
 * objects (hundreds of bytes live at once in a long parse), so a layout of 100,000 elements
 * ("MST" repeated) must stop at the step budget, not in the worker's heap. Real layouts are
 * under 64 bytes (16 steps).
 */
export function layoutSteps(layout: string): number {
  return Math.ceil(layout.length / 4);
}

/** An upper bound on Format's output for a layout (every element at its widest). */
export function formatBound(layout: string): number {
  return layout.length * 12 + 16;
}

const ISO_Z = new Set([Std.ISO8601TZ, Std.ISO8601ColonTZ, Std.ISO8601SecondsTZ, Std.ISO8601ShortTZ, Std.ISO8601ColonSecondsTZ]);

/** Time.Format. */
export function formatTime(t: GoTime, layout: string): GoString {
  const p = t.parts();
  let b = '';
  while (layout !== '') {
    const ch = nextStdChunk(layout);
    b += ch.prefix;
    if (ch.std === Std.None) break;
    layout = ch.suffix;
    const std = ch.std;
    switch (std) {
      case Std.Year:
        b += appendInt(Math.abs(p.year) % 100, 2);
        break;
      case Std.LongYear:
        b += appendInt(p.year, 4);
        break;
      case Std.Month:
        b += SHORT_MONTHS[p.month - 1];
        break;
      case Std.LongMonth:
        b += LONG_MONTHS[p.month - 1];
        break;
      case Std.NumMonth:
        b += appendInt(p.month, 0);
        break;
      case Std.ZeroMonth:
        b += appendInt(p.month, 2);
        break;
      case Std.WeekDay:
        b += SHORT_DAYS[p.weekday];
        break;
      case Std.LongWeekDay:
        b += LONG_DAYS[p.weekday];
        break;
      case Std.Day:
        b += appendInt(p.day, 0);
        break;
      case Std.UnderDay:
        b += (p.day < 10 ? ' ' : '') + appendInt(p.day, 0);
        break;
      case Std.ZeroDay:
        b += appendInt(p.day, 2);
        break;
      case Std.UnderYearDay:
        b += (p.yday < 100 ? (p.yday < 10 ? '  ' : ' ') : '') + appendInt(p.yday, 0);
        break;
      case Std.ZeroYearDay:
        b += appendInt(p.yday, 3);
        break;
      case Std.Hour:
        b += appendInt(p.hour, 2);
        break;
      case Std.Hour12:
        b += appendInt(p.hour % 12 || 12, 0);
        break;
      case Std.ZeroHour12:
        b += appendInt(p.hour % 12 || 12, 2);
        break;
      case Std.Minute:
        b += appendInt(p.min, 0);
        break;
      case Std.ZeroMinute:
        b += appendInt(p.min, 2);
        break;
      case Std.Second:
        b += appendInt(p.sec, 0);
        break;
      case Std.ZeroSecond:
        b += appendInt(p.sec, 2);
        break;
      case Std.PM:
        b += p.hour >= 12 ? 'PM' : 'AM';
        break;
      case Std.pm:
        b += p.hour >= 12 ? 'pm' : 'am';
        break;
      case Std.ISO8601TZ:
      case Std.ISO8601ColonTZ:
      case Std.ISO8601SecondsTZ:
      case Std.ISO8601ShortTZ:
      case Std.ISO8601ColonSecondsTZ:
      case Std.NumTZ:
      case Std.NumColonTZ:
      case Std.NumSecondsTz:
      case Std.NumShortTZ:
      case Std.NumColonSecondsTZ: {
        const offset = p.zone.offset;
        if (offset === 0 && ISO_Z.has(std)) {
          b += 'Z';
          break;
        }
        let zone = Math.trunc(offset / 60);
        let absoffset = offset;
        if (zone < 0) {
          b += '-';
          zone = -zone;
          absoffset = -absoffset;
        } else b += '+';
        b += appendInt(Math.trunc(zone / 60), 2);
        if (std === Std.ISO8601ColonTZ || std === Std.NumColonTZ || std === Std.ISO8601ColonSecondsTZ || std === Std.NumColonSecondsTZ) b += ':';
        if (std !== Std.NumShortTZ && std !== Std.ISO8601ShortTZ) b += appendInt(zone % 60, 2);
        if (std === Std.ISO8601SecondsTZ || std === Std.NumSecondsTz || std === Std.NumColonSecondsTZ || std === Std.ISO8601ColonSecondsTZ) {
          if (std === Std.NumColonSecondsTZ || std === Std.ISO8601ColonSecondsTZ) b += ':';
          b += appendInt(absoffset % 60, 2);
        }
        break;
      }
      case Std.TZ: {
        if (p.zone.abbr !== '') {
          b += p.zone.abbr;
          break;
        }
        let zone = Math.trunc(p.zone.offset / 60);
        if (zone < 0) {
          b += '-';
          zone = -zone;
        } else b += '+';
        b += appendInt(Math.trunc(zone / 60), 2) + appendInt(zone % 60, 2);
        break;
      }
      case Std.FracSecond0:
      case Std.FracSecond9: {
        let digits = String(t.nsec).padStart(9, '0');
        let n = Math.min(ch.digits!, 9);
        if (std === Std.FracSecond9) {
          while (n > 0 && digits[n - 1] === '0') n--;
          if (n === 0) break;
        }
        digits = digits.slice(0, n);
        b += ch.sep + digits;
        break;
      }
    }
  }
  return b;
}

class ParseFail extends Error {}

/** time.ParseInLocation(layout, value, loc) with Go's error messages. */
export function parseTime(layout: GoString, value: GoString, defaultLoc: Location, local: Location): GoTime {
  const alayout = layout;
  const avalue = value;
  let rangeErr = '';
  let amSet = false;
  let pmSet = false;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let z: Location | undefined;
  let zoneOffset = -1;
  let zoneName = '';
  const perr = (layoutElem: string, valueElem: string, message = '') =>
    new FuncError(message === '' ? `parsing time ${tquote(avalue)} as ${tquote(alayout)}: cannot parse ${tquote(valueElem)} as ${tquote(layoutElem)}` : `parsing time ${tquote(avalue)}${message}`);
  const atoi = (s: string): number => {
    let neg = false;
    if (s !== '' && (s[0] === '-' || s[0] === '+')) {
      neg = s[0] === '-';
      s = s.slice(1);
    }
    if (s === '' || !/^[0-9]+$/.test(s)) {
      if (s === '') return 0;
      throw new ParseFail();
    }
    const x = Number(s);
    if (!Number.isSafeInteger(x)) throw new ParseFail();
    return neg ? -x : x;
  };
  const getnum = (s: string, fixed: boolean): [number, string] => {
    if (!digitAt(s, 0)) throw new ParseFail();
    if (!digitAt(s, 1)) {
      if (fixed) throw new ParseFail();
      return [s.charCodeAt(0) - 48, s.slice(1)];
    }
    return [(s.charCodeAt(0) - 48) * 10 + s.charCodeAt(1) - 48, s.slice(2)];
  };
  const getnum3 = (s: string, fixed: boolean): [number, string] => {
    let n = 0;
    let i = 0;
    for (; i < 3 && digitAt(s, i); i++) n = n * 10 + s.charCodeAt(i) - 48;
    if (i === 0 || (fixed && i !== 3)) throw new ParseFail();
    return [n, s.slice(i)];
  };
  const lookup = (tab: string[], val: string): [number, string] => {
    for (let i = 0; i < tab.length; i++) {
      const v = tab[i]!;
      if (val.length >= v.length && asciiFoldEq(val.slice(0, v.length), v)) return [i, val.slice(v.length)];
    }
    throw new ParseFail();
  };
  const parseNano = (v: string, nbytes: number): number => {
    if (v[0] !== '.' && v[0] !== ',') throw new ParseFail();
    if (nbytes > 10) nbytes = 10;
    const ns = atoi(v.slice(1, nbytes));
    if (ns < 0) {
      rangeErr = 'fractional second';
      return 0;
    }
    return ns * 10 ** (10 - nbytes);
  };
  for (;;) {
    const ch = nextStdChunk(layout);
    const stdstr = layout.slice(ch.prefix.length, layout.length - ch.suffix.length);
    // skip(value, prefix)
    {
      let prefix = ch.prefix;
      while (prefix.length > 0) {
        if (prefix[0] === ' ') {
          if (value.length > 0 && value[0] !== ' ') throw perr(ch.prefix, value);
          prefix = prefix.replace(/^ +/, '');
          value = value.replace(/^ +/, '');
          continue;
        }
        if (value.length === 0 || value[0] !== prefix[0]) throw perr(ch.prefix, value);
        prefix = prefix.slice(1);
        value = value.slice(1);
      }
    }
    if (ch.std === Std.None) {
      if (value.length !== 0) throw perr('', value, ': extra text: ' + tquote(value));
      break;
    }
    layout = ch.suffix;
    const hold = value;
    try {
      switch (ch.std) {
        case Std.Year: {
          if (value.length < 2) throw new ParseFail();
          const p = value.slice(0, 2);
          value = value.slice(2);
          try {
            year = atoi(p);
          } catch (e) {
            value = hold;
            throw e;
          }
          year += year >= 69 ? 1900 : 2000;
          break;
        }
        case Std.LongYear:
          if (value.length < 4 || !digitAt(value, 0)) throw new ParseFail();
          year = atoi(value.slice(0, 4));
          value = value.slice(4);
          break;
        case Std.Month:
          [month, value] = lookup(SHORT_MONTHS, value);
          month++;
          break;
        case Std.LongMonth:
          [month, value] = lookup(LONG_MONTHS, value);
          month++;
          break;
        case Std.NumMonth:
        case Std.ZeroMonth:
          [month, value] = getnum(value, ch.std === Std.ZeroMonth);
          if (month <= 0 || month > 12) rangeErr = 'month';
          break;
        case Std.WeekDay:
          [, value] = lookup(SHORT_DAYS, value);
          break;
        case Std.LongWeekDay:
          [, value] = lookup(LONG_DAYS, value);
          break;
        case Std.Day:
        case Std.UnderDay:
        case Std.ZeroDay:
          if (ch.std === Std.UnderDay && value[0] === ' ') value = value.slice(1);
          [day, value] = getnum(value, ch.std === Std.ZeroDay);
          break;
        case Std.UnderYearDay:
        case Std.ZeroYearDay:
          for (let i = 0; i < 2; i++) if (ch.std === Std.UnderYearDay && value[0] === ' ') value = value.slice(1);
          [yday, value] = getnum3(value, ch.std === Std.ZeroYearDay);
          break;
        case Std.Hour:
          [hour, value] = getnum(value, false);
          if (hour < 0 || hour >= 24) rangeErr = 'hour';
          break;
        case Std.Hour12:
        case Std.ZeroHour12:
          [hour, value] = getnum(value, ch.std === Std.ZeroHour12);
          if (hour < 0 || hour > 12) rangeErr = 'hour';
          break;
        case Std.Minute:
        case Std.ZeroMinute:
          [min, value] = getnum(value, ch.std === Std.ZeroMinute);
          if (min < 0 || min >= 60) rangeErr = 'minute';
          break;
        case Std.Second:
        case Std.ZeroSecond: {
          [sec, value] = getnum(value, ch.std === Std.ZeroSecond);
          if (sec < 0 || sec >= 60) {
            rangeErr = 'second';
            break;
          }
          if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && digitAt(value, 1)) {
            const next = nextStdChunk(layout).std;
            if (next === Std.FracSecond0 || next === Std.FracSecond9) break;
            let n = 2;
            while (n < value.length && digitAt(value, n)) n++;
            nsec = parseNano(value, n);
            value = value.slice(n);
          }
          break;
        }
        case Std.PM:
        case Std.pm: {
          if (value.length < 2) throw new ParseFail();
          const p = value.slice(0, 2);
          value = value.slice(2);
          const [pm, am] = ch.std === Std.PM ? ['PM', 'AM'] : ['pm', 'am'];
          if (p === pm) pmSet = true;
          else if (p === am) amSet = true;
          else throw new ParseFail();
          break;
        }
        case Std.ISO8601TZ:
        case Std.ISO8601ColonTZ:
        case Std.ISO8601SecondsTZ:
        case Std.ISO8601ShortTZ:
        case Std.ISO8601ColonSecondsTZ:
        case Std.NumTZ:
        case Std.NumShortTZ:
        case Std.NumColonTZ:
        case Std.NumSecondsTz:
        case Std.NumColonSecondsTZ: {
          const std = ch.std;
          if ((std === Std.ISO8601TZ || std === Std.ISO8601ShortTZ || std === Std.ISO8601ColonTZ) && value[0] === 'Z') {
            value = value.slice(1);
            z = UTC;
            break;
          }
          let sign: string, hh: string, mm: string, ss: string;
          if (std === Std.ISO8601ColonTZ || std === Std.NumColonTZ) {
            if (value.length < 6 || value[3] !== ':') throw new ParseFail();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), '00', value.slice(6)];
          } else if (std === Std.NumShortTZ || std === Std.ISO8601ShortTZ) {
            if (value.length < 3) throw new ParseFail();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), '00', '00', value.slice(3)];
          } else if (std === Std.ISO8601ColonSecondsTZ || std === Std.NumColonSecondsTZ) {
            if (value.length < 9 || value[3] !== ':' || value[6] !== ':') throw new ParseFail();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), value.slice(7, 9), value.slice(9)];
          } else if (std === Std.ISO8601SecondsTZ || std === Std.NumSecondsTz) {
            if (value.length < 7) throw new ParseFail();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), value.slice(5, 7), value.slice(7)];
          } else {
            if (value.length < 5) throw new ParseFail();
            [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), '00', value.slice(5)];
          }
          zoneOffset = (atoi(hh) * 60 + atoi(mm)) * 60 + atoi(ss);
          if (sign === '-') zoneOffset = -zoneOffset;
          else if (sign !== '+') throw new ParseFail();
          break;
        }
        case Std.TZ: {
          if (value.startsWith('UTC')) {
            z = UTC;
            value = value.slice(3);
            break;
          }
          const n = parseTimeZone(value);
          if (n === undefined) throw new ParseFail();
          zoneName = value.slice(0, n);
          value = value.slice(n);
          break;
        }
        case Std.FracSecond0: {
          const ndigit = 1 + ch.digits!;
          if (value.length < ndigit) throw new ParseFail();
          nsec = parseNano(value, ndigit);
          value = value.slice(ndigit);
          break;
        }
        case Std.FracSecond9: {
          if (value.length < 2 || (value[0] !== '.' && value[0] !== ',') || !digitAt(value, 1)) break;
          let i = 0;
          while (i < 9 && i + 1 < value.length && digitAt(value, i + 1)) i++;
          nsec = parseNano(value, 1 + i);
          value = value.slice(1 + i);
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof ParseFail)) throw e;
      throw perr(stdstr, value);
    }
    if (rangeErr !== '') throw perr(stdstr, value, ': ' + rangeErr + ' out of range');
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    let d = 0;
    let m = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) {
        m = 2;
        d = 29;
      } else if (yday > 31 + 29) yday--;
    }
    if (yday < 1 || yday > 365) throw perr('', value, ': day-of-year out of range');
    if (m === 0) {
      m = Math.floor((yday - 1) / 31) + 1;
      if (DAYS_BEFORE[m]! < yday) m++;
      d = yday - DAYS_BEFORE[m - 1]!;
    }
    if (month >= 0 && month !== m) throw perr('', value, ': day-of-year does not match month');
    month = m;
    if (day >= 0 && day !== d) throw perr('', value, ': day-of-year does not match day');
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw perr('', value, ': day out of range');
  if (z) return GoTime.date(year, month, day, hour, min, sec, nsec, z);
  if (zoneOffset !== -1) {
    const t = GoTime.date(year, month, day, hour, min, sec, nsec, UTC);
    const unix = t.sec - zoneOffset;
    const lz = local.lookup(unix);
    if (lz.offset === zoneOffset && (zoneName === '' || lz.abbr === zoneName)) return new GoTime(unix, t.nsec, local);
    return new GoTime(unix, t.nsec, new FixedZone(zoneName, zoneOffset));
  }
  if (zoneName !== '') {
    const t = GoTime.date(year, month, day, hour, min, sec, nsec, UTC);
    const off = local.lookupName?.(zoneName, t.sec);
    if (off !== undefined) return new GoTime(t.sec - off, t.nsec, local);
    let offset = 0;
    if (zoneName.length > 3 && zoneName.startsWith('GMT')) offset = Number(zoneName.slice(3)) * 3600;
    return new GoTime(t.sec, t.nsec, new FixedZone(zoneName, offset));
  }
  return GoTime.date(year, month, day, hour, min, sec, nsec, defaultLoc);
}

function asciiFoldEq(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    let c1 = a.charCodeAt(i);
    let c2 = b.charCodeAt(i);
    if (c1 !== c2) {
      c1 |= 0x20;
      c2 |= 0x20;
      if (c1 !== c2 || c1 < 0x61 || c1 > 0x7a) return false;
    }
  }
  return true;
}

function parseTimeZone(value: string): number | undefined {
  if (value.length < 3) return undefined;
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4;
  if (value.startsWith('GMT')) return 3 + signedOffset(value.slice(3));
  if (value[0] === '+' || value[0] === '-') {
    const n = signedOffset(value);
    return n > 0 ? n : undefined;
  }
  let n = 0;
  while (n < 6 && n < value.length && value[n]! >= 'A' && value[n]! <= 'Z') n++;
  if (n === 5) return value[4] === 'T' ? 5 : undefined;
  if (n === 4) return value[3] === 'T' || value.startsWith('WITA') ? 4 : undefined;
  if (n === 3) return 3;
  return undefined;
}

function signedOffset(value: string): number {
  if (value === '' || (value[0] !== '-' && value[0] !== '+')) return 0;
  let i = 1;
  let x = 0;
  while (i < value.length && digitAt(value, i)) {
    x = x * 10 + value.charCodeAt(i) - 48;
    if (x > 1e18) return 0;
    i++;
  }
  if (i === 1 || x > 23) return 0;
  return i;
}
