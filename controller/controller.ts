/**
 * The control loop: informers on SealedSecrets and Secrets whose handlers only
 * enqueue keys, a prioritized work queue, and a bounded number of reconciles in
 * flight, so the unseal pool never holds more than a few tasks and a new
 * SealedSecret is picked up ahead of any resync backlog.
 */
import { ANNOTATION_MANAGED, ANNOTATION_PATCH, KIND, isSealedSecretsError, type SealedSecret, type Secret } from '../src/index.js';
import { ApiError, paths, type KubeApi } from './kube/client.js';
import { Informer, keyOf, type KubeObject } from './kube/informer.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { WorkQueue, type Priority } from './queue.js';
import { ANNOTATION_CONTENT_MAC, ANNOTATION_OWNER, Reconciler, scopeAnnotations, sourceHash, type Outcome } from './reconciler.js';

export interface ControllerOptions {
  /** Namespaces to watch; undefined for all. */
  namespaces: string[] | undefined;
  labelSelector?: string;
  skipRecreate: boolean;
  maxUnsealRetries: number;
  /** Reconciles in flight at once. */
  concurrency: number;
}

/** Keep only what reconciling needs: Secrets not ours are kept as metadata only, to bound memory. */
function trimSecret(o: KubeObject): KubeObject {
  const s = o as unknown as Secret;
  const meta = { ...s.metadata };
  delete meta.managedFields;
  const ours =
    (meta.ownerReferences ?? []).some((r) => r.kind === KIND && r.controller) ||
    meta.annotations?.[ANNOTATION_MANAGED] === 'true' ||
    meta.annotations?.[ANNOTATION_PATCH] === 'true' ||
    // Written by this controller without an ownerReference (skip-set-owner-references): the reconciler verifies the MAC.
    meta.annotations?.[ANNOTATION_OWNER] !== undefined ||
    meta.annotations?.[ANNOTATION_CONTENT_MAC] !== undefined;
  return (ours ? { ...s, metadata: meta } : { metadata: meta, type: s.type }) as unknown as KubeObject;
}

function trimSealedSecret(o: KubeObject): KubeObject {
  const meta = { ...(o.metadata as Record<string, unknown>) };
  delete meta['managedFields'];
  const ann = { ...((meta['annotations'] as Record<string, string> | undefined) ?? {}) };
  delete ann['kubectl.kubernetes.io/last-applied-configuration'];
  meta['annotations'] = ann;
  return { ...o, metadata: meta } as KubeObject;
}

/**
 * Whether two versions of a SealedSecret build the same Secret. With the same generation the
 * spec is the same (the API server bumps generation on every spec change of a resource with a
 * status subresource, and on every change of one without), so our own status writes, the most
 * frequent update, cost a comparison of annotations instead of hashing the ciphertexts.
 */
function sameSource(a: SealedSecret, b: SealedSecret): boolean {
  if (a.metadata.generation === undefined || b.metadata.generation === undefined) return sourceHash(a) === sourceHash(b);
  const sa = scopeAnnotations(a);
  const sb = scopeAnnotations(b);
  return a.metadata.uid === b.metadata.uid && Object.keys(sa).length === Object.keys(sb).length && Object.keys(sa).every((k) => sa[k] === sb[k]);
}

export class Controller {
  readonly queue = new WorkQueue();
  readonly sealedSecrets: Informer<KubeObject>[] = [];
  readonly secrets: Informer<KubeObject>[] = [];
  #running = false;
  #inFlight = 0;
  readonly #idle: (() => void)[] = [];
  /** Outcomes by kind, for metrics, tests and benchmarks. */
  readonly outcomes = new Map<Outcome, number>();

  constructor(
    private readonly client: KubeApi,
    private readonly reconciler: Reconciler,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly o: ControllerOptions,
  ) {
    const nss = o.namespaces ?? [undefined];
    // By type only for unexpected errors: their text may quote the object being handled.
    const onHandlerError = (what: string) => (e: unknown, event: string, key: string) =>
      log.error(`${what} ${event} handler failed`, { key, error: isSealedSecretsError(e) ? e.message : ((e as Error)?.name ?? typeof e) });
    for (const ns of nss) {
      this.sealedSecrets.push(
        new Informer(client, {
          path: paths.sealedSecrets(ns),
          labelSelector: o.labelSelector,
          transform: trimSealedSecret,
          onHandlerError: onHandlerError('SealedSecret'),
          onError: (e, n) => log.warn('SealedSecret watch failed; retrying', { namespace: ns ?? '*', attempt: n, error: (e as Error).message }),
        }),
      );
      // --skip-recreate, as upstream: no Secret informer at all (so no cluster-wide list/watch of
      // Secrets is needed); each reconcile reads its Secret with a get, and a Secret deleted or
      // edited by hand is restored only when the SealedSecret or the keys change.
      if (o.skipRecreate) continue;
      this.secrets.push(
        new Informer(client, {
          path: paths.secrets(ns),
          transform: trimSecret,
          onHandlerError: onHandlerError('Secret'),
          onError: (e, n) =>
            log.warn('Secret watch failed; retrying', {
              namespace: ns ?? '*',
              attempt: n,
              error: (e as Error).message,
              // Upstream's --skip-recreate exists for RBAC without Secret list/watch.
              ...(e instanceof ApiError && e.status === 403 ? { hint: 'grant list and watch on secrets to the controller, or run it with --skip-recreate (then get, create and update suffice)' } : {}),
            }),
        }),
      );
    }
    for (const inf of this.sealedSecrets) {
      inf.on({
        // The initial list is resync work; objects created later are new work.
        add: (obj, initial) => this.queue.add(keyOf(obj), initial ? 'low' : 'high'),
        update: (a, b) => {
          // Status writes change neither the spec nor what the Secret is built from.
          const sa = a as unknown as SealedSecret;
          const sb = b as unknown as SealedSecret;
          let same = false;
          try {
            same = sa.metadata.generation === sb.metadata.generation && sameSource(sa, sb);
          } catch {
            // Cannot be hashed (nested too deep): the reconcile reports it on the SealedSecret.
          }
          if (!same) this.queue.add(keyOf(b), 'high');
        },
        delete: (obj) => {
          this.reconciler.sealedSecretDeleted(obj as unknown as SealedSecret);
          this.queue.add(keyOf(obj), 'high');
        },
      });
    }
    for (const inf of this.secrets) {
      inf.on({
        add: (obj, initial) => {
          if (!initial) this.#secretChanged(obj as unknown as Secret, 'high');
        },
        update: (_a, b) => this.#secretChanged(b as unknown as Secret, 'high'),
        delete: (obj) => {
          if (!this.o.skipRecreate) this.#secretChanged(obj as unknown as Secret, 'high', true);
        },
      });
    }
  }

