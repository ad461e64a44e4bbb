/**
 * A small REST client for the Kubernetes API. @kubernetes/client-node provides
 * the configuration and authentication (kubeconfig, in-cluster service account,
 * exec plugins); requests go through node:https so that every call is rate
 * limited, has a timeout, sends the exact JSON we built (the typed serializer
 * drops keys such as x-kubernetes-preserve-unknown-fields), supports every patch
 * type and the status subresource, and watches stream line by line.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import { SealedSecretsError } from '../../src/index.js';
import { TokenBucket } from './rate-limiter.js';
import type { KubeConfig } from './kubeconfig.js';

export class ApiError extends SealedSecretsError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(status === 0 || status >= 500 || status === 429 ? 'ERR_UNAVAILABLE' : 'ERR_UPDATE_FAILED', message);
  }
  get notFound(): boolean {
    return this.status === 404;
  }
  get conflict(): boolean {
    return this.status === 409;
  }
  get gone(): boolean {
    return this.status === 410;
  }
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  /** Bypasses the rate limiter (watches and leader election are not throttled). */
  unthrottled?: boolean;
  /** Ahead of queued requests at the rate limiter (writes for new and changed objects). */
  urgent?: boolean;
  /** The caller does not read a successful answer: it is not decoded (status writes, Events). */
  discardBody?: boolean;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** What the controller needs of the API: one request, and a watch. KubeClient is the real one. */
