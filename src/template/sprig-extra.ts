/**
 * The Sprig 3.2.3 functions owned by SPRIG-EXTRA: hashes and crypto, keys and certificates,
 * random values, dates and times (and `hello`). Each follows Sprig's Go code (crypto.go,
 * date.go, strings.go, functions.go and the libraries they call: goutils, xstrings,
 * google/uuid, x/crypto) and Go 1.19's time and crypto/x509.
 *
 * Time comes from ctx.now() and randomness from ctx.randomBytes(), so tests can pin both.
 * Every function charges ctx.budget before it allocates; the expensive ones (bcrypt,
 * derivePassword, key generation, certificates) declare their cost first (crypto.ts heavy()).
 */
import { EvalError } from './budget.js';
import { type FuncContext, FuncError, type FuncSpec, type GoString, type GoValue, GoInt } from './values.js';
import { adler32sum, bcrypt, decryptAES, derivePassword, encryptAES, hashHex, htpasswd } from './sprig-extra/crypto.js';
import { cryptoRandom, randBytes, randInt, shuffle, uuidv4 } from './sprig-extra/random.js';
import { GoTime, LOCAL, NS, UTC, durationRound as roundDuration, durationString, formatBound, layoutSteps, loadLocation, parseDuration, parseTime, wrapI64, ZERO_UNIX } from './sprig-extra/time.js';
import { buildCustomCert, genCA, genPrivateKey, genSelfSignedCert, genSignedCert } from './sprig-extra/x509.js';

export { GoTime } from './sprig-extra/time.js';
export { GoCertificate } from './sprig-extra/x509.js';

function str(v: GoValue | undefined): GoString {
  if (typeof v !== 'string') throw new FuncError('wrong type for value; expected string');
  return v;
}

function int(v: GoValue | undefined): bigint {
  if (!(v instanceof GoInt)) throw new FuncError('wrong type for value; expected int');
  return v.v;
}

function time(v: GoValue | undefined): GoTime {
  if (!(v instanceof GoTime)) throw new FuncError('wrong type for value; expected time.Time');
  return v;
}

/** Where the monotonic readings of `now` count from (Go: process start). */
const MONO_ORIGIN_MS = Date.now();

/** time.Now(): Local (UTC, see time.ts), with a monotonic reading as Go's has. */
function now(ctx: FuncContext): GoTime {
  const ms = ctx.now();
  const sec = Math.floor(ms / 1000);
  const nsec = Math.round((ms - sec * 1000) * 1e6);
  return new GoTime(sec, Math.min(nsec, 999_999_999), LOCAL, BigInt(Math.round((ms - MONO_ORIGIN_MS) * 1e6)));
}

/** Go's zero time.Time (what toDate returns on a parse error). */
const ZERO_TIME = new GoTime(ZERO_UNIX, 0, UTC);

/** The `date interface{}` argument of Sprig's date functions: time.Time, or unix seconds as int/int64/int32; anything else is now. */
function dateArg(ctx: FuncContext, v: GoValue | undefined, int32Too: boolean): GoTime {
  if (v instanceof GoTime) return v;
  if (v instanceof GoInt && (v.type === 'int' || v.type === 'int64' || (int32Too && v.type === 'int32'))) return new GoTime(Number(v.v), 0, LOCAL);
  return now(ctx);
}

function dateInZone(ctx: FuncContext, layout: GoString, date: GoValue | undefined, zone: GoString): GoString {
  const t = dateArg(ctx, date, true);
  ctx.budget.scan(layout.length + zone.length);
  ctx.budget.step(layoutSteps(layout));
  const loc = loadLocation(ctx, zone) ?? UTC;
  ctx.budget.reserve(formatBound(layout));
  const out = t.in(loc).formatLayout(layout);
  ctx.budget.produce(out.length);
  return out;
}

function toDate(ctx: FuncContext, layout: GoString, value: GoString): GoTime {
  ctx.budget.scan(layout.length + value.length);
  ctx.budget.step(layoutSteps(layout));
  return parseTime(layout, value, LOCAL, LOCAL);
}

function produced(ctx: FuncContext, s: GoString): GoString {
  ctx.budget.produce(s.length);
  return s;
}

const YEAR = NS.h * 24n * 365n;
const MONTH = NS.h * 24n * 30n;
const DAY = NS.h * 24n;

function durationRoundSprig(ctx: FuncContext, v: GoValue | undefined): GoString {
  let d = 0n;
  if (typeof v === 'string') {
    ctx.budget.scan(v.length);
    try {
      d = parseDuration(v);
    } catch {
      d = 0n;
    }
  } else if (v instanceof GoInt && v.type === 'int64') d = v.v;
  else if (v instanceof GoTime) d = now(ctx).sub(v);
  let u = BigInt.asUintN(64, d);
  if (d < 0n) u = BigInt.asUintN(64, -u);
  const units: [bigint, string][] = [
    [YEAR, 'y'],
    [MONTH, 'mo'],
    [DAY, 'd'],
    [NS.h, 'h'],
    [NS.m, 'm'],
    [NS.s, 's'],
  ];
  for (const [unit, suffix] of units) if (u > unit) return produced(ctx, String(u / unit) + suffix);
  return produced(ctx, '0s');
}

