/**
 * A Vault test server for exactly the endpoints the Vault key store uses, written
 * from Vault's documented HTTP API (developer.hashicorp.com/vault/api-docs):
 * KV version 2 data and metadata (read, write with check-and-set, list, delete),
 * token lookup-self and renew-self, Kubernetes auth login, sys/health, with
 * Vault's response shapes, error bodies ({"errors": [...]}) and status codes
 * (400 check-and-set mismatch, 403 permission denied, 404, 503 sealed).
 * No Vault server can be installed here; tests drive this one through node-vault.
 *
 * Fault controls: down()/up() (connections refused, then accepted again on the
 * same port), seal()/unseal(), slow(ms).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';

interface Version {
  data: Record<string, unknown> | null;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

interface Token {
  policies: string[];
  /** Path prefixes (after /v1/) this token may use; ['*'] for all. */
  paths: string[];
  renewable: boolean;
  ttl: number;
  created: number;
}

export interface VaultTestServerOptions {
  mount?: string;
  namespace?: string;
  now?: () => number;
  /** Serve https with this key and certificate (PEM) instead of plain http. */
  tls?: { key: string; cert: string };
}

export class VaultTestServer {
  readonly mount: string;
  readonly #kv = new Map<string, Version[]>();
  readonly #tokens = new Map<string, Token>();
  readonly #k8sRoles = new Map<string, { jwt: string; paths: string[] }>();
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #port = 0;
  #sealed = false;
  #delayMs = 0;
  readonly #namespace: string | undefined;
  readonly #now: () => number;
  readonly #tls: { key: string; cert: string } | undefined;
  /** Requests seen, by "METHOD path", for assertions. */
  readonly requests: string[] = [];

  constructor(options: VaultTestServerOptions = {}) {
    this.mount = options.mount ?? 'secret';
    this.#namespace = options.namespace;
    this.#now = options.now ?? Date.now;
    this.#tls = options.tls;
  }

  get address(): string {
    return `${this.#tls ? 'https' : 'http'}://127.0.0.1:${this.#port}`;
  }

  addToken(token: string, paths: string[] = ['*'], opts: { renewable?: boolean; ttl?: number } = {}): void {
    this.#tokens.set(token, { policies: ['sealed-secrets'], paths, renewable: opts.renewable ?? true, ttl: opts.ttl ?? 3600, created: this.#now() });
  }

  addKubernetesRole(role: string, jwt: string, paths: string[] = ['*']): void {
    this.#k8sRoles.set(role, { jwt, paths });
  }

  async start(): Promise<void> {
    await this.#listen(0);
  }