export interface KubeApi {
  request<T = unknown>(req: KubeRequest): Promise<T>;
  watch<T>(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

export interface KubeClientOptions {
  qps: number;
  burst: number;
  userAgent?: string;
}

/** A request that failed on a reused keep-alive connection before any response. */
class StaleConnection extends Error {}

/** Credentials as applied by client-node: headers for each request, TLS material for the Agent. */
interface Credentials {
  headers: Record<string, string>;
  auth?: string;
  agent: HttpAgent | HttpsAgent;
  at: number;
}

/** How long applied credentials are reused before client-node is asked again (it caches tokens itself). */
const CREDENTIALS_TTL_MS = 10_000;
const TLS_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

export class KubeClient implements KubeApi {
  readonly server: string;
  readonly #kc: KubeConfig;
  readonly #limiter: TokenBucket;
  readonly #userAgent: string;
  readonly #tokenFile: string | undefined;
  #credentials: Promise<Credentials> | undefined;
  #agent: HttpAgent | HttpsAgent | undefined;
  #tlsFingerprint = '';
  readonly #retired: (HttpAgent | HttpsAgent)[] = [];
  /** Requests made, by verb, for metrics and tests. */
  readonly counts = new Map<string, number>();
  /** Agents built (1 unless the TLS material changed), for tests. */
  agentsBuilt = 0;

  constructor(kc: KubeConfig, options: KubeClientOptions) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new SealedSecretsError('ERR_INVALID_INPUT', 'the kubeconfig has no current cluster', { hint: 'check --kubeconfig and --context' });
    this.server = cluster.server.replace(/\/+$/, '');
    this.#kc = kc;
    this.#limiter = new TokenBucket(options.qps, options.burst);
    this.#userAgent = options.userAgent ?? 'sealed-secrets-ts';
    // In a Pod (client-node's in-cluster config), the ServiceAccount token file is read again
    // each time credentials are applied (every few seconds, and at once after a 401), so a token
    // the kubelet replaces is used at once; client-node alone keeps a read token for a minute.
    const provider = kc.getCurrentUser()?.authProvider as { name?: string; config?: { tokenFile?: string } } | undefined;
    this.#tokenFile = provider?.name === 'tokenFile' ? provider.config?.tokenFile : undefined;
  }

  get throttled(): number {
    return this.#limiter.waiting;
  }

  /** The kubeconfig's credentials, applied at most every few seconds; concurrent callers share one refresh. */
  #credentialsNow(): Promise<Credentials> {
    const cached = this.#credentials;
    if (cached) {
      return cached.then((c) => (performance.now() - c.at < CREDENTIALS_TTL_MS ? c : this.#refresh(cached)));
    }
    return this.#refresh(undefined);
  }

  #refresh(seen: Promise<Credentials> | undefined): Promise<Credentials> {
    // Someone else refreshed meanwhile: use theirs.
    if (this.#credentials && this.#credentials !== seen) return this.#credentials;
    const next = this.#apply();
    this.#credentials = next;
    next.catch(() => {
      if (this.#credentials === next) this.#credentials = undefined;
    });
    return next;
  }

  /** Drops cached credentials (after a 401: a rotated token). */
  #invalidate(): void {
    this.#credentials = undefined;
  }

  async #apply(): Promise<Credentials> {
    const o: Record<string, unknown> & { headers: Record<string, string> } = { headers: {} };
    await this.#kc.applyToHTTPSOptions(o as never);
    const tls: AgentOptions = {};
    const h = createHash('sha256');
    for (const f of TLS_FIELDS) {
      const v = o[f];
      if (v === undefined) continue;
      (tls as Record<string, unknown>)[f] = v;
      h.update(`${f}=`).update(Buffer.isBuffer(v) ? v : String(v)).update('\0');
    }
    const proxied = Boolean(this.#kc.getCurrentCluster()?.proxyUrl);
    const fingerprint = h.digest('hex');
    if (!this.#agent || fingerprint !== this.#tlsFingerprint) {
      // Requests in flight on the old Agent finish; its idle sockets are closed after a while.
      if (this.#agent) this.#retire(this.#agent);
      // No socket cap: each watch holds a connection for minutes, and requests must never queue
      // behind them (callers bound their own concurrency). Behind a kubeconfig proxy-url,
      // client-node's proxy Agent is kept and reused instead.
      this.#agent = proxied && o['agent']
        ? (o['agent'] as HttpAgent)
        : this.server.startsWith('https:') ? new HttpsAgent({ ...tls, keepAlive: true }) : new HttpAgent({ keepAlive: true });
      this.#tlsFingerprint = fingerprint;
      this.agentsBuilt++;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers)) headers[k] = String(v);
    if (this.#tokenFile) {
      const token = (await readFile(this.#tokenFile, 'utf8')).trim();
      for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
      if (token) headers['Authorization'] = `Bearer ${token}`;
    }
    return { headers, auth: typeof o['auth'] === 'string' ? o['auth'] : undefined, agent: this.#agent, at: performance.now() };
  }

  #retire(agent: HttpAgent | HttpsAgent): void {
    this.#retired.push(agent);
    // Longer than any request or watch lasts (watches end within 6 minutes).
    setTimeout(() => {
      agent.destroy();
      const i = this.#retired.indexOf(agent);
      if (i >= 0) this.#retired.splice(i, 1);
    }, 10 * 60_000).unref();
  }

  async #options(req: KubeRequest, url: URL, extraHeaders: Record<string, string>): Promise<RequestOptions> {
    const c = await this.#credentialsNow();
    return {
      method: req.method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      headers: { ...c.headers, accept: 'application/json', 'user-agent': this.#userAgent, ...extraHeaders },
      auth: c.auth,
      agent: c.agent,
    };
  }

  #url(req: KubeRequest): URL {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /** One request; resolves with the decoded JSON body (or text), rejects with ApiError. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    if (!req.unthrottled) await this.#limiter.take(req.urgent);
    let staleRetried = false;
    let authRetried = false;
    for (;;) {
      try {
        return await this.#send<T>(req, staleRetried);
      } catch (e) {
        if (e instanceof StaleConnection && !staleRetried) {
          // Sent again on a new connection. A POST may in rare cases be applied twice: a Secret
          // create then answers 409 (handled as a conflict), an Event is recorded twice.
          staleRetried = true;
          continue;
        }
        if (e instanceof StaleConnection) throw new ApiError(0, 'NetworkError', `${req.method} ${req.path}: ${e.message}`);
        if (e instanceof ApiError && e.status === 401 && !authRetried) {
          // A token rotated since the credentials were applied: apply them again, once.
          authRetried = true;
          this.#invalidate();
          continue;
        }
        throw e;
      }
    }
  }

  async #send<T>(req: KubeRequest, retried = false): Promise<T> {
    this.counts.set(req.method, (this.counts.get(req.method) ?? 0) + 1);
    const url = this.#url(req);
    const payload = req.body === undefined ? undefined : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
    const headers: Record<string, string> = {};
    if (payload) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const opts = await this.#options(req, url, headers);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const r = send(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new ApiError(0, 'NetworkError', `${req.method} ${req.path}: ${e.message}`)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (req.discardBody && status >= 200 && status < 300) return resolve(undefined as T);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json') && text) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          if (status >= 200 && status < 300) resolve(body as T);
          else {
            const st = body as { reason?: string; message?: string };
            reject(new ApiError(status, st?.reason ?? 'Unknown', `${req.method} ${req.path}: ${status} ${st?.message ?? (typeof body === 'string' ? body.slice(0, 200) : '')}`));
          }
        });
      });
      r.setTimeout(req.timeoutMs ?? 30_000, () => r.destroy(new Error('request timed out')));
      r.on('error', (e) => {
        // A kept-alive connection the server closed meanwhile (idle timeout, restart) fails before
        // any response: the request never reached the server, so it is sent once more on a new one.
        const code = (e as NodeJS.ErrnoException).code;
        if (r.reusedSocket && !retried && (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test(e.message))) reject(new StaleConnection(e.message));
        else reject(new ApiError(0, 'NetworkError', `${req.method} ${req.path}: ${e.message}`));
      });
      r.end(payload);
    });
  }

  /**
   * Opens a watch and calls `onEvent` per event; resolves when the server closes
   * the stream, rejects on a failure to connect. The caller owns restarts.
   */
  async watch<T>(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const url = this.#url({ method: 'GET', path, query: { ...query, watch: true, allowWatchBookmarks: true } });
    const opts = await this.#options({ method: 'GET', path }, url, {});
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    await new Promise<void>((resolve, reject) => {
      // An error raised by the handler (e.g. a 410 ERROR event) must reach the caller as it is.
      let failure: unknown;
      const done = () => (failure ? reject(failure) : resolve());
      const r = send({ ...opts, signal }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          if (res.statusCode === 401) this.#invalidate();
          res.on('end', () => reject(new ApiError(res.statusCode ?? 0, 'WatchFailed', `watch ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`)));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let start = 0;
          let nl: number;
          while ((nl = buf.indexOf('\n', start)) >= 0) {
            const line = buf.slice(start, nl).trim();
            start = nl + 1;
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (e) {
              failure = e;
              r.destroy();
              return;
            }
          }
          buf = buf.slice(start);
        });
        res.on('end', done);
        res.on('error', (e) => (failure ? reject(failure) : signal.aborted ? resolve() : reject(new ApiError(0, 'NetworkError', `watch ${path}: ${e.message}`))));
        // A server that dies mid-stream may end the response with neither 'end' nor 'error'.
        res.on('close', done);
      });
      // A watch that goes silent past its own timeout (plus slack) is dead: drop it and re-watch.
      const idleMs = (Number(query['timeoutSeconds'] ?? 300) + 60) * 1000;
      r.setTimeout(idleMs, () => r.destroy(new Error('watch went silent')));
      r.on('error', (e) => (failure ? reject(failure) : signal.aborted ? resolve() : reject(new ApiError(0, 'NetworkError', `watch ${path}: ${e.message}`))));
      r.end();
    });
  }

  close(): void {
    this.#agent?.destroy();
    for (const a of this.#retired.splice(0)) a.destroy();
  }
}

/** Paths of the resources the controller uses. */
export const paths = {
  secrets: (ns?: string) => (ns ? `/api/v1/namespaces/${ns}/secrets` : '/api/v1/secrets'),
  secret: (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${encodeURIComponent(name)}`,
  sealedSecrets: (ns?: string) => (ns ? `/apis/bitnami.com/v1alpha1/namespaces/${ns}/sealedsecrets` : '/apis/bitnami.com/v1alpha1/sealedsecrets'),
  sealedSecret: (ns: string, name: string) => `/apis/bitnami.com/v1alpha1/namespaces/${ns}/sealedsecrets/${encodeURIComponent(name)}`,
  sealedSecretStatus: (ns: string, name: string) => `/apis/bitnami.com/v1alpha1/namespaces/${ns}/sealedsecrets/${encodeURIComponent(name)}/status`,
  events: (ns: string) => `/api/v1/namespaces/${ns}/events`,
  lease: (ns: string, name: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${encodeURIComponent(name)}`,
  leases: (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
  namespace: (name: string) => `/api/v1/namespaces/${encodeURIComponent(name)}`,
};
