/**
 * What a hostile template can make SPRIG-EXTRA's functions do, with the real TemplateBudget:
 * counts charged before anything is allocated (randAlphaNum, randBytes, layouts), the
 * allowance for expensive crypto refusing before the work starts (bcrypt, derivePassword,
 * key generation), zone names that could reach other files, and fuzzed inputs that must end
 * in Go's error result (FuncError) or a budget stop (EvalError), never another exception:
 * both are ERR_VALUE, concealed from everyone who cannot read the Secret.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvalError, TEMPLATE_LIMITS, TemplateBudget } from '../../src/template/budget.js';
import { GoCertificate, GoTime, SPRIG_EXTRA } from '../../src/template/sprig-extra.js';
import { LOCAL, loadLocation } from '../../src/template/sprig-extra/time.js';
import { type FuncContext, FuncError, type GoValue, GoInt, GoSlice } from '../../src/template/values.js';

const ctxOf = (budget = new TemplateBudget()): FuncContext => ({ budget, now: () => Date.now(), randomBytes });
const call = (name: string, ctx: FuncContext, ...args: GoValue[]): GoValue => SPRIG_EXTRA[name]!.fn(ctx, args);
const int = (n: number | bigint, type: 'int' | 'int64' | 'int32' = 'int') => new GoInt(BigInt(n), type);

/** Runs f; returns how it ended and how long it took. Anything but a value, FuncError or EvalError fails the test. */
function outcome(f: () => GoValue): { kind: 'value' | 'func' | 'budget'; ms: number; error?: string } {
  const start = performance.now();
  try {
    f();
    return { kind: 'value', ms: performance.now() - start };
  } catch (e) {
    const ms = performance.now() - start;
    if (e instanceof FuncError) return { kind: 'func', ms, error: e.message };
    if (e instanceof EvalError) return { kind: 'budget', ms, error: e.message };
    throw e;
  }
}

