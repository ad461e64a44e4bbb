/**
 * List-then-watch with a local cache, restarting itself: the watch is re-opened
 * when the server closes it, re-listed on 410 Gone, and retried with capped
 * exponential backoff when the API server is unreachable (client-node's
 * ListWatch does not restart after an error; we own restarts).
 * Handlers only receive objects; what to do with them is the caller's business.
 */
import { ApiError, type KubeApi, type WatchEvent } from './client.js';

export interface KubeObject {
  metadata: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface InformerHandlers<T> {
  add?(obj: T, initial: boolean): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Keep only what the controller needs, to bound memory. */
  transform?: (obj: KubeObject) => KubeObject;
  onError?: (e: unknown, attempt: number) => void;
  /**
   * A handler threw. The informer goes on with the next handler and event: a throw must not
   * break the watch (it would re-list, meet the same object and throw again, forever).
   */
  onHandlerError?: (e: unknown, event: 'add' | 'update' | 'delete', key: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export const keyOf = (o: { metadata: { name?: string; namespace?: string } }): string =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata.name ?? '');

export class Informer<T extends KubeObject> {
  readonly cache = new Map<string, T>();
  #handlers: InformerHandlers<T>[] = [];
  #abort = new AbortController();
  #synced!: () => void;
  readonly synced: Promise<void> = new Promise((r) => (this.#synced = r));
  #running = false;
  /** Re-lists done (initial included), for tests and metrics. */
  lists = 0;

  constructor(
    private readonly client: KubeApi,
    private readonly options: InformerOptions,
  ) {}

  on(h: InformerHandlers<T>): void {
    this.#handlers.push(h);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#running = false;
    this.#abort.abort();
  }

  #add(obj: T, initial: boolean): void {
    for (const h of this.#handlers) this.#call('add', obj, () => h.add?.(obj, initial));
  }

  #update(old: T, obj: T): void {
    for (const h of this.#handlers) this.#call('update', obj, () => h.update?.(old, obj));
  }

  #delete(obj: T): void {
    for (const h of this.#handlers) this.#call('delete', obj, () => h.delete?.(obj));
  }

  #call(event: 'add' | 'update' | 'delete', obj: T, f: () => void): void {
    try {
      f();
    } catch (e) {
      try {
        this.options.onHandlerError?.(e, event, keyOf(obj));
      } catch {
        // Reporting failed too: nothing more to do here.
      }
    }
  }

  #prepare(o: KubeObject): T {
    return (this.options.transform ? this.options.transform(o) : o) as T;
  }

  async #list(): Promise<string> {
    const items = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.request<{ metadata: { resourceVersion: string; continue?: string }; items: KubeObject[] }>({
        method: 'GET',
        path: this.options.path,
        query: { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector, limit: 500, continue: cont },
        timeoutMs: 120_000,
      });
      for (const it of page.items) items.set(keyOf(it), this.#prepare(it));
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    const initial = this.lists === 0;
    this.lists++;
    // Reconcile the cache with the fresh list: adds, updates and deletes missed while away.
    for (const [k, old] of this.cache) {
      if (!items.has(k)) {
        this.cache.delete(k);
        this.#delete(old);
      }
    }
    for (const [k, obj] of items) {
      const old = this.cache.get(k);
      this.cache.set(k, obj);
      if (!old) this.#add(obj, initial);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#update(old, obj);
    }
    return rv;
  }

  #apply(e: WatchEvent<KubeObject>): string | undefined {
    if (e.type === 'ERROR') {
      const st = e.object as unknown as { code?: number; message?: string };
      throw new ApiError(st.code ?? 500, 'WatchError', st.message ?? 'watch error');
    }
    const rv = e.object.metadata?.resourceVersion;
    if (e.type === 'BOOKMARK') return rv;
    const obj = this.#prepare(e.object);
    const k = keyOf(obj);
    const old = this.cache.get(k);
    if (e.type === 'DELETED') {
      this.cache.delete(k);
      this.#delete(old ?? obj);
    } else {
      this.cache.set(k, obj);
      if (old) this.#update(old, obj);
      else this.#add(obj, false);
    }
    return rv;
  }

  async #loop(): Promise<void> {
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let rv: string | undefined;
    let attempt = 0;
    while (this.#running) {
      try {
        if (rv === undefined) {
          rv = await this.#list();
          this.#synced();
        }
        const from: string = rv;
        await this.client.watch<KubeObject>(
          this.options.path,
          { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector, resourceVersion: from, timeoutSeconds: 300 + Math.floor(Math.random() * 60) },
          (e) => {
            const next = this.#apply(e);
            if (next) rv = next;
          },
          this.#abort.signal,
        );
        attempt = 0;
      } catch (e) {
        if (!this.#running) return;
        if ((e instanceof ApiError && e.gone) || /too old resource version/i.test((e as Error).message ?? '')) {
          rv = undefined;
          continue;
        }
        attempt++;
        // Watches that keep failing from one resourceVersion are re-listed from scratch.
        if (attempt % 3 === 0) rv = undefined;
        this.options.onError?.(e, attempt);
        // The watch resumes from the last resourceVersion seen; a 410 above forces a re-list.
        await sleep(Math.min(30_000, 200 * 2 ** Math.min(attempt, 8)) * (0.5 + Math.random() / 2));
      }
    }
  }
}
