/**
 * Builds the controller's self-signed certificate like upstream's
 * crypto.SignKeyWithNotBefore: random 128-bit serial, KeyUsage encipherOnly,
 * CA:TRUE, subject = issuer = CN=<my-cn> (empty DN by default), SubjectKeyId,
 * sha256WithRSAEncryption.
 *
 * node-forge only assembles the ASN.1 structure and sees only the public key;
 * the signature is made by node:crypto, so forge never touches a private key.
 * This is the only file that imports node-forge.
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import type forgeTypes from 'node-forge';

export interface CertificateOptions {
  publicKey: KeyObject;
  privateKey: KeyObject;
  notBefore: Date;
  /** Validity in milliseconds (upstream --key-ttl, default 10 years). */
  ttlMs: number;
  /** upstream --my-cn; "" gives an empty subject and issuer. */
  commonName?: string;
}

export const DEFAULT_CERT_TTL_MS = 87600 * 3600 * 1000;

export async function buildSelfSignedCertificate(opts: CertificateOptions): Promise<string> {
  // Loaded on first use: sealing and unsealing never load node-forge.
  const forge: typeof forgeTypes = (await import('node-forge')).default;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // A positive DER INTEGER of 127 random bits (upstream: rand.Int below 2^128).
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  // Go truncates to whole seconds in the certificate; do the same so notBefore round-trips.
  const notBefore = new Date(Math.floor(opts.notBefore.getTime() / 1000) * 1000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + opts.ttlMs);
  const dn = opts.commonName ? [{ name: 'commonName', value: opts.commonName }] : [];
  cert.setSubject(dn);
  cert.setIssuer(dn);
  cert.setExtensions([
    { name: 'keyUsage', critical: true, encipherOnly: true },
    { name: 'basicConstraints', critical: true, cA: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.siginfo.algorithmOid = forge.pki.oids['sha256WithRSAEncryption']!;
  cert.signatureOid = forge.pki.oids['sha256WithRSAEncryption']!;
  // getTBSCertificate exists in node-forge but is missing from its type definitions.
  const pki = forge.pki as typeof forge.pki & { getTBSCertificate(c: forgeTypes.pki.Certificate): forgeTypes.asn1.Asn1 };
  const tbs = pki.getTBSCertificate(cert);
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  (cert as unknown as { tbsCertificate: forgeTypes.asn1.Asn1 }).tbsCertificate = tbs;
  cert.signature = sign('sha256', tbsDer, opts.privateKey).toString('binary');
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}
