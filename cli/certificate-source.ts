/**
 * Where kubeseal gets the controller's certificate offline: a file, a file://
 * URL, or an https URL (upstream --cert). Plain http is accepted only for
 * loopback addresses (kubectl port-forward), since a certificate fetched over
 * an open network could be swapped for an attacker's; the same rule holds for
 * every redirect, which is checked before it is followed.
 */
import { fileURLToPath } from 'node:url';
import { SealedSecretsError, assertCertificateValid, parseCertificatePem, type ParsedCertificate } from '../src/index.js';
import { readInputFile, type CliIo } from './io.js';
import { TransportError, send, type HttpResponse } from './transport.js';

/** A certificate is a few KiB; a body larger than this is refused while it streams in. */
const MAX_CERT_BYTES = 1024 * 1024;
/** For the whole fetch: every redirect and the body. */
const FETCH_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const HINT = 'use an https URL, or download the certificate and pass it as a file';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Where an error may name a URL: no credentials, no query (it may carry a token). */
const shown = (u: URL) => `${u.origin}${u.pathname}`;

/**
 * The rule for the URL given and for every redirect: https anywhere, plain http only
 * on loopback, and never from https down to http (not even to loopback). Checked
 * before any connection to the URL is made.
 */
function assertFetchable(url: URL, from: URL | undefined): void {
  const via = from ? ` (redirected from ${shown(from)})` : '';
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:') {
    throw new SealedSecretsError('ERR_CERT_FETCH', `refusing to fetch the certificate from a ${url.protocol.replace(/:$/, '')} URL${via}`, { hint: HINT });
  }
  if (from?.protocol === 'https:') {
    throw new SealedSecretsError('ERR_CERT_FETCH', `refusing to follow a redirect from https to plain http ${url.host}${via}`, { hint: HINT });
  }
  if (!isLoopback(url.hostname)) {
    throw new SealedSecretsError('ERR_CERT_FETCH', `refusing to fetch the certificate over plain http from ${url.host}${via}`, { hint: HINT });
  }
}

function fetchError(url: URL, e: unknown): SealedSecretsError {
  if (e instanceof SealedSecretsError) return e;
  if (e instanceof TransportError && e.code === 'ETOOLARGE') return tooLarge(url);
  const why = e instanceof TransportError ? (e.code === 'ETIMEDOUT' ? `timed out after ${FETCH_TIMEOUT_MS / 1000} s` : e.code === 'EPROXY' ? e.message : e.code) : 'unknown error';
  return new SealedSecretsError('ERR_CERT_FETCH', `cannot fetch the certificate from ${shown(url)}: ${why}`, {
    hint: 'check the URL and the network, or pass the certificate as a file',
  });
}

function tooLarge(url: URL): SealedSecretsError {
  return new SealedSecretsError('ERR_CERT_FETCH', `the certificate at ${shown(url)} is over ${MAX_CERT_BYTES / 1024 / 1024} MiB`, {
    hint: 'a certificate is a few KiB: check the URL names the certificate, or pass it as a file',
  });
}

/**
 * Fetches the certificate, following at most MAX_REDIRECTS redirects by hand so that
 * each one is checked against the rule before it is followed. Through HTTPS_PROXY /
 * HTTP_PROXY unless NO_PROXY says otherwise, as upstream's http.ProxyFromEnvironment.
 */
async function fetchCertificate(source: URL, io: CliIo): Promise<string> {
  const deadline = Date.now() + FETCH_TIMEOUT_MS;
  let url = source;
  let from: URL | undefined;
  for (let hop = 0; ; hop++) {
    assertFetchable(url, from);
    let res: HttpResponse;
    try {
      res = await send({
        url,
        method: 'GET',
        headers: { accept: 'application/x-pem-file, */*' },
        timeoutMs: Math.max(1, deadline - Date.now()),
        env: io.env,
        maxBytes: MAX_CERT_BYTES,
      });
    } catch (e) {
      throw fetchError(url, e);
    }
    if (REDIRECT_STATUSES.has(res.status)) {
      const location = res.headers.location;
      if (!location) throw new SealedSecretsError('ERR_CERT_FETCH', `cannot fetch the certificate from ${shown(url)}: HTTP ${res.status} without a Location`);
      if (hop >= MAX_REDIRECTS) {
        throw new SealedSecretsError('ERR_CERT_FETCH', `cannot fetch the certificate from ${shown(source)}: more than ${MAX_REDIRECTS} redirects`, {
          hint: 'check the URL (a redirect loop?), or download the certificate and pass it as a file',
        });
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new SealedSecretsError('ERR_CERT_FETCH', `cannot fetch the certificate from ${shown(url)}: it redirects to an invalid URL`);
      }
      from = url;
      url = next;
      continue;
    }
    if (res.status < 200 || res.status > 299) {
      throw new SealedSecretsError('ERR_CERT_FETCH', `cannot fetch the certificate from ${shown(url)}: HTTP ${res.status}`);
    }
    return res.body.toString('utf8');
  }
}

export async function readCertificateText(io: CliIo, source: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new SealedSecretsError('ERR_CERT_FETCH', `--cert ${JSON.stringify(source)} is not a valid URL`, { hint: 'give a file path or an https:// URL' });
    }
    return fetchCertificate(url, io);
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
