/**
 * One HTTP(S) request, as Go's http.Transport with ProxyFromEnvironment makes it: directly, or
 * through an http/https proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, or an explicit proxy URL).
 * https targets go through a CONNECT tunnel, so the proxy sees only the CONNECT line, the Host
 * and the proxy's own credentials; every header of the request itself (Authorization) travels
 * inside TLS. Plain http targets are sent to the proxy in absolute form, as Go does.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { SealedSecretsError } from '../src/index.js';
import { proxyFor, shownProxy } from './proxy.js';

export interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  /** SNI and the name the server certificate must carry (--tls-server-name). */
  servername?: string;
}

export interface HttpRequestSpec {
  url: URL;
  method: 'GET' | 'POST';
  headers?: OutgoingHttpHeaders;
  body?: string;
  tls?: TlsSettings;
  /** For the whole exchange, body included; 0 or undefined: none. */
  timeoutMs?: number;
  env: Readonly<Record<string, string | undefined>>;
  /** A proxy that wins over the environment (a kubeconfig's proxy-url, --proxy-url). */
  proxyUrl?: string;
  /** The response body is refused past this many bytes. */
  maxBytes?: number;
  /** Debug lines (-v): never headers, never bodies. */
  log?: (line: string) => void;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A failure to exchange, by a short code only (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, ETIMEDOUT, ETOOLARGE, EPROXY). */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  return 'Basic ' + Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64');
}

function codeOf(e: unknown): string {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' && /^[A-Z][A-Z0-9_]{1,60}$/.test(c) ? c : 'ECONNECTION';
}

function hostOnly(u: URL): string {
  return u.hostname.replace(/^\[|\]$/g, '');
}

function defaultPort(u: URL): number {
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

/** A connected socket to the proxy: TCP, or TLS for an https:// proxy (checked against the system's roots). */
function connectToProxy(proxy: URL, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolveSocket, reject) => {
    const host = hostOnly(proxy);
    const port = defaultPort(proxy);
    const sock: Socket =
      proxy.protocol === 'https:'
        ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host })
        : netConnect({ host, port });
    const onAbort = () => sock.destroy(new TransportError('ETIMEDOUT', 'timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      signal.removeEventListener('abort', onAbort);
      resolveSocket(sock);
    });
    sock.once('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(e instanceof TransportError ? e : new TransportError(codeOf(e), `cannot reach the proxy ${shownProxy(proxy)}: ${codeOf(e)}`));
    });
  });
}

