/**
 * RSA keys and certificates on node:crypto: parsing, generation, fingerprints.
 * Parsed KeyObjects are kept by callers; nothing here re-parses PEM per operation.
 */
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
} from 'node:crypto';
import { SealedSecretsError } from '../errors.js';

export const KEY_SIZES = [2048, 3072, 4096] as const;
export type KeySize = (typeof KEY_SIZES)[number];
export const DEFAULT_KEY_SIZE: KeySize = 4096;

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function isKeySize(n: number): n is KeySize {
  return (KEY_SIZES as readonly number[]).includes(n);
}

/** Generates an RSA key natively (OpenSSL), off the main thread. */
export function generateRsaKeyPair(bits: KeySize = DEFAULT_KEY_SIZE): Promise<RsaKeyPair> {
  if (!isKeySize(bits)) throw new RangeError(`RSA key size must be one of ${KEY_SIZES.join(', ')}`);
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ privateKey, publicKey });
    });
  });
}

/** The modulus size in bytes (k in RFC 8017). */
export function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw new TypeError('not an RSA key');
  return Math.ceil(bits / 8);
}

/**
 * Parses a PEM private key: PKCS#1 (`RSA PRIVATE KEY`, what upstream writes into
 * tls.key) or PKCS#8 (`PRIVATE KEY`). Anything else, or a non-RSA key, is refused.
 * `source` names where it came from, for the message; the key text never appears.
 */
export function parsePrivateKeyPem(pem: string | Uint8Array, source: string): RsaKeyPair {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  if (!/-----BEGIN (RSA |ENCRYPTED |EC )?PRIVATE KEY-----/.test(text)) {
    throw new SealedSecretsError('ERR_KEY_INVALID', `${source} holds no PEM private key`, {
      hint: 'give a PEM RSA private key (PKCS#1 or PKCS#8), or a backup of key Secrets with tls.key',
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new SealedSecretsError('ERR_KEY_INVALID', `${source} holds a private key that cannot be parsed`, {
      hint: /ENCRYPTED/.test(text) ? 'decrypt it first: encrypted PEM keys are not supported' : 'check that the PEM is complete and unmodified',
    });
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new SealedSecretsError(
      'ERR_KEY_INVALID',
      `${source} holds a ${privateKey.asymmetricKeyType ?? 'non-RSA'} key; sealed secrets use RSA keys only`,
    );
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export interface ParsedCertificate {
  certificate: X509Certificate;
  publicKey: KeyObject;
  pem: string;
}

/**
 * Parses the first PEM CERTIFICATE block, as upstream's kubeseal does
 * (certutil.ParseCertsPEM, certs[0]). A bare public key is refused, as upstream.
 */
export function parseCertificatePem(pem: string | Uint8Array, source: string): ParsedCertificate {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text);
  if (!m) {
    const bareKey = /-----BEGIN (RSA )?PUBLIC KEY-----/.test(text);
    throw new SealedSecretsError('ERR_CERT_INVALID', `${source} holds no PEM certificate`, {
      hint: bareKey
        ? 'a bare public key is not accepted: use the controller certificate (kubeseal --fetch-cert > cert.pem)'
        : 'give the controller certificate, e.g. from kubeseal --fetch-cert or /v1/cert.pem',
    });
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(m[0]);
  } catch {
    throw new SealedSecretsError('ERR_CERT_INVALID', `${source} holds a certificate that cannot be parsed`, {
      hint: 'check that the PEM is complete and unmodified',
    });
  }
  const publicKey = certificate.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') {
    throw new SealedSecretsError(
      'ERR_CERT_INVALID',
      `${source} holds a certificate for a ${publicKey.asymmetricKeyType ?? 'non-RSA'} key; sealed secrets use RSA keys only`,
    );
  }
  return { certificate, publicKey, pem: m[0] + '\n' };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Refuses a certificate outside its validity window at `now` (upstream refuses expired certs). */
export function assertCertificateValid(cert: X509Certificate, now: Date, source: string): void {
  const notAfter = new Date(cert.validTo);
  if (now.getTime() > notAfter.getTime()) {
    const d = `${MONTHS[notAfter.getUTCMonth()]} ${notAfter.getUTCDate()}, ${notAfter.getUTCFullYear()}`;
    throw new SealedSecretsError('ERR_CERT_EXPIRED', `failed to encrypt using an expired certificate on ${d} (${source})`, {
      hint: 'fetch the current certificate from the controller (kubeseal --fetch-cert)',
    });
  }
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length, 0);
  return Buffer.concat([len, b]);
}

/** An SSH mpint: big-endian two's complement, with a 0 byte when the top bit is set. */
function sshMpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return sshString(v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/**
 * Upstream's PublicKeyFingerprint: ssh.FingerprintSHA256(ssh.NewPublicKey(pub)),
 * i.e. "SHA256:" + unpadded base64 of SHA-256 over the ssh-rsa wire encoding.
 */
export function publicKeyFingerprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new TypeError('not an RSA public key');
  const wire = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    sshMpint(Buffer.from(jwk.e, 'base64url')),
    sshMpint(Buffer.from(jwk.n, 'base64url')),
  ]);
  return 'SHA256:' + createHash('sha256').update(wire).digest('base64').replace(/=+$/, '');
}

/** PKCS#1 PEM, the format of upstream's tls.key. */
export function privateKeyToPem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}
