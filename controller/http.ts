/**
 * The controller's HTTP endpoints, on upstream's ports and paths
 * (pkg/controller/server.go): /healthz, /readyz, /v1/cert.pem, /v1/verify,
 * /v1/rotate on --listen-addr; /metrics on --listen-metrics-addr.
 * Request bodies are capped, verify and rotate are rate-limited per client,
 * headers and bodies have deadlines, and no response or log carries secret
 * material: verify answers only yes or no.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SealedSecretsError, isSealedSecretsError, objectRef, type SealedSecret } from '../src/index.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface HttpDeps {
  certificatePem(): string | undefined;
  ready(): { ok: boolean; detail: string };
  verify(ss: SealedSecret): Promise<void>;
  rotate(ss: SealedSecret): Promise<SealedSecret>;
  metrics: Metrics;
  log: Logger;
  rateLimit: number;
  rateLimitBurst: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
}

/** Per-client token buckets (upstream: throttled GCRA keyed by path and X-Forwarded-For). */
class ClientLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}
  allow(key: string, now = performance.now()): boolean {
    if (this.rate <= 0) return true;
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.#buckets.set(key, b);
    if (this.#buckets.size > 10_000) this.#buckets.delete(this.#buckets.keys().next().value as string);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new HttpError(413, `request body over ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new HttpError(400, 'error reading the request body')));
  });
}

const ACCEPTED_TYPES = /^(application\/(json|yaml|x-yaml|octet-stream)|text\/(plain|yaml|x-yaml))$/;

async function parseSealedSecret(req: IncomingMessage): Promise<SealedSecret> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type && !ACCEPTED_TYPES.test(type)) throw new HttpError(415, `unsupported content type ${type}: send a SealedSecret as JSON or YAML`);
  const body = await readBody(req, MAX_BODY_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new HttpError(400, 'the body is not UTF-8 text');
  }
  let obj: unknown;
  const trimmed = text.trimStart();
  try {
    if (trimmed.startsWith('{')) obj = JSON.parse(text);
    else {
      const { parseAllDocuments } = await import('yaml');
      const docs = parseAllDocuments(text, { uniqueKeys: true });
      const list = (Array.isArray(docs) ? docs : [docs]).filter((d) => d.contents !== null);
      if (list.length !== 1) throw new HttpError(400, 'send exactly one SealedSecret');
      if (list[0]!.errors.length) throw new Error('yaml');
      obj = list[0]!.toJS({ maxAliasCount: 100 });
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'the body is not valid JSON or YAML');
  }
  const ss = obj as SealedSecret;
  if (!ss || typeof ss !== 'object' || Array.isArray(ss) || ss.kind !== 'SealedSecret' || !ss.metadata || typeof ss.metadata !== 'object' || !ss.spec || typeof ss.spec !== 'object') {
    throw new HttpError(400, 'the body is not a SealedSecret (kind: SealedSecret with metadata and spec)');
  }
  return ss;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function hardened(server: Server, d: HttpDeps): Server {
  server.headersTimeout = Math.min(d.readTimeoutMs, 60_000);
  server.requestTimeout = d.readTimeoutMs;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.timeout = d.writeTimeoutMs;
  return server;
}

export function createMainServer(d: HttpDeps): Server {
  const limiter = new ClientLimiter(d.rateLimit, d.rateLimitBurst);
  const server = createServer(async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://x');
    const path = ['/healthz', '/readyz', '/v1/cert.pem', '/v1/verify', '/v1/rotate'].includes(url.pathname) ? url.pathname : 'other';
    const method = req.method ?? 'GET';
    res.on('finish', () => {
      d.metrics.httpRequests.inc({ path, code: String(res.statusCode), method });
      d.metrics.httpDuration.observe({ path, method }, (performance.now() - started) / 1000);
    });
    try {
      const only = (m: string) => {
        if (method !== m && !(m === 'GET' && method === 'HEAD')) throw new HttpError(405, `use ${m} for ${url.pathname}`);
      };
      switch (url.pathname) {
        case '/healthz':
          only('GET');
          return send(res, 200, 'ok\n');
        case '/readyz': {
          only('GET');
          const r = d.ready();
          return send(res, r.ok ? 200 : 503, `${r.ok ? 'ok' : 'not ready'}: ${r.detail}\n`);
        }
        case '/v1/cert.pem': {
          only('GET');
          const pem = d.certificatePem();
          if (!pem) return send(res, 500, 'cannot get certificate\n');
          return send(res, 200, pem, 'application/x-pem-file');
        }
        case '/v1/verify':
        case '/v1/rotate': {
          only('POST');
          const client = String(req.headers['x-forwarded-for'] ?? req.socket.remoteAddress ?? '').split(',')[0]!.trim();
          if (!limiter.allow(`${url.pathname} ${client}`)) {
            res.setHeader('retry-after', '1');
            return send(res, 429, 'too many requests: slow down\n');
          }
          const ss = await parseSealedSecret(req);
          if (url.pathname === '/v1/verify') {
            try {
              await d.verify(ss);
              return send(res, 200, 'ok\n');
            } catch (e) {
              if (isSealedSecretsError(e) && e.code !== 'ERR_WORKER' && e.code !== 'ERR_NO_KEYS') return send(res, 409, `SealedSecret ${objectRef(ss.metadata)} cannot be unsealed: ${e.message}\n`);
              throw e;
            }
          }
          try {
            const out = await d.rotate(ss);
            return send(res, 200, JSON.stringify(out), 'application/json');
          } catch (e) {
            if (isSealedSecretsError(e) && e.code !== 'ERR_WORKER' && e.code !== 'ERR_NO_KEYS') return send(res, 409, `SealedSecret ${objectRef(ss.metadata)} cannot be re-encrypted: ${e.message}\n`);
            throw e;
          }
        }
        default:
          return send(res, 404, 'not found\n');
      }
    } catch (e) {
      if (e instanceof HttpError) return send(res, e.status, `${e.message}\n`);
      const msg = e instanceof SealedSecretsError ? e.message : 'internal error';
      d.log.error('HTTP request failed', { path, method, error: msg });
      return send(res, 503, `${msg}\n`);
    }
  });
  return hardened(server, d);
}

export function createMetricsServer(d: HttpDeps): Server {
  return hardened(
    createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/metrics') return send(res, 404, 'not found\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'use GET\n');
      send(res, 200, await d.metrics.registry.metrics(), d.metrics.registry.contentType);
    }),
    d,
  );
}

/** Parses upstream's listen addresses: ":8080", "0.0.0.0:8080", "127.0.0.1:0", "[::1]:8080". */
export function parseListenAddr(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:(\d+)$/.exec(addr);
  if (!m) throw new RangeError(`invalid listen address "${addr}": use [host]:port, e.g. :8080`);
  return { host: m[1] ?? (m[2] || undefined), port: Number(m[3]) };
}
