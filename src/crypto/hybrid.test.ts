import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hybridCases, vectorKeys } from '../../test/vectors.js';
import { KeyRing } from '../keyring.js';
import { SCOPES, encryptionLabel } from '../scope.js';
import { hybridEncrypt, openWithKey } from './hybrid.js';
import { modulusBytes, parsePrivateKeyPem } from './keys.js';

const keys = vectorKeys();
const parsed = new Map(keys.map((k) => [k.privateKeyPem, parsePrivateKeyPem(k.privateKeyPem, k.id)]));
const pair = (pem: string) => parsed.get(pem) ?? parsePrivateKeyPem(pem, 'case key');
const ringOf = (pems: string[]) => {
  const ring = new KeyRing();
  pems.forEach((p, i) => {
    const { privateKey, publicKey } = pair(p);
    ring.add(privateKey, publicKey, { orderingTime: i });
  });
  return ring;
};

describe('upstream vectors: decrypting blobs made by the Go HybridEncrypt', () => {
  it.each(hybridCases('hybrid-positive.json').map((c) => [c.id, c]))('%s opens to its plaintext', (_id, c) => {
    const { privateKey } = pair(c.privateKeyPem!);
    const pt = openWithKey(privateKey, modulusBytes(privateKey), Buffer.from(c.ciphertextB64, 'base64'), Buffer.from(c.labelB64, 'base64'));
    expect(pt).toBeDefined();
    expect(pt!.toString('base64')).toBe(c.plaintextB64);
    expect(createHash('sha256').update(pt!).digest('hex')).toBe(c.expected.plaintextSha256);
  });

  it.each(hybridCases('hybrid-negative.json').map((c) => [c.id, c.description, c]))('%s fails: %s', (_id, _d, c) => {
    const ring = ringOf([c.privateKeyPem!]);
    expect(ring.open(Buffer.from(c.ciphertextB64, 'base64'), Buffer.from(c.labelB64, 'base64'))).toBeUndefined();
  });

  it.each(hybridCases('hybrid-multikey.json').map((c) => [c.id, c.description, c]))('%s: %s', (_id, _d, c) => {
    const ring = ringOf(c.privateKeyPems!);
    const r = ring.open(Buffer.from(c.ciphertextB64, 'base64'), Buffer.from(c.labelB64, 'base64'));
    if (c.expected.ok) expect(r?.plaintext.toString('base64')).toBe(c.plaintextB64);
    else expect(r).toBeUndefined();
  });
});

/** Opens a blob with OpenSSL's command line for RSA-OAEP and node's GCM: an independent path. */
function opensslOpen(privateKeyPem: string, blob: Buffer, label: Uint8Array): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'ss-openssl-'));
  writeFileSync(join(dir, 'key.pem'), privateKeyPem);
  const n = blob.readUInt16BE(0);
  writeFileSync(join(dir, 'rsa.bin'), blob.subarray(2, 2 + n));
  const args = ['pkeyutl', '-decrypt', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'rsa.bin'),
    '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'];
  if (label.length) args.push('-pkeyopt', `rsa_oaep_label:${Buffer.from(label).toString('hex')}`);
  const sessionKey = execFileSync('openssl', args);
  const body = blob.subarray(2 + n);
  const d = createDecipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  d.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
}

describe('sealing is readable by an independent decryptor', () => {
  for (const k of keys.filter((k) => k.id !== 'dev-rsa2048-wrong')) {
    it(`openssl pkeyutl opens our blobs for ${k.id} in every scope`, () => {
      const pub = createPublicKey(k.certPem);
      for (const scope of SCOPES) {
        const label = encryptionLabel('team-a', 'db-credentials', scope);
        const pt = Buffer.from(`value sealed in ${scope} scope ✓`);
        const blob = hybridEncrypt(pub, pt, label);
        expect(blob.readUInt16BE(0)).toBe(k.bits / 8);
        expect(blob.length).toBe(2 + k.bits / 8 + pt.length + 16);
        expect(opensslOpen(k.privateKeyPem, blob, label)).toEqual(pt);
      }
    });
  }
});

describe('properties', () => {
  const k2048 = pair(keys.find((k) => k.bits === 2048)!.privateKeyPem);
  const other = pair(keys.find((k) => k.id === 'dev-rsa2048-wrong')!.privateKeyPem);
  const k = modulusBytes(k2048.privateKey);
  const scope = fc.constantFrom(...SCOPES);
  const ident = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);

  it('round-trips any bytes (0 to 64 KiB) in every scope', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 65536 }), scope, ident, ident, (pt, s, ns, name) => {
        const label = encryptionLabel(ns, name, s);
        const blob = hybridEncrypt(k2048.publicKey, pt, label);
        expect(openWithKey(k2048.privateKey, k, blob, label)).toEqual(Buffer.from(pt));
      }),
      { numRuns: 60 },
    );
  });

  it('fails the same way for a flipped byte, a wrong label, a wrong key or a truncation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), ident, ident, fc.nat(), fc.integer({ min: 1, max: 255 }), (pt, ns, name, pos, flip) => {
        const label = encryptionLabel(ns, name, 'strict');
        const blob = hybridEncrypt(k2048.publicKey, pt, label);
        const flipped = Buffer.from(blob);
        flipped[pos % blob.length] = flipped[pos % blob.length]! ^ flip;
        expect(openWithKey(k2048.privateKey, k, flipped, label)).toBeUndefined();
        expect(openWithKey(k2048.privateKey, k, blob, encryptionLabel(ns, name + 'x', 'strict'))).toBeUndefined();
        expect(openWithKey(k2048.privateKey, k, blob, encryptionLabel(ns, name, 'namespace-wide'))).toBeUndefined();
        expect(openWithKey(other.privateKey, k, blob, label)).toBeUndefined();
        expect(openWithKey(k2048.privateKey, k, blob.subarray(0, pos % blob.length), label)).toBeUndefined();
        expect(openWithKey(k2048.privateKey, k, Buffer.concat([blob, Buffer.from([0])]), label)).toBeUndefined();
      }),
      { numRuns: 40 },
    );
  });
});
