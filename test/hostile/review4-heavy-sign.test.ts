/**
 * Fourth adversarial review (template engine): "signing a certificate" is declared at 10 ms
 * (crypto.ts HEAVY_MS.sign) whatever the key. genSelfSignedCertWithKey / genSignedCert(WithKey) /
 * buildCustomCert sign with a key the template supplies, and OpenSSL accepts RSA moduli up to
 * 16384 bits. A fake PKCS#1 key (random n, d and CRT parameters: parsing checks nothing) is worse
 * than a real one: the CRT result fails OpenSSL's consistency check and it recomputes without CRT,
 * a full 16384-bit modular exponentiation: ~1.5 s CPU (3-5 s wall on this loaded box) for 10 ms
 * declared, and the call succeeds (the clock is looked at only on the next charge). 150x the
 * declaration; on a value-dependent branch it is R4-1's oracle with no heavy allowance spent.
 * Fix: declare the cost from the key (modulusLength from asymmetricKeyDetails: ~(bits/2048)^3 x
 * the non-CRT cost), or refuse RSA keys over 4096 bits, and check a parsed RSA key's consistency
 * (p*q == n) before signing, so the non-CRT fallback cannot be forced.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src/template.js';

function fakeRsaPem(bits: number): string {
  const rnd = (b: number) => {
    const x = randomBytes(b / 8);
    x[0]! |= 0x80;
    x[x.length - 1]! |= 1;
    return BigInt('0x' + x.toString('hex'));
  };
  const len = (n: number) => {
    if (n < 128) return Buffer.from([n]);
    const h = n.toString(16);
    const b = Buffer.from(h.length % 2 ? '0' + h : h, 'hex');
    return Buffer.concat([Buffer.from([0x80 | b.length]), b]);
  };
  const tlv = (t: number, body: Buffer) => Buffer.concat([Buffer.from([t]), len(body.length), body]);
  const int = (v: bigint) => {
    let h = v.toString(16);
    if (h.length % 2) h = '0' + h;
    let b = Buffer.from(h, 'hex');
    if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return tlv(2, b);
  };
  const der = tlv(0x30, Buffer.concat([int(0n), int(rnd(bits)), int(65537n), int(rnd(bits)), ...Array.from({ length: 5 }, () => int(rnd(bits / 2)))]));
  createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }); // node accepts it
  return `-----BEGIN RSA PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END RSA PRIVATE KEY-----\n`;
}

describe('review4: the declared cost of signing ignores the key', () => {
  it('one genSelfSignedCertWithKey with a 16384-bit key costs far more than its 10 ms', () => {
    const tpl = `{{ genSelfSignedCertWithKey "x" nil nil 3 \`${fakeRsaPem(16384)}\` | toString | len }}`;
    const c0 = process.cpuUsage();
    try {
      renderTemplate('out', tpl, new Map());
    } catch {
      // refused is fine
    }
    const c = process.cpuUsage(c0);
    expect((c.user + c.system) / 1000).toBeLessThan(400);
  }, 120_000);
});
