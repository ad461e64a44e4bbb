/**
 * SPRIG-EXTRA's functions called directly with Go values, checked against real Go + Sprig 3.2.3:
 * fixtures made by src/template/sprig-extra/testdata/gen-fixtures.go (certificates, bcrypt
 * hashes and AES ciphertexts that are random in Go) are rebuilt byte for byte with ctx.now and
 * ctx.randomBytes pinned to what Go used; random functions are checked for their alphabets and
 * shapes. Template-level goldens are in test/template-golden/cases/sprig-extra.json.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcryptjs from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { SealedSecretsError } from '../errors.js';
import { renderTemplate } from '../template.js';
import { TemplateBudget } from './budget.js';
import { GoCertificate, GoTime, HEAVY_FUNCTIONS, SPRIG_EXTRA } from './sprig-extra.js';
import { durationString, formatTime, loadLocation, parseDuration, parseTime, UTC, LOCAL } from './sprig-extra/time.js';
import { type FuncContext, FuncError, type GoValue, GoInt, GoSlice, fromUtf8 } from './values.js';

interface Fixtures {
  aes: { key: string; plain: string; crypt: string }[];
  bcrypt: { password: string; hash: string }[];
  keys: Record<'rsa' | 'ecdsa' | 'ed25519' | 'dsa', string>;
  certs: { template: string; key: string; caKey?: string; caCert?: string; cert: string; outKey: string; notBefore: number; serial: string }[];
}

const FX: Fixtures = JSON.parse(readFileSync(new URL('./sprig-extra/testdata/go-fixtures.json', import.meta.url), 'utf8'));

function ctxOf(opts: { now?: number; random?: (n: number) => Buffer; budget?: TemplateBudget } = {}): FuncContext {
  let seed = 1;
  return {
    budget: opts.budget ?? new TemplateBudget(),
    now: () => opts.now ?? Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    randomBytes:
      opts.random ??
      ((n) => {
        // A fixed xorshift stream: deterministic, but spread over all byte values.
        const b = Buffer.alloc(n);
        for (let i = 0; i < n; i++) {
          seed ^= seed << 13;
          seed ^= seed >>> 17;
          seed ^= seed << 5;
          b[i] = seed & 0xff;
        }
        return b;
      }),
  };
}

/** randomBytes answering with the given buffers in order. */
function queue(...bufs: Buffer[]): (n: number) => Buffer {
  return (n) => {
    const b = bufs.shift();
    if (!b || b.length !== n) throw new Error(`unexpected randomBytes(${n})`);
    return b;
  };
}

const call = (name: string, ctx: FuncContext, ...args: GoValue[]): GoValue => SPRIG_EXTRA[name]!.fn(ctx, args);
const int = (n: number | bigint, type: 'int' | 'int64' | 'int32' = 'int') => new GoInt(BigInt(n), type);

describe('a library failure is Go\'s recovered panic: the call\'s error, never an exception out of the renderer', () => {
  it('an unexpected exception becomes a FuncError with fixed words; budget stops pass through', () => {
    const broken = ctxOf({
      random: () => {
        throw new TypeError('entropy source gone: s3cr3t');
      },
    });
    expect(() => call('uuidv4', broken)).toThrow(new FuncError('uuidv4: internal error: TypeError'));
    expect(() => call('randAlphaNum', ctxOf(), int(1n << 40n))).toThrow(/would produce more than/);
  });
});

