import { execFileSync } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { vectorKeys } from '../../test/vectors.js';
import { SealedSecretsError } from '../errors.js';
import { buildSelfSignedCertificate } from './certificate.js';
import { assertCertificateValid, generateRsaKeyPair, parseCertificatePem, parsePrivateKeyPem, publicKeyFingerprint } from './keys.js';

const keys = vectorKeys();

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof SealedSecretsError ? `${e.code}: ${e.message}` : String(e);
  }
  return 'no error';
}

describe('keys and certificates', () => {
  it.each(keys.map((k) => [k.id, k]))('fingerprint of %s matches upstream PublicKeyFingerprint', (_id, k) => {
    expect(publicKeyFingerprint(createPublicKey(k.publicKeyPem))).toBe(k.fingerprint);
    expect(publicKeyFingerprint(parseCertificatePem(k.certPem, 'cert').publicKey)).toBe(k.fingerprint);
    expect(publicKeyFingerprint(parsePrivateKeyPem(k.privateKeyPkcs8Pem, 'pkcs8').publicKey)).toBe(k.fingerprint);
    expect(publicKeyFingerprint(parsePrivateKeyPem(k.privateKeyPem, 'pkcs1').publicKey)).toBe(k.fingerprint);
  });

  it('refuses a bare public key, garbage, and non-RSA keys with messages that name the source', () => {
    expect(code(() => parseCertificatePem(keys[0]!.publicKeyPem, 'pub.pem'))).toBe('ERR_CERT_INVALID: pub.pem holds no PEM certificate');
    expect(code(() => parseCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', 'c.pem'))).toBe(
      'ERR_CERT_INVALID: c.pem holds a certificate that cannot be parsed',
    );
    expect(code(() => parsePrivateKeyPem('hello', 'k.pem'))).toBe('ERR_KEY_INVALID: k.pem holds no PEM private key');
    const ec = execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).toString();
    expect(code(() => parsePrivateKeyPem(ec, 'ec.pem'))).toBe('ERR_KEY_INVALID: ec.pem holds a ec key; sealed secrets use RSA keys only');
  });

  it('refuses an expired certificate, saying when it expired', () => {
    const k = keys[0]!;
    const cert = new X509Certificate(k.certPem);
    expect(code(() => assertCertificateValid(cert, new Date(k.certNotBefore), 'cert.pem'))).toBe('no error');
    const after = new Date(Date.parse(k.certNotAfter) + 1000);
    expect(code(() => assertCertificateValid(cert, after, 'cert.pem'))).toMatch(
      /^ERR_CERT_EXPIRED: failed to encrypt using an expired certificate on [A-Z][a-z]+ \d{1,2}, \d{4} \(cert\.pem\)$/,
    );
  });

  it('builds a certificate shaped like upstream: encipherOnly, CA, empty DN, 10 years, signed by its key', async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair(2048);
    const notBefore = new Date('2026-01-02T03:04:05.678Z');
    const pem = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore, ttlMs: 87600 * 3600 * 1000 });
    const cert = new X509Certificate(pem);
    // An empty DN, as upstream's default --my-cn "" gives. (X509Certificate.ca is false for
    // CA:TRUE without keyCertSign, upstream's certs included: OpenSSL checks CA:TRUE below.)
    expect(cert.subject ?? '').toBe('');
    expect(cert.issuer ?? '').toBe('');
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2035-12-31T03:04:05.000Z');
    expect(cert.verify(publicKey)).toBe(true);
    expect(publicKeyFingerprint(cert.publicKey)).toBe(publicKeyFingerprint(publicKey));
    // OpenSSL reads it independently.
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem }).toString();
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Encipher Only/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text).toContain('X509v3 Subject Key Identifier');
    const named = new X509Certificate(await buildSelfSignedCertificate({ privateKey, publicKey, notBefore, ttlMs: 1000, commonName: 'sealed' }));
    expect(named.subject).toBe('CN=sealed');
  });
});
