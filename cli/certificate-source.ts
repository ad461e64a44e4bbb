/**
 * Where kubeseal gets the controller's certificate offline: a file, a file://
 * URL, or an https URL (upstream --cert). Plain http is accepted only for
 * loopback addresses (kubectl port-forward), since a certificate fetched over
 * an open network could be swapped for an attacker's.
 */
import { fileURLToPath } from 'node:url';
import { SealedSecretsError, assertCertificateValid, parseCertificatePem, type ParsedCertificate } from '../src/index.js';
import { readInputFile, type CliIo } from './io.js';

const MAX_CERT_BYTES = 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function readCertificateText(io: CliIo, source: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new SealedSecretsError('ERR_CERT_FETCH', `--cert ${JSON.stringify(source)} is not a valid URL`, { hint: 'give a file path or an https:// URL' });
    }
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      throw new SealedSecretsError('ERR_CERT_FETCH', `refusing to fetch the certificate over plain http from ${url.host}`, {
        hint: 'use an https URL, or download the certificate and pass it as a file',
      });
    }
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/x-pem-file, */*' } });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = (e as Error).name === 'TimeoutError' ? 'timed out' : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new SealedSecretsError('ERR_CERT_FETCH', `cannot fetch the certificate from ${url.origin}${url.pathname}: ${why}`, {
        hint: 'check the URL and the network, or pass the certificate as a file',
      });
    }
    if (!res.ok) {
      throw new SealedSecretsError('ERR_CERT_FETCH', `cannot fetch the certificate from ${url.origin}${url.pathname}: HTTP ${res.status}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > MAX_CERT_BYTES) throw new SealedSecretsError('ERR_CERT_FETCH', `the certificate at ${url.origin}${url.pathname} is over 1 MiB`);
    return body.toString('utf8');
  }
  const path = /^file:\/\//i.test(source) ? fileURLToPath(source) : source;
  return (await readInputFile(io, path, 'certificate file')).toString('utf8');
}

/** Loads and checks the sealing certificate; refuses an expired one. */
export async function loadSealingCertificate(io: CliIo, source: string): Promise<ParsedCertificate> {
  const cert = parseCertificatePem(await readCertificateText(io, source), source);
  assertCertificateValid(cert.certificate, io.now(), source);
  return cert;
}