/** strconv.ParseInt(s, 10, 64) as Sprig's duration uses it: a range error gives the clamped value, a syntax error 0. */
function parseInt64(s: GoString): bigint {
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (!m) return 0n;
  const v = BigInt(m[2]!) * (m[1] === '-' ? -1n : 1n);
  if (v > (1n << 63n) - 1n) return (1n << 63n) - 1n;
  if (v < -(1n << 63n)) return -(1n << 63n);
  return v;
}

const S = (params: FuncSpec['params'], fn: FuncSpec['fn'], variadic?: FuncSpec['variadic']): FuncSpec => (variadic ? { params, variadic, fn } : { params, fn });

const TABLE: Record<string, FuncSpec> = {
  hello: S([], (ctx) => produced(ctx, 'Hello!')),

  // Hashes and crypto
  sha1sum: S(['string'], (ctx, [s]) => hashHex(ctx, 'sha1', str(s))),
  sha256sum: S(['string'], (ctx, [s]) => hashHex(ctx, 'sha256', str(s))),
  adler32sum: S(['string'], (ctx, [s]) => adler32sum(ctx, str(s))),
  bcrypt: S(['string'], (ctx, [s]) => bcrypt(ctx, str(s))),
  htpasswd: S(['string', 'string'], (ctx, [u, p]) => htpasswd(ctx, str(u), str(p))),
  derivePassword: S(['uint32', 'string', 'string', 'string', 'string'], (ctx, [c, t, p, u, s]) => derivePassword(ctx, int(c), str(t), str(p), str(u), str(s))),
  encryptAES: S(['string', 'string'], (ctx, [k, p]) => encryptAES(ctx, str(k), str(p))),
  decryptAES: S(['string', 'string'], (ctx, [k, c]) => decryptAES(ctx, str(k), str(c))),
  randBytes: S(['int'], (ctx, [n]) => randBytes(ctx, int(n))),
  genPrivateKey: S(['string'], (ctx, [t]) => genPrivateKey(ctx, str(t))),
  buildCustomCert: S(['string', 'string'], (ctx, [c, k]) => buildCustomCert(ctx, str(c), str(k))),
  genCA: S(['string', 'int'], (ctx, [cn, days]) => genCA(ctx, str(cn), int(days), now(ctx))),
  genCAWithKey: S(['string', 'int', 'string'], (ctx, [cn, days, key]) => genCA(ctx, str(cn), int(days), now(ctx), str(key))),
  genSelfSignedCert: S(['string', '[]interface {}', '[]interface {}', 'int'], (ctx, [cn, ips, dns, days]) => genSelfSignedCert(ctx, str(cn), ips ?? null, dns ?? null, int(days), now(ctx))),
  genSelfSignedCertWithKey: S(['string', '[]interface {}', '[]interface {}', 'int', 'string'], (ctx, [cn, ips, dns, days, key]) =>
    genSelfSignedCert(ctx, str(cn), ips ?? null, dns ?? null, int(days), now(ctx), str(key)),
  ),
  genSignedCert: S(['string', '[]interface {}', '[]interface {}', 'int', 'object:sprig.certificate'], (ctx, [cn, ips, dns, days, ca]) =>
    genSignedCert(ctx, str(cn), ips ?? null, dns ?? null, int(days), ca ?? null, now(ctx)),
  ),
  genSignedCertWithKey: S(['string', '[]interface {}', '[]interface {}', 'int', 'object:sprig.certificate', 'string'], (ctx, [cn, ips, dns, days, ca, key]) =>
    genSignedCert(ctx, str(cn), ips ?? null, dns ?? null, int(days), ca ?? null, now(ctx), str(key)),
  ),

  // Random
  randAlphaNum: S(['int'], (ctx, [n]) => cryptoRandom(ctx, int(n), true, true)),
  randAlpha: S(['int'], (ctx, [n]) => cryptoRandom(ctx, int(n), true, false)),
  randNumeric: S(['int'], (ctx, [n]) => cryptoRandom(ctx, int(n), false, true)),
  randAscii: S(['int'], (ctx, [n]) => cryptoRandom(ctx, int(n), false, false)),
  randInt: S(['int', 'int'], (ctx, [a, b]) => new GoInt(randInt(ctx, int(a), int(b)), 'int')),
  shuffle: S(['string'], (ctx, [s]) => shuffle(ctx, str(s))),
  uuidv4: S([], (ctx) => uuidv4(ctx)),

  // Dates
  now: S([], (ctx) => now(ctx)),
  date: S(['string', 'interface {}'], (ctx, [f, d]) => dateInZone(ctx, str(f), d, 'Local')),
  dateInZone: S(['string', 'interface {}', 'string'], (ctx, [f, d, z]) => dateInZone(ctx, str(f), d, str(z))),
  date_in_zone: S(['string', 'interface {}', 'string'], (ctx, [f, d, z]) => dateInZone(ctx, str(f), d, str(z))),
  htmlDate: S(['interface {}'], (ctx, [d]) => dateInZone(ctx, '2006-01-02', d, 'Local')),
  htmlDateInZone: S(['interface {}', 'string'], (ctx, [d, z]) => dateInZone(ctx, '2006-01-02', d, str(z))),
  dateModify: S(['string', 'time.Time'], (ctx, [f, d]) => dateModify(ctx, str(f), time(d), false)),
  date_modify: S(['string', 'time.Time'], (ctx, [f, d]) => dateModify(ctx, str(f), time(d), false)),
  mustDateModify: S(['string', 'time.Time'], (ctx, [f, d]) => dateModify(ctx, str(f), time(d), true)),
  must_date_modify: S(['string', 'time.Time'], (ctx, [f, d]) => dateModify(ctx, str(f), time(d), true)),
  ago: S(['interface {}'], (ctx, [d]) => {
    const t = d instanceof GoTime ? d : d instanceof GoInt && (d.type === 'int' || d.type === 'int64') ? new GoTime(Number(d.v), 0, LOCAL) : now(ctx);
    return produced(ctx, durationString(roundDuration(now(ctx).sub(t), NS.s)));
  }),
  duration: S(['interface {}'], (ctx, [v]) => {
    let n = 0n;
    if (typeof v === 'string') {
      ctx.budget.scan(v.length);
      n = parseInt64(v);
    } else if (v instanceof GoInt && v.type === 'int64') n = v.v;
    return produced(ctx, durationString(wrapI64(n * NS.s)));
  }),
  durationRound: S(['interface {}'], (ctx, [v]) => durationRoundSprig(ctx, v)),
  toDate: S(['string', 'string'], (ctx, [f, s]) => {
    try {
      return toDate(ctx, str(f), str(s));
    } catch (e) {
      if (e instanceof FuncError) return ZERO_TIME;
      throw e;
    }
  }),
  mustToDate: S(['string', 'string'], (ctx, [f, s]) => toDate(ctx, str(f), str(s))),
  unixEpoch: S(['time.Time'], (ctx, [d]) => produced(ctx, String(time(d).sec))),
};

