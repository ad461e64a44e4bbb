/**
 * A small REST client for the Kubernetes API. @kubernetes/client-node provides
 * the configuration and authentication (kubeconfig, in-cluster service account,
 * exec plugins); requests go through node:https so that every call is rate
 * limited, has a timeout, sends the exact JSON we built (the typed serializer
 * drops keys such as x-kubernetes-preserve-unknown-fields), supports every patch
 * type and the status subresource, and watches stream line by line.
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { SealedSecretsError } from '../../src/index.js';
import { TokenBucket } from './rate-limiter.js';
import type { KubeConfig } from '@kubernetes/client-node';

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

export class KubeClient implements KubeApi {
  readonly server: string;
  readonly #kc: KubeConfig;
  readonly #limiter: TokenBucket;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #userAgent: string;
  /** Requests made, by verb, for metrics and tests. */
  readonly counts = new Map<string, number>();

  constructor(kc: KubeConfig, options: KubeClientOptions) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new SealedSecretsError('ERR_INVALID_INPUT', 'the kubeconfig has no current cluster', { hint: 'check --kubeconfig and --context' });
    this.server = cluster.server.replace(/\/+$/, '');
    this.#kc = kc;
    this.#limiter = new TokenBucket(options.qps, options.burst);
    this.#agent = this.server.startsWith('https:') ? new HttpsAgent({ keepAlive: true, maxSockets: 32 }) : new HttpAgent({ keepAlive: true, maxSockets: 32 });
    this.#userAgent = options.userAgent ?? 'sealed-secrets-ts';
  }

  get throttled(): number {
    return this.#limiter.waiting;
  }

  async #options(req: KubeRequest, url: URL, extraHeaders: Record<string, string>): Promise<RequestOptions> {
    const opts: RequestOptions = {
      method: req.method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      headers: { accept: 'application/json', 'user-agent': this.#userAgent, ...extraHeaders },
      agent: this.#agent,
    };
    await this.#kc.applyToHTTPSOptions(opts as never);
    return opts;
  }

  #url(req: KubeRequest): URL {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /** One request; resolves with the decoded JSON body (or text), rejects with ApiError. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    if (!req.unthrottled) await this.#limiter.take();
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
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
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
      r.on('error', (e) => reject(new ApiError(0, 'NetworkError', `${req.method} ${req.path}: ${e.message}`)));
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
          res.on('end', () => reject(new ApiError(res.statusCode ?? 0, 'WatchFailed', `watch ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`)));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (e) {
              failure = e;
              r.destroy();
              return;
            }
          }
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
    this.#agent.destroy();
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
