/**
 * Just enough of the Kubernetes API for the Kubernetes key store, in memory: Secrets of one
 * namespace, listed with a label selector (key, key=value, key in (a,b)), read by name,
 * created with generateName (creationTimestamp from an injected clock), merge-patched.
 * The real API server is exercised by test/e2e/keys-cli.test.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Secret } from '../../src/index.js';
import { ApiError, type KubeApi, type KubeRequest } from '../../controller/kube/client.js';

export class FakeKubeSecrets implements KubeApi {
  readonly secrets = new Map<string, Secret>();
  readonly requests: string[] = [];
  #rv = 1;

  constructor(
    readonly namespace: string,
    private readonly now: () => number,
  ) {}

  /** Stores a Secret as kubectl apply would (e.g. a restored backup). */
  put(secret: Secret, createdAt = this.now()): Secret {
    const name = secret.metadata.name ?? `${secret.metadata.generateName ?? 'secret-'}${randomBytes(3).toString('hex')}`;
    const s: Secret = structuredClone({ ...secret, metadata: { ...secret.metadata, name, namespace: this.namespace, creationTimestamp: new Date(createdAt).toISOString(), resourceVersion: String(this.#rv++) } });
    delete s.metadata.generateName;
    this.secrets.set(name, s);
    return structuredClone(s);
  }

  #matches(s: Secret, selector: string | undefined): boolean {
    if (!selector) return true;
    const labels = s.metadata.labels ?? {};
    return selector.split(/,(?![^(]*\))/).every((term) => {
      const inSet = /^\s*([^\s]+)\s+in\s+\(([^)]*)\)\s*$/.exec(term);
      if (inSet) return inSet[2]!.split(',').map((v) => v.trim()).includes(labels[inSet[1]!] ?? '\0');
      const eq = term.indexOf('=');
      return eq < 0 ? term in labels : labels[term.slice(0, eq)] === term.slice(eq + 1);
    });
  }

  async request<T = unknown>(req: KubeRequest): Promise<T> {
    this.requests.push(`${req.method} ${req.path}`);
    const base = `/api/v1/namespaces/${this.namespace}/secrets`;
    if (req.path === base && req.method === 'GET') {
      const sel = req.query?.['labelSelector'];
      return { items: [...this.secrets.values()].filter((s) => this.#matches(s, sel === undefined ? undefined : String(sel))).map((s) => structuredClone(s)) } as T;
    }
    if (req.path === base && req.method === 'POST') return this.put(req.body as Secret) as T;
    if (req.path.startsWith(`${base}/`)) {
      const name = decodeURIComponent(req.path.slice(base.length + 1));
      const s = this.secrets.get(name);
      if (!s) throw new ApiError(404, 'NotFound', `secrets "${name}" not found`);
      if (req.method === 'GET') return structuredClone(s) as T;
      if (req.method === 'PATCH') {
        const patch = req.body as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };
        s.metadata.labels = { ...(s.metadata.labels ?? {}), ...(patch.metadata?.labels ?? {}) };
        s.metadata.annotations = { ...(s.metadata.annotations ?? {}), ...(patch.metadata?.annotations ?? {}) };
        s.metadata.resourceVersion = String(this.#rv++);
        return structuredClone(s) as T;
      }
    }
    throw new ApiError(405, 'MethodNotAllowed', `${req.method} ${req.path} is not supported by the fake`);
  }

  watch(): Promise<void> {
    return Promise.reject(new Error('watch is not supported by the fake'));
  }
}