describe('hashes', () => {
  it('sha1sum, sha256sum and adler32sum give Go hash/adler32 and crypto outputs', () => {
    const ctx = ctxOf();
    expect(call('sha1sum', ctx, 'hello')).toBe('aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d');
    expect(call('sha256sum', ctx, '')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Go: adler32.Checksum([]byte("Wikipedia")) = 300286872; of "" = 1.
    expect(call('adler32sum', ctx, 'Wikipedia')).toBe('300286872');
    expect(call('adler32sum', ctx, '')).toBe('1');
    // Over 5552 bytes of 0xff the sums must be reduced on the way (zlib's NMAX) and stay exact.
    expect(call('adler32sum', ctx, '\xff'.repeat(100_000))).toBe(String(adlerRef(Buffer.alloc(100_000, 0xff))));
  });
});

function adlerRef(b: Buffer): number {
  let a = 1n;
  let s = 0n;
  for (const x of b) {
    a = (a + BigInt(x)) % 65521n;
    s = (s + a) % 65521n;
  }
  return Number((s << 16n) | a);
}

describe('encryptAES / decryptAES (Go-made ciphertexts)', () => {
  it('decrypts what Go encrypted, and encrypts to Go bytes with the same IV', () => {
    for (const f of FX.aes) {
      expect(call('decryptAES', ctxOf(), fromUtf8(f.key), f.crypt)).toBe(fromUtf8(f.plain));
      const iv = Buffer.from(f.crypt, 'base64').subarray(0, 16);
      expect(call('encryptAES', ctxOf({ random: queue(iv) }), fromUtf8(f.key), fromUtf8(f.plain))).toBe(f.crypt);
    }
  });

  it('fails as Sprig does on input that is not base64 or too short, and gives "" for ""', () => {
    expect(call('decryptAES', ctxOf(), 'k', '')).toBe('');
    expect(call('encryptAES', ctxOf(), 'k', '')).toBe('');
    expect(() => call('decryptAES', ctxOf(), 'k', 'not base64!')).toThrow(/illegal base64 data at input byte 3/);
    expect(() => call('decryptAES', ctxOf(), 'k', 'AAAA')).toThrow('runtime error: slice bounds out of range [:16] with capacity 3');
    expect(() => call('decryptAES', ctxOf(), 'k', Buffer.alloc(20).toString('base64'))).toThrow('crypto/cipher: input not full blocks');
  });
});

/** bcrypt's base64 (./A-Za-z0-9) back to bytes. */
function bcryptB64Decode(s: string): Buffer {
  const A = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let bits = 0;
  let acc = 0;
  const out: number[] = [];
  for (const c of s) {
    acc = (acc << 6) | A.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

describe('bcrypt / htpasswd', () => {
  it('hashes to the bytes Go makes from the same salt, in $2a$10$ form', () => {
    // Each bcrypt is ~100 ms of pure JS; three fit one budget's 2000 ms allowance.
    for (const f of FX.bcrypt) {
      const salt = bcryptB64Decode(f.hash.slice(7, 29)).subarray(0, 16);
      expect(call('bcrypt', ctxOf({ random: queue(salt) }), fromUtf8(f.password))).toBe(f.hash);
    }
  });

  it('htpasswd joins user and hash, and refuses a user with a colon as Sprig does (a string, not an error)', () => {
    const out = call('htpasswd', ctxOf(), 'admin', 's3cr3t') as string;
    expect(out).toMatch(/^admin:\$2a\$10\$[./A-Za-z0-9]{53}$/);
    expect(bcryptjs.compareSync('s3cr3t', out.slice(6))).toBe(true);
    expect(call('htpasswd', ctxOf(), 'ad:min', 'x')).toBe('invalid username: ad:min');
  });
});

describe('derivePassword', () => {
  it('gives Master Password results (Go-made: see the golden cases) and Sprig\'s text for an unknown type', () => {
    // From Go: {{ derivePassword 1 "long" "password" "user" "example.com" }}
    expect(call('derivePassword', ctxOf(), int(1, 'int'), 'long', 'password', 'user', 'example.com')).toBe(GOLDEN('derivePassword long'));
    expect(call('derivePassword', ctxOf(), int(1), 'nope', 'p', 'u', 's')).toBe('cannot find password template nope');
  });
});

describe('keys', () => {
  it('genPrivateKey makes ecdsa P-256 (SEC 1) and ed25519 (PKCS#8) PEM as Go writes them', () => {
    const ec = call('genPrivateKey', ctxOf(), 'ecdsa') as string;
    expect(ec).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END EC PRIVATE KEY-----\n$/);
    expect(createPrivateKey(ec).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const ed = call('genPrivateKey', ctxOf(), 'ed25519') as string;
    expect(ed.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(createPrivateKey(ed).asymmetricKeyType).toBe('ed25519');
    // The same shape (and size) as Go's keys of that type.
    expect(ec.length).toBe(FX.keys.ecdsa.length);
    expect(ed.length).toBe(FX.keys.ed25519.length);
    expect(call('genPrivateKey', ctxOf(), 'rsa2')).toBe('Unknown type rsa2');
  });

  it('genPrivateKey "rsa" is 4096-bit RSA in PKCS#1, and uses the whole allowance of expensive work', () => {
    // A roomy wall clock: this machine is shared; the declared-cost allowance is what is tested.
    const budget = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const pem = call('genPrivateKey', ctxOf({ budget }), 'rsa') as string;
    expect(pem.startsWith('-----BEGIN RSA PRIVATE KEY-----\n')).toBe(true);
    expect(createPrivateKey(pem).asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(() => call('genPrivateKey', ctxOf({ budget }), 'ecdsa')).toThrow(/more than 2000 ms/);
  }, 20_000);
});

describe('certificates: byte for byte what Go 1.19 x509 writes for Sprig', () => {
  const keyOf = (c: Fixtures['certs'][number]) => c.key;
  const serialBytes = (hex: string) => Buffer.from(hex.padStart(32, '0'), 'hex');
  const tbs = (pem: string) => {
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\n/g, ''), 'base64');
    // SEQUENCE { tbs, alg, sig }: the first element.
    const hdr = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
    const l2 = der[hdr + 1]! & 0x80 ? 2 + (der[hdr + 1]! & 0x7f) : 2;
    let n = der[hdr + 1]! & 0x7f;
    if (der[hdr + 1]! & 0x80) n = parseInt(der.subarray(hdr + 2, hdr + l2).toString('hex'), 16);
    return der.subarray(hdr, hdr + l2 + n);
  };

  function make(f: Fixtures['certs'][number]): GoCertificate {
    const ctx = ctxOf({ now: f.notBefore * 1000, random: queue(serialBytes(f.serial)) });
    const key = keyOf(f);
    if (f.template.startsWith('genCAWithKey')) return call('genCAWithKey', ctx, 'my-ca', int(365), key) as GoCertificate;
    if (f.template.startsWith('genSelfSignedCertWithKey "host')) {
      return call('genSelfSignedCertWithKey', ctx, 'host.example', new GoSlice(['10.0.0.1', '::1', '::ffff:192.168.1.2']), new GoSlice(['a.example', 'b.example']), int(30), key) as GoCertificate;
    }
    if (f.template.startsWith('genSelfSignedCertWithKey ""')) return call('genSelfSignedCertWithKey', ctx, '', null, new GoSlice(['only-san.example']), int(1), key) as GoCertificate;
    const ca = call('buildCustomCert', ctxOf(), Buffer.from(f.caCert!).toString('base64'), Buffer.from(f.caKey!).toString('base64'));
    return call('genSignedCertWithKey', ctx, 'leaf.example', new GoSlice(['127.0.0.1']), new GoSlice(['leaf.example']), int(10), ca, key) as GoCertificate;
  }

  for (const [i, f] of FX.certs.entries()) {
    const kind = createPrivateKey(f.key).asymmetricKeyType;
    it(`#${i} ${f.template.split(' ')[0]} with a ${kind} key`, () => {
      const c = make(f);
      expect(c.key).toBe(f.outKey);
      if (kind === 'ec' && !f.caKey) {
        // ECDSA signatures are randomised: the signed part must match, and the signature verify.
        expect(tbs(c.cert).equals(tbs(f.cert))).toBe(true);
        expect(new X509Certificate(c.cert).verify(createPublicKey(f.key))).toBe(true);
      } else {
        expect(c.cert).toBe(f.cert);
      }
    });
  }

  it('a signed certificate verifies against its CA, and the wrong CA key is refused as Go refuses it', () => {
    const f = FX.certs.find((c) => c.caKey)!;
    const c = make(f);
    expect(new X509Certificate(c.cert).verify(new X509Certificate(f.caCert!).publicKey)).toBe(true);
    const wrongCa = new GoCertificate(f.caCert!, FX.keys.ecdsa);
    expect(() => call('genSignedCertWithKey', ctxOf(), 'x', null, null, int(1), wrongCa, FX.keys.ed25519)).toThrow("x509: provided PrivateKey doesn't match parent's PublicKey");
  });

  it('a DSA key parses (Go\'s DSAKeyFormat) but cannot sign, with Go\'s error', () => {
    expect(() => call('genCAWithKey', ctxOf(), 'x', int(1), FX.keys.dsa)).toThrow('error creating certificate: x509: certificate private key does not implement crypto.Signer');
  });

  it('bad inputs get Sprig\'s errors', () => {
    expect(() => call('genCAWithKey', ctxOf(), 'x', int(1), 'nope')).toThrow('parsing private key: no PEM data in input');
    expect(() => call('genSelfSignedCertWithKey', ctxOf(), 'x', new GoSlice(['1.2.3']), null, int(1), FX.keys.ed25519)).toThrow('error parsing ip: 1.2.3');
    expect(() => call('genSelfSignedCertWithKey', ctxOf(), 'x', new GoSlice([int(1)]), null, int(1), FX.keys.ed25519)).toThrow('error parsing ip: 1 is not a string');
    expect(() => call('buildCustomCert', ctxOf(), '!!', 'AAAA')).toThrow('unable to decode base64 certificate');
    expect(() => call('buildCustomCert', ctxOf(), 'AAAA', 'AAAA')).toThrow('unable to decode certificate');
  });

  it('genCA makes a fresh RSA-2048 CA whose certificate carries the CA extensions', () => {
    const c = call('genCA', ctxOf({ now: Date.now(), budget: new TemplateBudget(undefined, undefined, undefined, 60_000) }), 'fresh-ca', int(3)) as GoCertificate;
    const x = new X509Certificate(c.cert);
    expect(x.ca).toBe(true);
    expect(x.subject).toBe('CN=fresh-ca');
    expect(createPrivateKey(c.key).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(x.verify(createPublicKey(c.key))).toBe(true);
    expect(Date.parse(x.validTo) - Date.parse(x.validFrom)).toBe(3 * 86400_000);
  });
});

describe('random functions draw from ctx.randomBytes with goutils\' alphabets', () => {
  const alphabet = (s: string) => new Set(s);
  it('randAlphaNum, randAlpha, randNumeric, randAscii', () => {
    const an = call('randAlphaNum', ctxOf(), int(5000)) as string;
    expect(an).toMatch(/^[A-Za-z0-9]{5000}$/);
    expect(alphabet(an).size).toBe(62);
    expect(call('randAlpha', ctxOf(), int(3000))).toMatch(/^[A-Za-z]{3000}$/);
    const num = call('randNumeric', ctxOf(), int(1000)) as string;
    expect(num).toMatch(/^[0-9]{1000}$/);
    expect(alphabet(num).size).toBe(10);
    const asc = call('randAscii', ctxOf(), int(5000)) as string;
    expect(asc).toMatch(/^[\x20-\x7e]{5000}$/);
    expect(alphabet(asc).size).toBe(95);
    expect(call('randAlphaNum', ctxOf(), int(0))).toBe('');
    expect(call('randAlphaNum', ctxOf(), int(-3))).toBe('');
  });

  it('randInt is in [min, max) and fails like math/rand.Intn for an empty range', () => {
    const seen = new Set<bigint>();
    const ctx = ctxOf();
    for (let i = 0; i < 500; i++) {
      const v = (call('randInt', ctx, int(-3), int(4)) as GoInt).v;
      expect(v >= -3n && v < 4n).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
    expect(() => call('randInt', ctxOf(), int(5), int(5))).toThrow(new FuncError('invalid argument to Intn'));
  });

  it('shuffle permutes runes (UTF-8 kept whole), uuidv4 is RFC 4122 v4, randBytes is base64 of n bytes', () => {
    const s = fromUtf8('héllo wörld ✓');
    const out = call('shuffle', ctxOf(), s) as string;
    expect([...Buffer.from(out, 'latin1').toString('utf8')].sort()).toEqual([...'héllo wörld ✓'].sort());
    expect(out).not.toBe(s);
    expect(call('uuidv4', ctxOf())).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(call('uuidv4', ctxOf({ random: queue(Buffer.alloc(16, 0xff)) }))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(Buffer.from(call('randBytes', ctxOf(), int(33)) as string, 'base64').length).toBe(33);
    expect(() => call('randBytes', ctxOf(), int(-1))).toThrow(/makeslice: len out of range/);
  });
});

describe('dates', () => {
  const t = (unix: number, nsec = 0) => new GoTime(unix, nsec, LOCAL);

  it('Format covers every layout element as Go 1.19 prints them', () => {
    const x = new GoTime(1709260496, 123456789, loadLocation(ctxOf(), 'America/New_York')!); // 2024-02-29T21:34:56.123456789-05:00
    expect(formatTime(x, 'Mon Monday Jan January 1 01 2 _2 02 __2 002 15 3 03 4 04 5 05 06 2006 PM pm MST -0700 -07:00 -07 -070000 -07:00:00 Z0700 Z07:00 .000 .999999999 ,00 .9')).toBe(
      'Thu Thursday Feb February 2 02 29 29 29  60 060 21 9 09 34 34 56 56 24 2024 PM pm EST -0500 -05:00 -05 -050000 -05:00:00 -0500 -05:00 .123 .123456789 ,12 .1',
    );
    expect(formatTime(new GoTime(0, 0, UTC), time_RFC3339)).toBe('1970-01-01T00:00:00Z');
    // Not layout elements: "Janet", "Mondays" keep their letters (Go: a lower-case letter follows).
    expect(formatTime(new GoTime(0, 0, UTC), 'Janet Monx')).toBe('Janet Monx');
  });

  it('zones come from the TZif files (abbreviations, DST, POSIX footer rules past the last transition)', () => {
    const berlin = loadLocation(ctxOf(), 'Europe/Berlin')!;
    expect(formatTime(new GoTime(1719835200, 0, berlin), '2006-01-02 15:04 MST -0700')).toBe('2024-07-01 14:00 CEST +0200');
    expect(formatTime(new GoTime(1704110400, 0, berlin), '15:04 MST')).toBe('13:00 CET');
    // 2100-07-01: past the file's transitions, from "CET-1CEST,M3.5.0,M10.5.0/3".
    expect(formatTime(new GoTime(4118083200, 0, berlin), '2006-01-02 15:04 MST')).toBe('2100-07-01 02:00 CEST');
    expect(formatTime(new GoTime(4102444800, 0, berlin), '2006-01-02 15:04 MST')).toBe('2100-01-01 01:00 CET');
    expect(formatTime(new GoTime(0, 0, loadLocation(ctxOf(), 'Asia/Kolkata')!), '15:04 MST -07:00')).toBe('05:30 IST +05:30');
    expect(formatTime(new GoTime(0, 0, loadLocation(ctxOf(), 'Asia/Dubai')!), 'MST')).toBe('+04');
    // Only IANA-shaped names reach the file system.
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'Europe/../../etc/shadow', 'a'.repeat(65), 'Europe/Berlin\0']) expect(loadLocation(ctxOf(), bad)).toBeUndefined();
    expect(loadLocation(ctxOf(), 'Local')).toBe(LOCAL);
  });

  it('parseTime reads Go layouts, zones and fractions, with Go\'s messages', () => {
    const p = (layout: string, value: string) => parseTime(layout, value, LOCAL, LOCAL);
    expect(p('2006-01-02T15:04:05Z07:00', '2024-02-29T21:34:56.5-05:00').format()).toBe('2024-02-29 21:34:56.5 -0500 -0500');
    expect(p('2006-01-02', '2024-02-29').format()).toBe('2024-02-29 00:00:00 +0000 UTC');
    expect(p('Jan _2 3:04PM 2006', 'feb  3 1:05PM 2020').format()).toBe('2020-02-03 13:05:00 +0000 UTC');
    expect(() => p('Jan _2 3:04PM 2006', 'feb  3 1:05am 2020')).toThrow('parsing time "feb  3 1:05am 2020" as "Jan _2 3:04PM 2006": cannot parse " 2020" as "PM"');
    expect(p('2006 002', '2024 060').format()).toBe('2024-02-29 00:00:00 +0000 UTC');
    expect(() => p('2006-01-02', '2023-02-29')).toThrow('parsing time "2023-02-29": day out of range');
    expect(() => p('2006-01-02', '2023-1-02')).toThrow('parsing time "2023-1-02" as "2006-01-02": cannot parse "1-02" as "01"');
    expect(() => p('2006', '2023x')).toThrow('parsing time "2023x": extra text: "x"');
    expect(() => p('15:04', '25:00')).toThrow('parsing time "25:00": hour out of range');
  });

  it('durations: ParseDuration and Duration.String as Go', () => {
    expect(durationString(parseDuration('1h15m30.918273645s'))).toBe('1h15m30.918273645s');
    expect(durationString(parseDuration('-1.5us'))).toBe('-1.5\xc2\xb5s');
    expect(durationString(parseDuration('.5ms'))).toBe('500\xc2\xb5s');
    expect(durationString(0n)).toBe('0s');
    expect(durationString(-(1n << 63n))).toBe('-2562047h47m16.854775808s');
    expect(() => parseDuration('1d')).toThrow('time: unknown unit "d" in duration "1d"');
    expect(() => parseDuration('9223372036854775808ns')).toThrow('time: invalid duration "9223372036854775808ns"');
    expect(() => parseDuration('')).toThrow('time: invalid duration ""');
  });

  it('now, ago, date and friends use ctx.now(); duration takes strings and int64 only, as Sprig', () => {
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const ctx = ctxOf({ now: at });
    const n = call('now', ctx) as GoTime;
    expect(n.format()).toMatch(/^2024-01-02 03:04:05\.678 \+0000 UTC m=[+-]\d+\.\d{9}$/);
    expect(call('date', ctx, '2006-01-02 15:04:05.000', n)).toBe('2024-01-02 03:04:05.678');
    expect(call('date', ctx, '2006', int(0, 'int64'))).toBe('1970');
    expect(call('date', ctx, '2006', int(86400 * 366, 'int32'))).toBe('1971');
    // A string is not a date: Sprig formats now instead.
    expect(call('htmlDate', ctx, '0')).toBe('2024-01-02');
    expect(call('htmlDateInZone', ctx, int(0), 'Asia/Tokyo')).toBe('1970-01-01');
    expect(call('dateInZone', ctx, '15:04 MST', int(0), 'No/Such_Zone')).toBe('00:00 UTC');
    expect(call('ago', ctx, int(Math.floor(at / 1000) - 3725))).toBe('1h2m6s');
    expect(call('duration', ctx, '95')).toBe('1m35s');
    expect(call('duration', ctx, int(95))).toBe('0s');
    expect(call('duration', ctx, int(95, 'int64'))).toBe('1m35s');
    expect(call('durationRound', ctx, '2h30m')).toBe('2h');
    expect(call('durationRound', ctx, int(-(400n * 3600n * 1_000_000_000n), 'int64'))).toBe('16d');
    expect(call('durationRound', ctx, t(Math.floor(at / 1000) - 86400 * 400))).toBe('1y');
    expect(call('unixEpoch', ctx, t(1234567890))).toBe('1234567890');
    expect((call('dateModify', ctx, '-1.5h', t(7200)) as GoTime).sec).toBe(1800);
    expect((call('dateModify', ctx, 'bogus', t(7200)) as GoTime).sec).toBe(7200);
    expect(() => call('mustDateModify', ctx, 'bogus', t(7200))).toThrow('time: invalid duration "bogus"');
    expect((call('toDate', ctx, '2006', 'x') as GoTime).format()).toBe('0001-01-01 00:00:00 +0000 UTC');
    expect(() => call('mustToDate', ctx, '2006', 'x')).toThrow('parsing time "x" as "2006": cannot parse "x" as "2006"');
  });

  it('time.Time methods templates call', () => {
    const x = parseTime('2006-01-02T15:04:05Z07:00', '2024-02-29T21:34:56+01:00', LOCAL, LOCAL);
    const ctx = ctxOf();
    const m = (name: string, ...args: GoValue[]) => x.field(name, args, ctx);
    expect((m('Year') as GoInt).v).toBe(2024n);
    expect((m('Month') as GoTime).format()).toBe('February');
    expect((m('Weekday') as GoTime).format()).toBe('Thursday');
    expect((m('Unix') as GoInt).v).toBe(1709238896n);
    expect(m('Format', '02 Jan 06 15:04 -0700')).toBe('29 Feb 24 21:34 +0100');
    expect((m('UTC') as GoTime).format()).toBe('2024-02-29 20:34:56 +0000 UTC');
    expect((m('AddDate', int(0), int(12), int(1)) as GoTime).format()).toBe('2025-03-02 21:34:56 +0100 +0100');
    expect((m('Add', int(3600n * 1_000_000_000n, 'int64')) as GoTime).format()).toBe('2024-02-29 22:34:56 +0100 +0100');
  });
});

const time_RFC3339 = '2006-01-02T15:04:05Z07:00';

/** The Go output of a golden case in test/template-golden/expected/sprig-extra.json. */
function GOLDEN(name: string): string {
  const all: { name: string; output_b64?: string; error?: string }[] = JSON.parse(readFileSync(new URL('../../test/template-golden/expected/sprig-extra.json', import.meta.url), 'utf8'));
  const c = all.find((x) => x.name === name);
  if (!c || c.error !== undefined) throw new Error(`no golden output for ${name}`);
  return Buffer.from(c.output_b64 ?? '', 'base64').toString('latin1');
}

describe('through the template engine (renderTemplate, clock and randomness pinned)', () => {
  const at = Date.UTC(2024, 6, 1, 12, 30, 45, 250);
  let n = 0;
  const env = { now: () => at, randomBytes: (k: number) => Buffer.alloc(k, ++n) };
  const data = new Map([['pass', Buffer.from('s3cr3t-value')], ['zone', Buffer.from('Europe/Berlin')]]);
  const render = (src: string, budget?: TemplateBudget) => renderTemplate('item', src, data, budget, env).toString('latin1');
  const refusal = (src: string): SealedSecretsError => {
    try {
      render(src);
    } catch (e) {
      return e as SealedSecretsError;
    }
    throw new Error('rendered');
  };

  it('now, date, dateInZone with a zone from the values, and time methods', () => {
    expect(render('{{ now | date "2006-01-02T15:04:05.000Z07:00" }}')).toBe('2024-07-01T12:30:45.250Z');
    expect(render('{{ dateInZone "15:04 MST" now .zone }} {{ (now).Year }} {{ now | unixEpoch }} {{ (now.Add 86400000000000).Weekday }}')).toBe('14:30 CEST 2024 1719837045 Tuesday');
    expect(render('{{ ago (dateModify "-90m" now) }} {{ durationRound (toDate "2006-01-02" "2023-07-01") }}')).toBe('1h30m0s 1y');
  });

  it('random values: lengths, alphabets and uuid shape', () => {
    expect(render('{{ randAlphaNum 12 | len }} {{ randNumeric 5 | len }} {{ randBytes 9 | b64dec | len }}')).toBe('12 5 9');
    expect(render('{{ uuidv4 }}')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(render('{{ $c := genSelfSignedCertWithKey "svc" (list "10.1.2.3") (list "svc.ns") 7 (genPrivateKey "ed25519") }}{{ $c.Cert | trunc 27 }}|{{ $c.Key | trunc 27 }}')).toBe('-----BEGIN CERTIFICATE-----|-----BEGIN PRIVATE KEY-----');
  });

  it('failures over the values are ERR_VALUE, and the annotation names no value', () => {
    const e = refusal('{{ mustToDate "2006-01-02" .pass }}');
    expect(e.code).toBe('ERR_VALUE');
    expect(e.message).toContain('error calling mustToDate');
    expect(e.message).not.toContain('s3cr3t');
    expect(refusal('{{ decryptAES "k" .pass }}').code).toBe('ERR_VALUE');
  });

  it('expensive functions past the allowance are ERR_VALUE before they run', () => {
    // A roomy wall clock (this machine is shared): what stops the loop must be the allowance.
    const budget = new TemplateBudget(undefined, undefined, undefined, 120_000);
    let e: SealedSecretsError | undefined;
    try {
      render('{{ range until 7 }}{{ bcrypt "x" | len }}{{ end }}', budget);
    } catch (x) {
      e = x as SealedSecretsError;
    }
    expect(e?.code).toBe('ERR_VALUE');
    expect(e?.message).toMatch(/more than 300 ms on bcrypt/);
    // Each call site is allowed its declared cost once (counted from the template text): the second bcrypt is refused before it starts.
    expect(budget.heavyMs).toBe(2 * 300); // the first ran (300), the second was charged and refused before it ran
  }, 120_000);

  it('wrong literal argument types and counts are ERR_TEMPLATE, found before any value is read', () => {
    expect(refusal('{{ date "2006" }}').code).toBe('ERR_TEMPLATE');
    expect(refusal('{{ randAlphaNum "x" }}').code).toBe('ERR_TEMPLATE');
    expect(refusal('{{ dateModify "1h" "not a time" }}').code).toBe('ERR_TEMPLATE');
  });
});

describe('HEAVY_FUNCTIONS names every function that spends the crypto allowance', () => {
  it('each of them spends it; the cheap ones around them do not', () => {
    const key = FX.keys.ecdsa;
    const ca = new GoCertificate(FX.certs[0]!.cert, FX.certs[0]!.key);
    const big = () => new TemplateBudget(undefined, undefined, undefined, 60_000);
    const args: Record<string, GoValue[]> = {
      bcrypt: ['x'],
      htpasswd: ['u', 'p'],
      derivePassword: [int(1), 'pin', 'p', 'u', 's'],
      genPrivateKey: ['ed25519'],
      genCA: ['x', int(1)],
      genCAWithKey: ['x', int(1), key],
      genSelfSignedCert: ['x', null, null, int(1)],
      genSelfSignedCertWithKey: ['x', null, null, int(1), key],
      genSignedCert: ['x', null, null, int(1), ca],
      genSignedCertWithKey: ['x', null, null, int(1), ca, key],
    };
    expect([...HEAVY_FUNCTIONS].sort()).toEqual(Object.keys(args).sort());
    for (const [name, a] of Object.entries(args)) {
      const budget = big();
      call(name, ctxOf({ budget }), ...a);
      expect(budget.heavyMs, name).toBeGreaterThan(0);
    }
    const cheap: [string, GoValue[]][] = [['buildCustomCert', [Buffer.from(FX.certs[0]!.cert).toString('base64'), Buffer.from(FX.certs[0]!.key).toString('base64')]], ['encryptAES', ['k', 'v']], ['sha256sum', ['v']], ['randAlphaNum', [int(10)]], ['toDate', ['2006', '2024']]];
    for (const [name, a] of cheap) {
      const budget = big();
      call(name, ctxOf({ budget }), ...a);
      expect(budget.heavyMs, name).toBe(0);
    }
  }, 60_000);
});