/**
 * The functions that declare expensive work (TemplateBudget.heavy): a template that names
 * none of them cannot spend the allowance. Whether one runs can depend on the values
 * (`{{ if hasPrefix "a" .password }}{{ bcrypt "x" }}{{ end }}`), so where the templates name
 * one, the time rendering takes carries up to the allowance's 2 s of value-dependent signal
 * unless the caller pads it (see NOTES / SECURITY.md, "Timing").
 */
export const HEAVY_FUNCTIONS: ReadonlySet<string> = new Set([
  'bcrypt',
  'htpasswd',
  'derivePassword',
  'genPrivateKey',
  'genCA',
  'genCAWithKey',
  'genSelfSignedCert',
  'genSelfSignedCertWithKey',
  'genSignedCert',
  'genSignedCertWithKey',
]);

/**
 * As Go's text/template recovers a panic in a function and reports it as the call's error,
 * anything but Go's error result, a budget stop or a RangeError (which the engine turns into
 * one) becomes a FuncError here: an ERR_VALUE, never an exception out of the renderer. The
 * message is fixed (the library's own words), never a value.
 */
function guarded(name: string, spec: FuncSpec): FuncSpec {
  const fn: FuncSpec['fn'] = (ctx, args) => {
    try {
      return spec.fn(ctx, args);
    } catch (e) {
      if (e instanceof FuncError || e instanceof EvalError || e instanceof RangeError) throw e;
      throw new FuncError(`${name}: internal error: ${e instanceof Error ? e.constructor.name : 'exception'}`);
    }
  };
  return { ...spec, fn };
}

export const SPRIG_EXTRA: Readonly<Record<string, FuncSpec>> = Object.freeze(Object.fromEntries(Object.entries(TABLE).map(([k, v]) => [k, guarded(k, v)])));

function dateModify(ctx: FuncContext, f: GoString, t: GoTime, must: boolean): GoTime {
  ctx.budget.scan(f.length);
  let d: bigint;
  try {
    d = parseDuration(f);
  } catch (e) {
    if (must) throw e;
    return t;
  }
  return t.add(d);
}
