/**
 * kubeseal's cluster modes: --fetch-cert, --validate and --re-encrypt reach the
 * controller through the API server's service proxy, as upstream does
 * (pkg/kubeseal: GET the Service for its first port name, then
 * /api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/v1/...).
 * The Kubernetes client is imported here only, lazily: offline sealing never loads it.
 */
import { readFile } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { SealedSecretsError, describeForeignError, objectRef, type SealedSecret } from '../src/index.js';
import type { CliIo } from './io.js';
import { parseRequestTimeout, resolveConfig, type ResolvedConfig } from './kubeconfig.js';
import type { KubesealArgs } from './parser.js';
import { debugLogger } from './debug-log.js';
import { TransportError, send, type TlsSettings } from './transport.js';

export interface ControllerProxy {
  get(path: string, accept: string): Promise<{ status: number; body: Buffer }>;
  post(path: string, body: string): Promise<{ status: number; body: Buffer }>;
}

/** Without --request-timeout, a request gives up after this long (kubectl's default, 0, waits forever). */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** An answer larger than this is refused while it streams in: a Service, a certificate or one SealedSecret is far smaller. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

async function readMaterial(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SealedSecretsError('ERR_UNAVAILABLE', `cannot read the ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'read error')}`, {
      hint: 'check the path in the kubeconfig or the flag',
    });
  }
}

function base64Data(value: string, what: string): Buffer {
  // Never echo the value: it may be key material.
  if (!/^[A-Za-z0-9+/=\s]*$/.test(value)) throw new SealedSecretsError('ERR_UNAVAILABLE', `the kubeconfig's ${what} is not base64`, { hint: 'fix the kubeconfig' });
  return Buffer.from(value, 'base64');
}

interface Connection {
  server: string;
  tls: TlsSettings | undefined;
  headers: OutgoingHttpHeaders;
  proxyUrl: string | undefined;
  timeoutMs: number;
}

/** TLS material and credentials as client-go builds them; credentials only over TLS, as client-go sends them. */
async function buildConnection(io: CliIo, args: KubesealArgs, cfg: ResolvedConfig, log: (level: number, line: string) => void): Promise<Connection> {
  const { cluster, user } = cfg;
  let server = cluster.server!.replace(/\/+$/, '');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(server)) server = `http://${server}`;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    // Not quoted: a malformed address may carry user:password.
    throw new SealedSecretsError('ERR_UNAVAILABLE', 'the API server address (--server, or the kubeconfig cluster\'s server) is not a URL', { hint: 'give --server https://HOST:PORT, or fix the kubeconfig' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new SealedSecretsError('ERR_UNAVAILABLE', `the API server address has the scheme ${url.protocol.replace(/:$/, '')}; kubeseal speaks https and http`);
  const timeoutMs = args['request-timeout'] !== undefined ? parseRequestTimeout(String(args['request-timeout'])) : DEFAULT_REQUEST_TIMEOUT_MS;
  const headers: OutgoingHttpHeaders = {};
  if (user.as) headers['impersonate-user'] = user.as;
  if (user['as-uid']) headers['impersonate-uid'] = user['as-uid'];
  if (user['as-groups']?.length) headers['impersonate-group'] = [...user['as-groups']];
  for (const [k, v] of Object.entries(user['as-user-extra'] ?? {})) headers[`impersonate-extra-${encodeURIComponent(k)}`] = v;
  if ((user['as-groups']?.length || user['as-uid']) && !user.as) {
    throw new SealedSecretsError('ERR_USAGE', 'impersonating a group or a UID needs a user to impersonate too', { hint: 'add --as USER' });
  }
  const conn: Connection = { server, tls: undefined, headers, proxyUrl: cluster['proxy-url'], timeoutMs };
  if (url.protocol !== 'https:') {
    assertHeaderSafe(headers);
    if (user.token || user.tokenFile || user.password || user.exec || user['auth-provider'] || user['client-certificate'] || user['client-certificate-data']) {
      log(4, `not sending credentials to ${url.origin}: it is plain http`);
    }
    return conn;
  }
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  if (insecure && (cluster['certificate-authority'] || cluster['certificate-authority-data'])) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', 'specifying a root certificates file with the insecure flag is not allowed', {
      hint: 'drop --insecure-skip-tls-verify, or the certificate-authority of the kubeconfig cluster',
    });
  }
  const tls: TlsSettings = { rejectUnauthorized: !insecure };
  if (cluster['tls-server-name']) tls.servername = cluster['tls-server-name'];
  if (!insecure) {
    if (cluster['certificate-authority-data']) tls.ca = base64Data(cluster['certificate-authority-data'], 'certificate-authority-data');
    else if (cluster['certificate-authority']) tls.ca = await readMaterial(cluster['certificate-authority'], 'certificate authority file');
  }
  const certData = user['client-certificate-data'];
  const keyData = user['client-key-data'];
  if (certData) tls.cert = base64Data(certData, 'client-certificate-data');
  else if (user['client-certificate']) tls.cert = await readMaterial(user['client-certificate'], 'client certificate file');
  if (keyData) tls.key = base64Data(keyData, 'client-key-data');
  else if (user['client-key']) tls.key = await readMaterial(user['client-key'], 'client key file');
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', tls.cert ? 'a client certificate was given without its key' : 'a client key was given without its certificate', {
      hint: 'pass both --client-certificate and --client-key (or both in the kubeconfig user)',
    });
  }
  let token = user.token;
  if (!token && user.tokenFile) token = (await readMaterial(user.tokenFile, 'token file')).toString('utf8').trim();
  if (token && (user.username || user.password)) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', 'username/password or bearer token may be set, but not both', { hint: 'drop --token or --username/--password (or the kubeconfig user\'s)' });
  }
  if (token) headers['authorization'] = `Bearer ${token}`;
  else if (user.username || user.password) headers['authorization'] = 'Basic ' + Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64');
  else if (user.exec || user['auth-provider']) {
    const applied = await pluginCredentials(cfg);
    if (applied.authorization) headers['authorization'] = applied.authorization;
    if (applied.cert && applied.key) {
      tls.cert = applied.cert;
      tls.key = applied.key;
    }
  }
  conn.tls = tls;
  assertHeaderSafe(headers);
  return conn;
}