describe('sizes are charged before anything is allocated', () => {
  it.each([
    ['randAlphaNum', 1e12],
    ['randAlpha', 2 ** 62],
    ['randNumeric', TEMPLATE_LIMITS.bytes + 1],
    ['randAscii', 9e15],
    ['randBytes', 2 ** 40],
  ])('%s %d stops at the budget at once', (name, n) => {
    const before = process.memoryUsage().rss;
    const r = outcome(() => call(name, ctxOf(), int(BigInt(n))));
    expect(r.kind).toBe('budget');
    expect(r.error).toMatch(/would produce more than/);
    expect(r.ms).toBeLessThan(200);
    expect(process.memoryUsage().rss - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('randNumeric rejects 9 of 10 draws: the random bytes it reads are charged too', () => {
    // 1 MiB of digits fits the output budget but needs ~9 MiB of draws: the scan budget stops it.
    const r = outcome(() => call('randNumeric', ctxOf(), int(1 << 20)));
    expect(r).toMatchObject({ kind: 'budget', error: expect.stringMatching(/would read more than/) });
  });

  it('a layout is charged for its widest output before it is formatted', () => {
    const layout = 'Monday January 2006 .000000000 '.repeat(20_000);
    const r = outcome(() => call('date', ctxOf(), layout, int(0)));
    expect(r.kind).toBe('budget');
    expect(r.ms).toBeLessThan(200);
  });

  it('a layout of 340,000 elements stops at the step budget before it is parsed or formatted (review R4-7)', () => {
    const layout = 'MST'.repeat(340_000);
    const before = process.memoryUsage().heapUsed;
    for (const f of [() => call('toDate', ctxOf(), layout, layout), () => call('mustToDate', ctxOf(), layout, layout), () => call('date', ctxOf(), layout, int(0)), () => new GoTime(0, 0, LOCAL).field('Format', [layout], ctxOf()) ?? null]) {
      const r = outcome(f);
      expect(r).toMatchObject({ kind: 'budget', error: expect.stringMatching(/more than 20000 steps/) });
      expect(r.ms).toBeLessThan(200);
    }
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(24 * 1024 * 1024);
  });

  it('a long random draw reads the clock as it goes: 1.9 MB of randAlphaNum stops at a 20 ms clock (review R4-2)', () => {
    const r = outcome(() => call('randAlphaNum', ctxOf(new TemplateBudget(undefined, undefined, undefined, 20)), int(1_900_000)));
    expect(r).toMatchObject({ kind: 'budget', error: expect.stringMatching(/take too long/) });
    // Without the checks it ran to the end (~450 ms of CPU here); a loose bound for a shared machine.
    expect(r.ms).toBeLessThan(250);
  });

  it('shuffle of a large value is charged for every byte it reads and writes', () => {
    // A roomy clock: the byte charges are what is tested (the clock stops it too on a busy machine).
    const budget = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const big = 'x'.repeat(600_000);
    expect(outcome(() => call('shuffle', ctxOf(budget), big)).kind).toBe('value');
    // The first shuffle reserved 3 bytes a byte (invalid UTF-8 could triple): the next one no longer fits.
    expect(outcome(() => call('shuffle', ctxOf(budget), big)).kind).toBe('budget');
  });
});

describe('expensive crypto fits only a few times per SealedSecret, refused before it runs', () => {
  it('bcrypt: 6 per budget, the 7th refused at once', () => {
    const budget = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const ctx = ctxOf(budget);
    for (let i = 0; i < 6; i++) expect(outcome(() => call('bcrypt', ctx, 'pw')).kind).toBe('value');
    const seventh = outcome(() => call('bcrypt', ctx, 'pw'));
    expect(seventh).toMatchObject({ kind: 'budget', error: expect.stringMatching(/more than 2000 ms on bcrypt/) });
    // Refused before it ran: far from a bcrypt's ~100 ms (a loose bound: the machine is shared).
    expect(seventh.ms).toBeLessThan(50);
  }, 120_000);

  it('derivePassword (scrypt, 32 MiB): 4 per budget; htpasswd shares bcrypt\'s cost', () => {
    const budget = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const ctx = ctxOf(budget);
    for (let i = 0; i < 4; i++) expect(outcome(() => call('derivePassword', ctx, int(i), 'long', 'p', 'u', 's')).kind).toBe('value');
    expect(outcome(() => call('derivePassword', ctx, int(9), 'long', 'p', 'u', 's')).kind).toBe('budget');
    expect(outcome(() => call('htpasswd', ctx, 'u', 'p')).kind).toBe('budget');
  }, 120_000);

  it('a second RSA-4096 or any DSA key after one is refused without generating anything', () => {
    const budget = new TemplateBudget();
    // Declared as spent: what genPrivateKey "rsa" charges, without the second it takes to run.
    budget.heavy(2000, 'genPrivateKey "rsa"');
    for (const t of ['rsa', '', 'dsa', 'ecdsa']) {
      const r = outcome(() => call('genPrivateKey', ctxOf(budget), t));
      expect(r.kind).toBe('budget');
      expect(r.ms).toBeLessThan(100);
    }
    const ca = outcome(() => call('genCA', ctxOf(budget), 'x', int(1)));
    expect(ca.kind).toBe('budget');
    expect(ca.ms).toBeLessThan(100);
  });

  it('genCA then genSignedCert (the usual pair) fits one budget', () => {
    const budget = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const ca = call('genCA', ctxOf(budget), 'ca', int(1));
    expect(ca).toBeInstanceOf(GoCertificate);
    expect(call('genSignedCert', ctxOf(budget), 'leaf', null, new GoSlice(['leaf']), int(1), ca)).toBeInstanceOf(GoCertificate);
  }, 120_000);
});

describe('keys a template supplies cannot make signing slow', () => {
  // A PKCS#1 RSAPrivateKey built by hand from JWK-style fields: newer OpenSSL (Node 22+) refuses to import an
  // inconsistent JWK, and these keys are inconsistent on purpose (the code under test must refuse them itself).
  const derLength = (n: number) => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]));
  const derInt = (b: Buffer) => {
    let v = b;
    while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
  };
  const pkcs1 = (jwk: Record<string, string>) => {
    const fields = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].map((k) => derInt(Buffer.from(jwk[k]!, 'base64url')));
    const body = Buffer.concat([derInt(Buffer.from([0])), ...fields]);
    const der = Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
    return `-----BEGIN RSA PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END RSA PRIVATE KEY-----\n`;
  };
  const b64u = (b: Buffer) => b.toString('base64url');

  it('a forged 16384-bit RSA key (random numbers: OpenSSL would fall back to a slow non-CRT modexp) is refused at once', () => {
    const r = (n: number) => {
      const b = randomBytes(n);
      b[0]! |= 0x80;
      return b64u(b);
    };
    const forged = pkcs1({ kty: 'RSA', n: r(2048), e: 'AQAB', d: r(2048), p: r(1024), q: r(1024), dp: r(1024), dq: r(1024), qi: r(1024) });
    const res = outcome(() => call('genSelfSignedCertWithKey', ctxOf(), 'x', null, null, int(1), forged));
    expect(res).toMatchObject({ kind: 'func', error: expect.stringMatching(/RSA keys over 8192 bits are not accepted/) });
    expect(res.ms).toBeLessThan(200);
  });

  it('an RSA key whose primes do not make its modulus is refused as Go\'s Validate refuses it; bad CRT values are recomputed as Go does', () => {
    const good = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const jwk = good.export({ format: 'jwk' }) as Record<string, string>;
    const bumped = (v: string) => {
      const b = Buffer.from(v, 'base64url');
      b[b.length - 1]! ^= 2;
      return b64u(b);
    };
    expect(() => call('genCAWithKey', ctxOf(), 'x', int(1), pkcs1({ ...jwk, p: bumped(jwk['p']!) }))).toThrow('parsing private key: parsing RSA private key from PEM: crypto/rsa: invalid modulus');
    expect(() => call('genCAWithKey', ctxOf(), 'x', int(1), pkcs1({ ...jwk, d: bumped(jwk['d']!) }))).toThrow('crypto/rsa: invalid exponents');
    // Forged CRT values: signing would take OpenSSL's slow path; Go ignores them (Precompute), and so do we.
    const c = call('genCAWithKey', ctxOf(), 'x', int(1), pkcs1({ ...jwk, dp: bumped(jwk['dp']!), qi: bumped(jwk['qi']!) })) as GoCertificate;
    expect(c.key).toBe(good.export({ type: 'pkcs1', format: 'pem' }));
  });

  it('signing is declared by the key\'s size (RSA-2048: 10 ms; it grows with the cube of the modulus)', () => {
    const budget = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const k2048 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    call('genCAWithKey', ctxOf(budget), 'x', int(1), k2048);
    expect(budget.heavyMs).toBe(10);
  });
});

