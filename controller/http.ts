/**
 * The controller's HTTP endpoints, on upstream's ports and paths
 * (pkg/controller/server.go): /healthz, /readyz, /v1/cert.pem, /v1/verify,
 * /v1/rotate on --listen-addr; /metrics on --listen-metrics-addr.
 * Request bodies and their item counts are capped, verify and rotate are
 * rate-limited per client (the socket's peer, or the client a trusted proxy
 * names) and share a bounded number of slots in the unseal pool, headers and
 * bodies have deadlines, and no response or log carries secret material:
 * verify answers only yes or no.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { SealedSecretsError, isSealedSecretsError, objectRef, type SealedSecret } from '../src/index.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/**
 * encryptedData entries per /v1/verify or /v1/rotate request. Each costs up to one RSA
 * private operation per key held; the API server allows more (1.5 MiB objects), but a
 * Secret of more than 256 items is better split, and kubeseal --validate sends one
 * SealedSecret per request.
 */
export const MAX_ITEMS = 256;
/**
 * Nesting a request may have. A SealedSecret is about 8 levels deep; JSON.parse takes 10,000
 * and more, but structuredClone (the message to the unseal worker) overflows its stack and
 * the worker thread dies, so such a body would let any client kill worker threads.
 */
export const MAX_DEPTH = 100;

/** Whether v nests deeper than limit (objects and arrays), without recursion. */
function nestedDeeperThan(v: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, depth] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (depth > limit) return true;
    for (const c of Object.values(x as object)) if (c !== null && typeof c === 'object') stack.push([c, depth + 1]);
  }
  return false;
}

export interface HttpDeps {
  certificatePem(): string | undefined;
  ready(): { ok: boolean; detail: string };
  verify(ss: SealedSecret): Promise<void>;
  rotate(ss: SealedSecret): Promise<SealedSecret>;
  metrics: Metrics;
  log: Logger;
  rateLimit: number;
  rateLimitBurst: number;
  /**
   * Addresses and CIDRs (--trusted-proxies) whose X-Forwarded-For is believed: only for a
   * request whose socket peer is one of them is the client taken from the header.
   */
  trustedProxies?: readonly string[];
  /** verify and rotate requests in the unseal pool at once; more get 429 and Retry-After. */
  maxInFlight?: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
}

/** "::ffff:10.0.0.1" (a dual-stack socket's IPv4 peer) -> "10.0.0.1"; "1.2.3.4:80", "[::1]:80" -> the address; else undefined. */
function normalizeAddress(a: string | undefined): string | undefined {
  if (!a) return undefined;
  let s = a.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) s = mapped[1]!;
  return isIP(s) ? s.toLowerCase() : undefined;
}

/** Parses --trusted-proxies: addresses and CIDRs, comma-separated. Throws RangeError naming a bad entry. */
export function parseTrustedProxies(list: readonly string[]): BlockList {
  const b = new BlockList();
  for (const entry of list) {
    const [addr, bits, ...rest] = entry.trim().split('/');
    const a = normalizeAddress(addr);
    const family = a ? (isIP(a) === 4 ? 'ipv4' : 'ipv6') : undefined;
    const max = family === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!a || !family || rest.length || !(prefix >= 0 && prefix <= max)) throw new RangeError(`--trusted-proxies: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.1, 10.0.0.0/8, fd00::/8)`);
    b.addSubnet(a, prefix, family);
  }
  return b;
}

/**
 * The client a request is counted against: the socket's peer, unless that peer is a trusted
 * proxy; then X-Forwarded-For is walked from the right (the hop the proxy appended last),
 * skipping trusted proxies, to the first address that is not one. What a client writes into
 * the header itself is left of what its proxy appended, so it is never reached. An entry that
 * is not an address ends the walk at the last trusted hop.
 *
 * kubeseal reaches verify and rotate through the API server's service proxy, so every
 * kubeseal request arrives from the API server's address: without --trusted-proxies all
 * kubeseal users share one bucket per path (kubeseal waits and retries on 429). That is the
 * price of a header no client can forge. The API server's proxy (Go's ReverseProxy) appends
 * the address it saw to X-Forwarded-For, so listing the API server's source addresses in
 * --trusted-proxies gives each client address its own bucket again.
 */
export function clientAddress(req: IncomingMessage, trusted: BlockList | undefined): string {
  const peer = normalizeAddress(req.socket.remoteAddress) ?? 'unknown';
  const isTrusted = (a: string) => trusted !== undefined && trusted.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
  if (!isTrusted(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').filter((h) => h.trim());
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]);
    if (!hop) break;
    client = hop;
    if (!isTrusted(hop)) break;
  }
  return client;
}

/**
 * The bucket a client address counts against: an IPv4 address itself, an IPv6 address its /64
 * (one host commonly holds a whole /64, so per-address buckets would be unlimited buckets).
 */
