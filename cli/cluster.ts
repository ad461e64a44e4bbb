/**
 * kubeseal's cluster modes: --fetch-cert, --validate and --re-encrypt reach the
 * controller through the API server's service proxy, as upstream does
 * (pkg/kubeseal: GET the Service for its first port name, then
 * /api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/v1/...).
 * The Kubernetes client is imported here only, lazily: offline sealing never loads it.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { SealedSecretsError, describeForeignError, objectRef, type SealedSecret } from '../src/index.js';
import type { KubesealArgs } from './parser.js';

export interface ControllerProxy {
  get(path: string, accept: string): Promise<{ status: number; body: Buffer }>;
  post(path: string, body: string): Promise<{ status: number; body: Buffer }>;
}

export async function connectToController(args: KubesealArgs): Promise<ControllerProxy> {
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
  const kc = new KubeConfig();
  try {
    if (args.kubeconfig) kc.loadFromFile(args.kubeconfig);
    else kc.loadFromDefault();
    if (args.context) kc.setCurrentContext(args.context);
  } catch (e) {
    throw new SealedSecretsError('ERR_UNAVAILABLE', `cannot load the kubeconfig: ${describeForeignError(e)}`, { hint: 'pass --kubeconfig, or --cert to seal offline' });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SealedSecretsError('ERR_UNAVAILABLE', 'the kubeconfig has no current cluster', { hint: 'pass --kubeconfig and --context, or --cert to seal offline' });
  const server = cluster.server.replace(/\/+$/, '');
  const ns = args['controller-namespace'];
  const name = args['controller-name'];

  const call = async (method: 'GET' | 'POST', path: string, accept: string, body?: string) => {
    const url = new URL(server + path);
    const opts: RequestOptions = {
      method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      headers: { accept, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) },
    };
    try {
      await kc.applyToHTTPSOptions(opts as never);
    } catch (e) {
      throw new SealedSecretsError('ERR_UNAVAILABLE', `cannot connect to the API server ${url.origin}: ${describeForeignError(e)}`, {
        hint: 'check the kubeconfig (--kubeconfig, --context), or pass --cert to seal offline',
      });
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const r = send(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      r.setTimeout(30_000, () => r.destroy(new Error('timed out')));
      r.on('error', (e) =>
        reject(new SealedSecretsError('ERR_UNAVAILABLE', `cannot reach the API server ${url.origin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { hint: 'check the kubeconfig and the network, or use --cert to seal offline' })),
      );
      r.end(body);
    });
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

export async function fetchCertificateFromCluster(args: KubesealArgs): Promise<string> {
  const proxy = await connectToController(args);
  const r = await proxy.get('/v1/cert.pem', 'application/x-pem-file, */*');
  if (r.status !== 200) throw proxyFailure('fetching the certificate', r, args);
  return r.body.toString('utf8');
}

/** Verifies each SealedSecret; returns the refs that cannot be unsealed (all are checked: upstream #474). */
export async function validateOnCluster(args: KubesealArgs, objects: SealedSecret[]): Promise<string[]> {
  const proxy = await connectToController(args);
  const bad: string[] = [];
  for (const ss of objects) {
    const r = await proxy.post('/v1/verify', JSON.stringify(ss));
    if (r.status === 409) bad.push(objectRef(ss.metadata));
    else if (r.status !== 200) throw proxyFailure(`validating SealedSecret ${objectRef(ss.metadata)}`, r, args);
  }
  return bad;
}

export async function reencryptOnCluster(args: KubesealArgs, objects: SealedSecret[]): Promise<SealedSecret[]> {
  const proxy = await connectToController(args);
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