/** CONNECT host:port through the proxy; resolves with the raw tunnel once the proxy answers 200. */
async function openTunnel(proxy: URL, target: URL, signal: AbortSignal): Promise<Socket> {
  const sock = await connectToProxy(proxy, signal);
  const authority = `${target.hostname}:${defaultPort(target)}`;
  const auth = proxyAuthorization(proxy);
  sock.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  return new Promise((resolveTunnel, reject) => {
    let head = Buffer.alloc(0);
    const fail = (e: Error) => {
      cleanup();
      sock.destroy();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) fail(new TransportError('EPROXY', `the proxy ${shownProxy(proxy)} sent an oversized answer to CONNECT`));
        return;
      }
      cleanup();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (status !== '200') {
        sock.destroy();
        reject(new TransportError('EPROXY', `the proxy ${shownProxy(proxy)} refused the tunnel to ${authority}: ${status ? `HTTP ${status}` : 'not an HTTP answer'}`));
        return;
      }
      const rest = head.subarray(end + 4);
      if (rest.length) sock.unshift(rest);
      resolveTunnel(sock);
    };
    const onError = (e: Error) => fail(new TransportError(codeOf(e), `the proxy ${shownProxy(proxy)} connection failed: ${codeOf(e)}`));
    const onClose = () => fail(new TransportError('EPROXY', `the proxy ${shownProxy(proxy)} closed the connection before answering CONNECT`));
    const onAbort = () => fail(new TransportError('ETIMEDOUT', 'timed out'));
    const cleanup = () => {
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function tlsOptions(target: URL, tls: TlsSettings | undefined): ConnectionOptions {
  const host = hostOnly(target);
  const name = tls?.servername || host;
  return {
    host,
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.cert ? { cert: tls.cert } : {}),
    ...(tls?.key ? { key: tls.key } : {}),
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    // SNI carries a name, never an address (RFC 6066); verification uses the name either way.
    ...(isIP(name) ? {} : { servername: name }),
    // The certificate must name --tls-server-name when given, else the host connected to.
    checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
  };
}

export async function send(spec: HttpRequestSpec): Promise<HttpResponse> {
  const { url } = spec;
  const proxy = proxyFor(url, spec.env, spec.proxyUrl);
  const controller = new AbortController();
  const timer = spec.timeoutMs ? setTimeout(() => controller.abort(), spec.timeoutMs) : undefined;
  const started = Date.now();
  spec.log?.(`${spec.method} ${url.origin}${url.pathname}${proxy ? ` via proxy ${shownProxy(proxy)}` : ''}`);
  try {
    const res = await exchange(spec, proxy, controller.signal);
    spec.log?.(`${spec.method} ${url.origin}${url.pathname} ${res.status} in ${Date.now() - started} milliseconds`);
    return res;
  } catch (e) {
    if (controller.signal.aborted) throw new TransportError('ETIMEDOUT', `timed out after ${formatMs(spec.timeoutMs!)}`);
    if (e instanceof TransportError || e instanceof SealedSecretsError) throw e;
    throw new TransportError(codeOf(e), codeOf(e));
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

async function exchange(spec: HttpRequestSpec, proxy: URL | undefined, signal: AbortSignal): Promise<HttpResponse> {
  const { url } = spec;
  const headers: OutgoingHttpHeaders = { ...(spec.headers ?? {}) };
  if (spec.body !== undefined) headers['content-length'] = String(Buffer.byteLength(spec.body));
  const path = url.pathname + url.search;
  let req: import('node:http').ClientRequest;
  if (url.protocol === 'https:') {
    const tunnel = proxy ? await openTunnel(proxy, url, signal) : undefined;
    const tls = tlsOptions(url, spec.tls);
    req = httpsRequest({
      ...tls,
      method: spec.method,
      hostname: hostOnly(url),
      port: defaultPort(url),
      path,
      headers,
      signal,
      // Without an agent, the request runs over the connection given (the tunnel), or a fresh one.
      ...(tunnel ? { createConnection: () => tlsConnect({ ...tls, socket: tunnel }) } : { agent: false }),
    });
  } else if (proxy) {
    // Plain http through a proxy: the absolute URL as the request target, as Go sends it.
    const auth = proxyAuthorization(proxy);
    const send = proxy.protocol === 'https:' ? httpsRequest : httpRequest;
    req = send({
      method: spec.method,
      hostname: hostOnly(proxy),
      port: defaultPort(proxy),
      path: url.href,
      headers: { ...headers, host: url.host, ...(auth ? { 'proxy-authorization': auth } : {}) },
      agent: false,
      signal,
    });
  } else {
    req = httpRequest({ method: spec.method, hostname: hostOnly(url), port: defaultPort(url), path, headers, agent: false, signal });
  }
  return new Promise<HttpResponse>((resolveRes, rejectRes) => {
    let settled = false;
    const reject = (e: unknown) => {
      if (!settled) {
        settled = true;
        rejectRes(e);
      }
    };
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (spec.maxBytes !== undefined && size > spec.maxBytes) {
          // Settled first: destroying the response emits 'aborted' at once.
          reject(new TransportError('ETOOLARGE', `the answer is over ${spec.maxBytes % 1048576 === 0 ? `${spec.maxBytes / 1048576} MiB` : `${spec.maxBytes} bytes`}`));
          res.destroy();
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        if (!settled) {
          settled = true;
          resolveRes({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        }
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new TransportError('ECONNRESET', 'ECONNRESET')));
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}