export function bucketKey(addr: string): string {
  if (isIP(addr) !== 6) return addr;
  const [head, tail] = addr.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups; only the first four groups matter here.
  const full = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${full.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/** Per-client token buckets (upstream: throttled GCRA keyed by path and X-Forwarded-For; here by clientAddress()). */
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

  /** Charges a request that was let in for its size: the bucket may go into debt, which the client then waits out. */
  charge(key: string, tokens: number): void {
    const b = this.#buckets.get(key);
    if (this.rate > 0 && b && tokens > 0) b.tokens -= tokens;
  }
}

/**
 * Each request costs one token, plus one for every ITEMS_PER_TOKEN items past the first batch:
 * every item is at least one RSA private operation, so a 256-item request is paid as 32
 * ordinary ones instead of buying 256 (or 256 x keys, for items no key opens) for one token.
 */
const ITEMS_PER_TOKEN = 8;

/** What /readyz needs to know; the key store's error text is not part of it. */
export interface ReadinessState {
  keys: number;
  /** Whether the last key store call failed. Its text goes to the logs only: /readyz is unauthenticated. */
  keyStoreFailing: boolean;
  cachesSynced: boolean;
  leader: boolean;
  /** The Lease is forbidden and this replica runs unelected (said in the detail). */
  unelected?: boolean;
}

/** /readyz's answer: what is missing, in fixed words (an error's text could name hosts, paths or tokens). */
export function readiness(s: ReadinessState): { ok: boolean; detail: string } {
  const problems = [s.keys === 0 ? `no sealing key loaded yet${s.keyStoreFailing ? ' (key store unreachable, see logs)' : ''}` : '', s.cachesSynced ? '' : 'caches not synced yet'].filter(Boolean);
  // A key store outage with keys in memory is degraded, not down: every replica keeps serving.
  const degraded = s.keys > 0 && s.keyStoreFailing ? `; key store unreachable (see logs), serving from the ${s.keys} keys in memory` : '';
  return { ok: problems.length === 0, detail: (problems.join('; ') || `${s.keys} keys, leader=${s.leader}${s.unelected ? ' (unelected: the Lease is forbidden, see logs)' : ''}`) + degraded };
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

/**
 * What a body may be labelled. Upstream reads the body whatever its label; this server refuses
 * labels that cannot be a SealedSecret (image/png, ...) but takes what `curl -d` and
 * `curl --data-binary` send (application/x-www-form-urlencoded: the body is read as it is, not
 * form-decoded), and no label at all. Every label here is one a browser may send cross-site
 * without a preflight or is already one (text/plain), so it opens nothing new; a request a
 * browser marks cross-site or same-site (Sec-Fetch-Site) is refused whatever its label.
 */
const ACCEPTED_TYPES = /^(application\/(json|yaml|x-yaml|octet-stream|x-www-form-urlencoded)|text\/(plain|yaml|x-yaml))$/;

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
  if (nestedDeeperThan(ss, MAX_DEPTH)) throw new HttpError(400, `SealedSecret ${objectRef(ss.metadata)} is nested more than ${MAX_DEPTH} levels deep`);
  const items = ss.spec.encryptedData && typeof ss.spec.encryptedData === 'object' ? Object.keys(ss.spec.encryptedData).length : 0;
  if (items > MAX_ITEMS) {
    throw new HttpError(413, `SealedSecret ${objectRef(ss.metadata)} has ${items} items in encryptedData; at most ${MAX_ITEMS} per request: split it`);
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
  const trusted = d.trustedProxies?.length ? parseTrustedProxies(d.trustedProxies) : undefined;
  const maxInFlight = Math.max(1, d.maxInFlight ?? 2);
  let inFlight = 0;
  /** Runs f in one of maxInFlight slots, or answers 429 at once: no client queues unbounded RSA work. */
  const inSlot = async <T>(res: ServerResponse, f: () => Promise<T>): Promise<T | undefined> => {
    if (inFlight >= maxInFlight) {
      res.setHeader('retry-after', '1');
      send(res, 429, 'the controller is busy with other verify and rotate requests: retry later\n');
      return undefined;
    }
    inFlight++;
    try {
      return await f();
    } finally {
      inFlight--;
    }
  };
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
          // A page on another site (through `kubectl proxy`, which has no CSRF protection) may POST
          // text/plain or form-urlencoded without a preflight: a browser marks it, kubeseal and curl never do.
          const site = String(req.headers['sec-fetch-site'] ?? '').toLowerCase();
          if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, `${url.pathname} is not for web pages on other sites`);
          const bucket = `${url.pathname} ${bucketKey(clientAddress(req, trusted))}`;
          if (!limiter.allow(bucket)) {
            res.setHeader('retry-after', '1');
            return send(res, 429, 'too many requests: slow down\n');
          }
          const ss = await parseSealedSecret(req);
          limiter.charge(bucket, Math.floor((Object.keys(ss.spec.encryptedData ?? {}).length - 1) / ITEMS_PER_TOKEN));
          if (url.pathname === '/v1/verify') {
            try {
              if ((await inSlot(res, async () => (await d.verify(ss), true))) === undefined) return;
              return send(res, 200, 'ok\n');
            } catch (e) {
              if (isSealedSecretsError(e) && e.code !== 'ERR_WORKER' && e.code !== 'ERR_NO_KEYS') return send(res, 409, `SealedSecret ${objectRef(ss.metadata)} cannot be unsealed: ${e.message}\n`);
              throw e;
            }
          }
          try {
            const out = await inSlot(res, () => d.rotate(ss));
            if (out === undefined) return;
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