  getSealedSecret(key: string): SealedSecret | undefined {
    for (const inf of this.sealedSecrets) {
      const o = inf.get(key);
      if (o) return o as unknown as SealedSecret;
    }
    return undefined;
  }

  getSecret(key: string): Secret | undefined | Promise<Secret | undefined> {
    if (this.o.skipRecreate) return this.#readSecret(key);
    for (const inf of this.secrets) {
      const o = inf.get(key);
      if (o) return o as unknown as Secret;
    }
    return undefined;
  }

  async #readSecret(key: string): Promise<Secret | undefined> {
    const [ns, name] = key.split('/') as [string, string];
    try {
      return trimSecret(await this.client.request<KubeObject>({ method: 'GET', path: paths.secret(ns, name) })) as unknown as Secret;
    } catch (e) {
      if (e instanceof ApiError && e.notFound) return undefined;
      throw e;
    }
  }

  /** A Secret with the name of a SealedSecret changed: check it, unless it is exactly what we wrote. */
  #secretChanged(secret: Secret, priority: Priority, deleted = false): void {
    const key = keyOf(secret as { metadata: { name?: string; namespace?: string } });
    const ss = this.getSealedSecret(key);
    if (!ss) return;
    try {
      if (!deleted && (this.reconciler.wroteVersion(key, secret) || this.reconciler.upToDate(ss, secret))) return;
    } catch {
      // Cannot be checked (a SealedSecret nested too deep to hash): the reconcile reports it.
    }
    this.queue.add(key, priority);
  }

  /** Queues every SealedSecret again (after a key change: failures may now succeed). */
  requeueAll(priority: Priority = 'low'): void {
    for (const inf of this.sealedSecrets) for (const k of inf.cache.keys()) this.queue.add(k, priority);
  }

  startInformers(): void {
    for (const inf of [...this.sealedSecrets, ...this.secrets]) inf.start();
  }

  async synced(): Promise<void> {
    await Promise.all([...this.sealedSecrets, ...this.secrets].map((i) => i.synced));
  }

  /** Starts reconciling (the leader only). */
  async startWorkers(): Promise<void> {
    if (this.#running) return;
    await this.synced();
    this.#running = true;
    for (let i = 0; i < this.o.concurrency; i++) void this.#worker();
    this.log.info('reconciling', { concurrency: this.o.concurrency, sealedSecrets: this.sealedSecrets.reduce((n, i) => n + i.cache.size, 0) });
  }

  /**
   * Stops taking work (leadership lost): each worker finishes the reconcile it is in and
   * stops; queued keys stay queued for when this replica leads again.
   */
  pauseWorkers(): void {
    this.#running = false;
    this.#generation++;
  }

  #generation = 0;

  async #worker(): Promise<void> {
    const generation = this.#generation;
    while (this.#running && generation === this.#generation) {
      const item = await this.queue.get();
      if (!item) return;
      if (!this.#running || generation !== this.#generation) {
        // Paused while waiting: hand the key back untouched.
        this.queue.done(item.key);
        this.queue.add(item.key, item.priority);
        return;
      }
      const d = this.queue.depth();
      this.metrics.queueDepth.set({ lane: 'high' }, d.high);
      this.metrics.queueDepth.set({ lane: 'low' }, d.low);
      this.#inFlight++;
      let outcome: Outcome;
      try {
        outcome = await this.reconciler.reconcile(item.key, item.priority === 'high');
      } catch (e) {
        this.log.error('reconcile failed unexpectedly', { sealedSecret: item.key, error: (e as Error).message });
        outcome = 'retry';
      } finally {
        this.#inFlight--;
      }
      this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
      this.metrics.reconciles.inc({ outcome });
      if (outcome === 'retry') {
        // Transient (API server, worker): retry with capped backoff until it works; nothing is dropped.
        this.queue.addRateLimited(item.key, item.priority);
      } else if (outcome === 'retry-limited' && this.queue.numRequeues(item.key) < this.o.maxUnsealRetries) {
        this.queue.addRateLimited(item.key, item.priority);
      } else {
        // Done, or given up until the SealedSecret, its Secret or the keys change (each re-queues it).
        this.queue.forget(item.key);
      }
      this.queue.done(item.key);
      const d2 = this.queue.depth();
      this.metrics.queueDepth.set({ lane: 'high' }, d2.high);
      this.metrics.queueDepth.set({ lane: 'low' }, d2.low);
      if (this.queue.length === 0 && this.#inFlight === 0) for (const w of this.#idle.splice(0)) w();
    }
  }

  /** Resolves when the queue is empty and nothing is in flight (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  stop(): void {
    this.#running = false;
    this.queue.shutdown();
    for (const inf of [...this.sealedSecrets, ...this.secrets]) inf.stop();
  }
}
