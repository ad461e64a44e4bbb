/**
 * An in-memory stand-in for the Kubernetes API, for the in-process bulk-sync
 * benchmark: it implements our narrow KubeApi interface (request and watch) for
 * exactly the calls the controller makes, so the benchmark measures the real
 * reconcile path, crypto and scheduling without an API server's latency.
 */
import type { KubeApi, KubeRequest, WatchEvent } from '../controller/kube/client.js';
import { ApiError } from '../controller/kube/client.js';

/**
 * Write responses: the controller reads only their metadata, so a shallow copy stands in
 * for the response body (a watch event and a stored object are each one deep copy, like
 * one JSON decode on the wire).
 */
const shallow = (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata } });

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; generation?: number; [k: string]: unknown }; [k: string]: unknown };

export class MemoryApi implements KubeApi {
  readonly #stores = new Map<string, Map<string, Obj>>([
    ['secrets', new Map()],
    ['sealedsecrets', new Map()],
  ]);
  readonly #watchers = new Map<string, Set<(e: WatchEvent<Obj>) => void>>();
  #rv = 1;
  #uid = 0;
  readonly counts = new Map<string, number>();
  events = 0;

  #kind(path: string): { kind: string; ns?: string; name?: string; status: boolean } {
    const m = /^\/(?:api\/v1|apis\/bitnami\.com\/v1alpha1)(?:\/namespaces\/([^/]+))?\/(secrets|sealedsecrets|events)(?:\/([^/]+))?(\/status)?$/.exec(path);
    if (!m) throw new ApiError(404, 'NotFound', `no route ${path}`);
    return { kind: m[2]!, ns: m[1], name: m[3] ? decodeURIComponent(m[3]) : undefined, status: Boolean(m[4]) };
  }

  #emit(kind: string, type: WatchEvent<Obj>['type'], obj: Obj): void {
    for (const w of this.#watchers.get(kind) ?? []) w({ type, object: structuredClone(obj) });
  }

  /** Adds objects directly (the benchmark's "kubectl apply"). */
  put(kind: 'secrets' | 'sealedsecrets', obj: Obj): Obj {
    const store = this.#stores.get(kind)!;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const prev = store.get(key);
    const next: Obj = structuredClone(obj);
    next.metadata.resourceVersion = String(++this.#rv);
    next.metadata.uid = prev?.metadata.uid ?? `uid-${++this.#uid}`;
    next.metadata.generation = (prev?.metadata.generation ?? 0) + 1;
    store.set(key, next);
    this.#emit(kind, prev ? 'MODIFIED' : 'ADDED', next);
    return next;
  }

  get(kind: 'secrets' | 'sealedsecrets', key: string): Obj | undefined {
    return this.#stores.get(kind)!.get(key);
  }

  size(kind: 'secrets' | 'sealedsecrets'): number {
    return this.#stores.get(kind)!.size;
  }

  async request<T = unknown>(req: KubeRequest): Promise<T> {
    this.counts.set(req.method, (this.counts.get(req.method) ?? 0) + 1);
    const r = this.#kind(req.path);
    if (r.kind === 'events') {
      this.events++;
      return {} as T;
    }
    const store = this.#stores.get(r.kind)!;
    const key = `${r.ns}/${r.name}`;
    switch (req.method) {
      case 'GET': {
        if (!r.name) {
          const items = [...store.values()].filter((o) => !r.ns || o.metadata.namespace === r.ns);
          return structuredClone({ metadata: { resourceVersion: String(this.#rv) }, items }) as T;
        }
        const o = store.get(key);
        if (!o) throw new ApiError(404, 'NotFound', `${key} not found`);
        return structuredClone(o) as T;
      }
      case 'POST': {
        const body = req.body as Obj;
        const k = `${r.ns}/${body.metadata.name}`;
        if (store.has(k)) throw new ApiError(409, 'AlreadyExists', `${k} already exists`);
        return shallow(this.put(r.kind as 'secrets', { ...body, metadata: { ...body.metadata, namespace: r.ns } })) as T;
      }
      case 'PUT': {
        if (!r.status) return shallow(this.put(r.kind as 'secrets', req.body as Obj)) as T;
        // The status subresource, as the API server's: only status is taken from the body, and
        // a resourceVersion that is not the stored one is a conflict.
        const o = store.get(key);
        if (!o) throw new ApiError(404, 'NotFound', `${key} not found`);
        const body = req.body as Obj;
        if (body.metadata.resourceVersion !== o.metadata.resourceVersion) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${key}: the object has been modified; please apply your changes to the latest version and try again`);
        const next = { ...o, status: body['status'] } as Obj;
        next.metadata = { ...o.metadata, resourceVersion: String(++this.#rv) };
        store.set(key, next);
        this.#emit(r.kind, 'MODIFIED', next);
        return shallow(next) as T;
      }
      case 'PATCH': {
        const o = store.get(key);
        if (!o) throw new ApiError(404, 'NotFound', `${key} not found`);
        const next = { ...o, ...(r.status ? { status: (req.body as { status: unknown }).status } : (req.body as object)) } as Obj;
        next.metadata = { ...o.metadata, resourceVersion: String(++this.#rv) };
        store.set(key, next);
        this.#emit(r.kind, 'MODIFIED', next);
        return shallow(next) as T;
      }
      case 'DELETE': {
        const o = store.get(key);
        if (!o) throw new ApiError(404, 'NotFound', `${key} not found`);
        store.delete(key);
        this.#emit(r.kind, 'DELETED', o);
        return {} as T;
      }
    }
  }

  async watch<T>(path: string, _q: Record<string, unknown>, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const r = this.#kind(path);
    const set = this.#watchers.get(r.kind) ?? new Set();
    this.#watchers.set(r.kind, set);
    const f = onEvent as unknown as (e: WatchEvent<Obj>) => void;
    set.add(f);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    set.delete(f);
  }
}