describe('zone names from a template never reach other files', () => {
  it('path traversal, absolute paths, NUL and over-long names fall back to UTC as Go does', () => {
    for (const zone of ['../../../../etc/passwd', '/etc/passwd', 'Europe/../../../etc/hostname', 'a/../b', '\\etc\\passwd', 'Europe/Berlin\0x', 'x'.repeat(200), '.', '..', 'zone.tab', 'tzdata.zi', 'posixrules/..']) {
      expect(loadLocation(ctxOf(), zone)?.name ?? 'UTC').not.toMatch(/passwd|hostname/);
      expect(call('dateInZone', ctxOf(), '2006-01-02 15:04 MST', int(0), zone)).toBe('1970-01-01 00:00 UTC');
    }
  });

  it('each zone load is charged steps: a loop of them stops at the step budget', () => {
    const budget = new TemplateBudget();
    let r: ReturnType<typeof outcome> = { kind: 'value', ms: 0 };
    let n = 0;
    while (r.kind === 'value' && n < 10_000) {
      r = outcome(() => call('dateInZone', ctxOf(budget), 'MST', int(0), 'Europe/Berlin'));
      n++;
    }
    expect(r.kind).toBe('budget');
    expect(n).toBeLessThanOrEqual(TEMPLATE_LIMITS.steps / 20 + 1);
  });
});