  async #listen(port: number): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const server: Server = this.#tls ? createHttpsServer({ key: this.#tls.key, cert: this.#tls.cert }, handler) : createServer(handler);
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Refuses connections until up(). */
  async down(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    for (const sock of this.#sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async up(): Promise<void> {
    if (!this.#server) await this.#listen(this.#port);
  }

  seal(): void {
    this.#sealed = true;
  }

  unseal(): void {
    this.#sealed = false;
  }

  slow(ms: number): void {
    this.#delayMs = ms;
  }

  async stop(): Promise<void> {
    await this.down();
  }

  /** Test access to stored entries (latest live version), by KV path under the mount. */
  entry(path: string): Record<string, unknown> | undefined {
    const v = this.#kv.get(path);
    const last = v?.[v.length - 1];
    return last && !last.deletion_time && !last.destroyed ? (last.data ?? undefined) : undefined;
  }

  /** Test access: writes a new version of an entry, as another client would (no check-and-set). */
  put(path: string, data: Record<string, unknown>): void {
    const v: Version = { data, created_time: new Date(this.#now()).toISOString(), deletion_time: '', destroyed: false };
    this.#kv.set(path, [...(this.#kv.get(path) ?? []), v]);
  }

  /** Test access: deletes an entry and all its versions (metadata delete). */
  remove(path: string): void {
    this.#kv.delete(path);
  }

  /** Test access: the paths of live entries under a prefix. */
  paths(prefix = ''): string[] {
    return [...this.#kv.keys()].filter((k) => k.startsWith(prefix) && this.entry(k)).sort();
  }

  wipe(): void {
    this.#kv.clear();
  }

  #send(res: ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(text);
  }

  #errors(res: ServerResponse, status: number, ...errors: string[]): void {
    this.#send(res, status, { errors });
  }

  #envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, ...extra };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault');
    this.requests.push(`${req.method} ${url.pathname}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.#delayMs) await new Promise((r) => setTimeout(r, this.#delayMs));
    let body: Record<string, unknown> = {};
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return this.#errors(res, 400, 'failed to parse JSON input');
      }
    }
    if (!url.pathname.startsWith('/v1/')) return this.#errors(res, 404);
    const path = url.pathname.slice(4);

    if (path === 'sys/health') {
      const h = { initialized: true, sealed: this.#sealed, standby: false, performance_standby: false, replication_performance_mode: 'disabled', replication_dr_mode: 'disabled', server_time_utc: Math.floor(this.#now() / 1000), version: '1.15.0-test', cluster_name: 'vault-test', cluster_id: 'test' };
      return this.#send(res, this.#sealed ? 503 : 200, h);
    }
    if (this.#sealed) return this.#errors(res, 503, 'Vault is sealed');
    if (this.#namespace && req.headers['x-vault-namespace'] !== this.#namespace) return this.#errors(res, 403, 'permission denied');

    if (req.method === 'POST' && path === 'auth/kubernetes/login') {
      const role = this.#k8sRoles.get(String(body['role'] ?? ''));
      if (!role) return this.#errors(res, 400, `invalid role name "${String(body['role'] ?? '')}"`);
      if (body['jwt'] !== role.jwt) return this.#errors(res, 403, 'permission denied');
      const token = `hvs.${randomUUID().replace(/-/g, '')}`;
      this.#tokens.set(token, { policies: ['sealed-secrets'], paths: role.paths, renewable: true, ttl: 3600, created: this.#now() });
      return this.#send(res, 200, this.#envelope(null, { auth: { client_token: token, accessor: randomUUID(), policies: ['default', 'sealed-secrets'], token_policies: ['default', 'sealed-secrets'], metadata: { role: body['role'] }, lease_duration: 3600, renewable: true } }));
    }

    const tokenId = String(req.headers['x-vault-token'] ?? '');
    const token = this.#tokens.get(tokenId);
    if (!token) return this.#errors(res, 403, 'permission denied');

    if (path === 'auth/token/lookup-self' && req.method === 'GET') {
      return this.#send(res, 200, this.#envelope({ id: tokenId, policies: token.policies, renewable: token.renewable, ttl: token.ttl, path: 'auth/token/create', display_name: 'token', num_uses: 0, orphan: false, creation_time: Math.floor(token.created / 1000), creation_ttl: token.ttl, explicit_max_ttl: 0, expire_time: null, meta: null }));
    }
    if (path === 'auth/token/renew-self' && req.method === 'POST') {
      if (!token.renewable) return this.#errors(res, 400, 'lease is not renewable');
      token.ttl = Number(body['increment'] ?? 3600) || 3600;
      return this.#send(res, 200, this.#envelope(null, { auth: { client_token: tokenId, accessor: 'acc', policies: token.policies, token_policies: token.policies, metadata: null, lease_duration: token.ttl, renewable: true } }));
    }

    if (!token.paths.some((p) => p === '*' || path.startsWith(p))) return this.#errors(res, 403, 'permission denied');
    const dataPrefix = `${this.mount}/data/`;
    const metaPrefix = `${this.mount}/metadata/`;
    if (path.startsWith(dataPrefix)) {
      const key = path.slice(dataPrefix.length);
      const versions = this.#kv.get(key) ?? [];
      if (req.method === 'GET') {
        const want = url.searchParams.get('version');
        const v = want ? versions[Number(want) - 1] : versions[versions.length - 1];
        if (!v || v.deletion_time || v.destroyed) return this.#errors(res, 404);
        return this.#send(res, 200, this.#envelope({ data: v.data, metadata: { created_time: v.created_time, custom_metadata: null, deletion_time: v.deletion_time, destroyed: v.destroyed, version: want ? Number(want) : versions.length } }));
      }
      if (req.method === 'POST' || req.method === 'PUT') {
        const opts = (body['options'] ?? {}) as { cas?: number };
        if (opts.cas !== undefined && opts.cas !== versions.length) {
          return this.#errors(res, 400, 'check-and-set parameter did not match the current version');
        }
        if (!body['data'] || typeof body['data'] !== 'object') return this.#errors(res, 400, 'no data provided');
        const v: Version = { data: body['data'] as Record<string, unknown>, created_time: new Date(this.#now()).toISOString(), deletion_time: '', destroyed: false };
        this.#kv.set(key, [...versions, v]);
        return this.#send(res, 200, this.#envelope({ created_time: v.created_time, custom_metadata: null, deletion_time: '', destroyed: false, version: versions.length + 1 }));
      }
      return this.#errors(res, 405);
    }
    if (path.startsWith(metaPrefix) || path === `${this.mount}/metadata`) {
      const key = path.slice(metaPrefix.length);
      const list = url.searchParams.get('list');
      if ((req.method === 'GET' && (list === 'true' || list === '1')) || req.method === 'LIST') {
        const prefix = key && !key.endsWith('/') ? `${key}/` : key;
        const names = new Set<string>();
        for (const [k, vs] of this.#kv) {
          if (!k.startsWith(prefix) || vs.every((v) => v.deletion_time || v.destroyed)) continue;
          const rest = k.slice(prefix.length);
          const slash = rest.indexOf('/');
          names.add(slash >= 0 ? rest.slice(0, slash + 1) : rest);
        }
        if (names.size === 0) return this.#errors(res, 404);
        return this.#send(res, 200, this.#envelope({ keys: [...names].sort() }));
      }
      if (req.method === 'GET') {
        const vs = this.#kv.get(key);
        if (!vs) return this.#errors(res, 404);
        return this.#send(res, 200, this.#envelope({ current_version: vs.length, oldest_version: 1, versions: Object.fromEntries(vs.map((v, i) => [String(i + 1), { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed }])) }));
      }
      if (req.method === 'DELETE') {
        this.#kv.delete(key);
        return this.#send(res, 204);
      }
      return this.#errors(res, 405);
    }
    return this.#errors(res, 404);
  }
}