/** A value with a line break would end the header (or be refused by Node mid-request): say which header, never the value. */
function assertHeaderSafe(headers: OutgoingHttpHeaders): void {
  for (const [name, v] of Object.entries(headers)) {
    for (const value of Array.isArray(v) ? v : [String(v)]) {
      if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) {
        const what = name === 'authorization' ? 'the token (or username/password)' : `the ${name} value`;
        throw new SealedSecretsError('ERR_UNAVAILABLE', `${what} holds a character an HTTP header cannot carry (a line break or a control character)`, {
          hint: 'check the flag or the kubeconfig for a stray newline',
        });
      }
    }
  }
}

/** Exec credential plugins and auth providers (aws, gke-gcloud, kubelogin, oidc) run through the Kubernetes client, loaded only for them. */
async function pluginCredentials(cfg: ResolvedConfig): Promise<{ authorization?: string; cert?: Buffer; key?: Buffer }> {
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
  const kc = new KubeConfig();
  const u = cfg.user;
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: cfg.cluster.server!, skipTLSVerify: cfg.cluster['insecure-skip-tls-verify'] === true }],
    users: [{ name: 'u', exec: u.exec, authProvider: u['auth-provider'] }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  } as never);
  const opts: { headers: Record<string, string>; cert?: Buffer | string; key?: Buffer | string } = { headers: {} };
  try {
    await (kc as unknown as { applyAuthorizationHeader(o: unknown): Promise<void> }).applyAuthorizationHeader(opts);
  } catch (e) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', `the kubeconfig user's ${u.exec ? 'exec credential plugin' : 'auth provider'} failed: ${describeForeignError(e)}`, {
      hint: 'run the plugin by hand (kubectl get --raw /version shows the same failure), or pass --token',
    });
  }
  const toBuf = (v: Buffer | string | undefined) => (v === undefined ? undefined : Buffer.from(v));
  return { authorization: opts.headers['Authorization'] ?? opts.headers['authorization'], cert: toBuf(opts.cert), key: toBuf(opts.key) };
}

/** One connection per run: --re-encrypt over a tree asks for it once per SealedSecret (an exec plugin then runs once). */
const connections = new WeakMap<KubesealArgs, Promise<ControllerProxy>>();

export function connectToController(args: KubesealArgs, io: CliIo): Promise<ControllerProxy> {
  let c = connections.get(args);
  if (!c) {
    c = openController(args, io);
    connections.set(args, c);
  }
  return c;
}

async function openController(args: KubesealArgs, io: CliIo): Promise<ControllerProxy> {
  const log = debugLogger(io, args);
  const cfg = await resolveConfig(io, args);
  log(4, cfg.source === 'in-cluster' ? 'Using in-cluster configuration' : `Using ${cfg.source === 'flags' ? 'the connection flags' : `kubeconfig context "${cfg.contextName}" (cluster "${cfg.clusterName}", user "${cfg.userName}")`}`);
  const conn = await buildConnection(io, args, cfg, log);
  log(4, `API server ${new URL(conn.server).origin}${conn.timeoutMs ? `, request timeout ${conn.timeoutMs} ms` : ', no request timeout'}`);
  const server = conn.server;
  const ns = args['controller-namespace'];
  const name = args['controller-name'];

  const call = async (method: 'GET' | 'POST', path: string, accept: string, body?: string) => {
    const url = new URL(server + path);
    const headers: OutgoingHttpHeaders = { ...conn.headers, accept, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
    log(7, `Request Headers: ${Object.entries(headers).map(([k, v]) => `${k}: ${k === 'authorization' ? `${String(v).split(' ')[0]} <masked>` : String(v)}`).join(', ')}`);
    try {
      return await send({ url, method, headers, body, tls: conn.tls, timeoutMs: conn.timeoutMs, env: io.env, proxyUrl: conn.proxyUrl, maxBytes: MAX_ANSWER_BYTES, log: (l) => log(6, l) });
    } catch (e) {
      if (e instanceof SealedSecretsError) throw e;
      const why = e instanceof TransportError ? e.message : describeForeignError(e);
      throw new SealedSecretsError('ERR_UNAVAILABLE', `cannot reach the API server ${url.origin}: ${why}`, { hint: 'check the kubeconfig and the network, or use --cert to seal offline' });
    }
  };

  const svc = await call('GET', `/api/v1/namespaces/${ns}/services/${encodeURIComponent(name)}`, 'application/json');
  if (svc.status === 404) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', `the controller Service ${ns}/${name} does not exist`, {
      hint: 'pass --controller-name and --controller-namespace (a Helm install may name it differently), or --cert to seal offline',
    });
  }
  if (svc.status === 401 || svc.status === 403) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', `not allowed to read the controller Service ${ns}/${name} (HTTP ${svc.status})`, {
      hint: 'you need get on services and services/proxy there (the sealed-secrets-service-proxier Role), or use --cert to seal offline',
    });
  }
  if (svc.status !== 200) throw new SealedSecretsError('ERR_UNAVAILABLE', `cannot read the controller Service ${ns}/${name}: HTTP ${svc.status}`);
  const portName: string = (JSON.parse(svc.body.toString('utf8')) as { spec?: { ports?: { name?: string }[] } }).spec?.ports?.[0]?.name ?? '';
  const base = `/api/v1/namespaces/${ns}/services/${encodeURIComponent(`http:${name}:${portName}`)}/proxy`;
  return {
    get: (path, accept) => call('GET', base + path, accept),
    // The controller rate-limits verify and rotate: wait as it asks (Retry-After), a bounded number of times.
    post: async (path, body) => {
      for (let attempt = 0; ; attempt++) {
        const r = await call('POST', base + path, 'application/json', body);
        if (r.status !== 429 || attempt >= 60) return r;
        await new Promise((res) => setTimeout(res, Math.min(5000, 500 * (attempt + 1))));
      }
    },
  };
}

function proxyFailure(what: string, r: { status: number; body: Buffer }, args: KubesealArgs): SealedSecretsError {
  const text = r.body.toString('utf8').slice(0, 200).trim();
  return new SealedSecretsError('ERR_UNAVAILABLE', `${what} through the controller ${args['controller-namespace']}/${args['controller-name']} failed: HTTP ${r.status}${text ? ` ${text}` : ''}`, {
    hint: r.status === 503 ? 'the controller has no ready endpoint: check that it runs' : 'check the controller logs',
  });
}

export async function fetchCertificateFromCluster(args: KubesealArgs, io: CliIo): Promise<string> {
  const proxy = await connectToController(args, io);
  const r = await proxy.get('/v1/cert.pem', 'application/x-pem-file, */*');
  if (r.status !== 200) throw proxyFailure('fetching the certificate', r, args);
  return r.body.toString('utf8');
}

/** Verifies each SealedSecret; returns the refs that cannot be unsealed (all are checked: upstream #474). */
export async function validateOnCluster(args: KubesealArgs, io: CliIo, objects: SealedSecret[]): Promise<string[]> {
  const proxy = await connectToController(args, io);
  const bad: string[] = [];
  for (const ss of objects) {
    const r = await proxy.post('/v1/verify', JSON.stringify(ss));
    if (r.status === 409) bad.push(objectRef(ss.metadata));
    else if (r.status !== 200) throw proxyFailure(`validating SealedSecret ${objectRef(ss.metadata)}`, r, args);
  }
  return bad;
}

export async function reencryptOnCluster(args: KubesealArgs, io: CliIo, objects: SealedSecret[]): Promise<SealedSecret[]> {
  const proxy = await connectToController(args, io);
  const out: SealedSecret[] = [];
  for (const ss of objects) {
    const r = await proxy.post('/v1/rotate', JSON.stringify(ss));
    if (r.status === 409) {
      throw new SealedSecretsError('ERR_DECRYPT', `SealedSecret ${objectRef(ss.metadata)} cannot be re-encrypted: the controller cannot unseal it`, {
        hint: r.body.toString('utf8').trim().slice(0, 300),
      });
    }
    if (r.status !== 200) throw proxyFailure(`re-encrypting SealedSecret ${objectRef(ss.metadata)}`, r, args);
    const res = JSON.parse(r.body.toString('utf8')) as SealedSecret;
    res.apiVersion ??= 'bitnami.com/v1alpha1';
    res.kind ??= 'SealedSecret';
    if (res.metadata) {
      delete res.metadata.creationTimestamp;
      delete res.metadata.deletionTimestamp;
      delete res.metadata.generation;
    }
    out.push(res);
  }
  return out;
}