describe('fuzzed inputs end in Go\'s error result or a budget stop, never another exception', () => {
  const anyString = fc.oneof(fc.string({ maxLength: 60 }), fc.stringMatching(/^[-+0-9.:TZ hmsuµnMSTPAJFDOC,_]{0,40}$/), fc.constantFrom('2006-01-02T15:04:05Z07:00', '', 'Z07', '.000', '__2 002', 'Jan _2', 'MST', '15:04:05.999999999'));
  const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  const runs = { numRuns: 400 };

  it('date, dateInZone, htmlDate, ago, unixEpoch over any int64 and layout', () => {
    fc.assert(
      fc.property(anyString, int64, fc.constantFrom('int', 'int64', 'int32' as const), fc.constantFrom('UTC', 'Local', 'America/New_York', 'Pacific/Chatham', 'Nope'), (layout, n, type, zone) => {
        const v = int(n, type);
        for (const f of [() => call('dateInZone', ctxOf(), layout, v, zone), () => call('htmlDate', ctxOf(), v), () => call('ago', ctxOf(), v), () => call('unixEpoch', ctxOf(), new GoTime(Number(n), 0, LOCAL))]) {
          const r = outcome(f);
          expect(r.ms).toBeLessThan(1000);
        }
      }),
      runs,
    );
  });

  it('toDate, mustToDate, duration, durationRound, dateModify over any strings', () => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        outcome(() => call('toDate', ctxOf(), a, b));
        outcome(() => call('mustToDate', ctxOf(), a, b));
        outcome(() => call('duration', ctxOf(), a));
        outcome(() => call('durationRound', ctxOf(), a));
        outcome(() => call('mustDateModify', ctxOf(), a, new GoTime(0, 0, LOCAL)));
        const t = outcome(() => call('dateModify', ctxOf(), b, new GoTime(253402300799, 999999999, LOCAL)));
        expect(t.kind).not.toBe('budget');
      }),
      runs,
    );
  });

  it('time methods with extreme arguments', () => {
    fc.assert(
      fc.property(int64, int64, int64, (y, m, d) => {
        const t = new GoTime(0, 0, LOCAL);
        const ctx = ctxOf();
        for (const [name, args] of [
          ['AddDate', [int(y), int(m), int(d)]],
          ['Add', [int(y, 'int64')]],
          ['Truncate', [int(m, 'int64')]],
          ['Round', [int(d, 'int64')]],
          ['Format', ['2006-01-02 15:04:05.000 MST']],
        ] as const) {
          const r = outcome(() => t.field(name, [...args], ctx) ?? null);
          if (r.kind === 'value') {
            const v = t.field(name, [...args], ctx);
            if (v instanceof GoTime) outcome(() => v.format());
          }
        }
      }),
      runs,
    );
  });

  it('decryptAES and buildCustomCert over any bytes, and keys from any PEM-looking text', () => {
    const b64ish = fc.oneof(fc.base64String({ maxLength: 120 }), fc.string({ maxLength: 80 }), fc.uint8Array({ maxLength: 90 }).map((u) => Buffer.from(u).toString('base64')));
    const pemish = fc.tuple(fc.constantFrom('RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'DSA PRIVATE KEY', 'CERTIFICATE', 'X PRIVATE KEY'), fc.uint8Array({ maxLength: 200 })).map(([t, b]) => `-----BEGIN ${t}-----\n${Buffer.from(b).toString('base64')}\n-----END ${t}-----\n`);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), b64ish, b64ish, pemish, (key, a, b, pem) => {
        outcome(() => call('decryptAES', ctxOf(), key, a));
        outcome(() => call('buildCustomCert', ctxOf(), a, b));
        const r = outcome(() => call('genCAWithKey', ctxOf(), 'x', int(1), pem));
        expect(r.kind).toBe('func');
        outcome(() => call('genSignedCertWithKey', ctxOf(), 'x', null, null, int(1), new GoCertificate(pem, pem), pem));
      }),
      { numRuns: 300 },
    );
  });

  it('certificate arguments: IPs, DNS names and validity of any shape', () => {
    const key = call('genPrivateKey', ctxOf(), 'ed25519') as string;
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 45 }), fc.ipV4(), fc.ipV6(), fc.integer().map((i) => int(i))), { maxLength: 4 }), fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constant(null)), { maxLength: 3 }), int64, fc.string({ maxLength: 30 }), (ips, dns, days, cn) => {
        const r = outcome(() => call('genSelfSignedCertWithKey', ctxOf(), cn, new GoSlice(ips), new GoSlice(dns), int(days), key));
        expect(r.kind).not.toBe('budget');
      }),
      { numRuns: 300 },
    );
  });
});
