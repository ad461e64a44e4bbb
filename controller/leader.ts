/**
 * Leader election on a coordination.k8s.io/v1 Lease, so several replicas are
 * safe: only the leader writes Secrets, status and keys. Followers keep their
 * caches warm and serve HTTP. Semantics follow client-go's leaderelection:
 * acquire when the lease is free or expired, renew every retry period, give up
 * when a renewal has not succeeded within the renew deadline.
 */
import { ApiError, paths, type KubeApi } from './kube/client.js';
import type { Logger } from './log.js';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  now?: () => number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** A Kubernetes MicroTime: RFC 3339 with microseconds. */
const micro = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

export class LeaderElector {
  #leading = false;
  #stopped = false;
  #lastRenew = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onStart: () => void = () => undefined;
  #onStop: () => void = () => undefined;
  #onForbidden: (e: ApiError) => void = () => undefined;
  #forbidden = false;
  /** Whether the Lease was ever read or written: then a 403 is a failure like any other. */
  #reached = false;
  /** When the current run of 403s (before the Lease was ever reached) began. */
  #forbiddenSince: number | undefined;

  constructor(
    private readonly client: KubeApi,
    private readonly log: Logger,
    private readonly o: LeaderOptions,
  ) {}

  get leading(): boolean {
    return this.#leading;
  }

  /** The Lease is forbidden (HTTP 403) and onForbidden was called: running unelected until it can be reached. */
  get forbidden(): boolean {
    return this.#forbidden;
  }

  /**
   * Campaigns until stop(). If the API server forbids the Lease (403 on get, create or update:
   * RBAC without lease rights, as upstream's chart and manifests) from the first attempt and
   * for a whole lease duration, `onForbidden` is called; the caller decides whether to run
   * unelected. The Lease is still looked at (once a lease duration): when it can be reached
   * again (the rights were granted) the election resumes, `onStop` being called if another
   * replica holds it, so replicas unelected side by side go back to one writer. A 403 once the Lease has been reached (or one
   * that does not last) is a failure like any other: a leader that cannot renew steps down at
   * the renew deadline, so a transient refusal never leaves two writers.
   */
  run(onStartedLeading: () => void, onStoppedLeading: () => void, onForbidden: (e: ApiError) => void = () => undefined): void {
    this.#onStart = onStartedLeading;
    this.#onStop = onStoppedLeading;
    this.#onForbidden = onForbidden;
    void this.#tick();
  }

  #now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      const ok = await this.#tryAcquireOrRenew();
      this.#reached = true;
      this.#forbiddenSince = undefined;
      if (this.#forbidden) {
        // Lease rights granted while running unelected: back to the election. Leading, it goes
        // on as leader; another replica holding the Lease, this one stops writing now.
        this.#forbidden = false;
        this.log.warn('the Lease is reachable again: running elected', { lease: `${this.o.namespace}/${this.o.name}`, leading: ok });
        if (!ok) this.#onStop();
      }
      if (ok) {
        this.#lastRenew = this.#now();
        if (!this.#leading) {
          this.#leading = true;
          this.log.info('became leader', { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
          this.#onStart();
        }
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 403 && !this.#reached && !this.#leading) {
        this.#forbiddenSince ??= this.#now();
        if (this.#forbidden) {
          // Still forbidden: unelected goes on; the Lease is looked at again, less often.
        } else if (this.#now() - this.#forbiddenSince >= this.o.leaseDurationMs) {
          this.#forbidden = true;
          this.#onForbidden(e);
        } else {
          // Said once it lasts (onForbidden logs it); a refusal that clears was only a hiccup.
          this.log.debug('lease refused; running unelected if it lasts a lease duration', { lease: `${this.o.namespace}/${this.o.name}`, error: (e as Error).message });
        }
      } else this.log.warn('lease update failed', { lease: `${this.o.namespace}/${this.o.name}`, error: (e as Error).message });
    }
    if (this.#leading && this.#now() - this.#lastRenew > this.o.renewDeadlineMs) {
      this.#leading = false;
      this.log.warn('lost leadership: could not renew the lease in time', { lease: `${this.o.namespace}/${this.o.name}` });
      this.#onStop();
    }
    const period = this.#forbidden ? Math.max(this.o.retryPeriodMs, this.o.leaseDurationMs) : this.o.retryPeriodMs;
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), period * (this.#leading ? 1 : 1 + Math.random() * 0.2));
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#now();
    const spec = (prev?: Lease['spec']): Lease['spec'] => ({
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: prev?.holderIdentity === this.o.identity && prev.acquireTime ? prev.acquireTime : micro(now),
      renewTime: micro(now),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (prev?.holderIdentity && prev.holderIdentity !== this.o.identity ? 1 : 0),
    });
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>({ method: 'GET', path: paths.lease(this.o.namespace, this.o.name), unthrottled: true, timeoutMs: this.o.retryPeriodMs });
    } catch (e) {
      if (!(e instanceof ApiError && e.notFound)) throw e;
      try {
        await this.client.request({
          method: 'POST',
          path: paths.leases(this.o.namespace),
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: spec() },
          unthrottled: true,
        });
        return true;
      } catch (e2) {
        if (e2 instanceof ApiError && e2.conflict) return false;
        throw e2;
      }
    }
    const holder = lease.spec.holderIdentity;
    const renewed = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : 0;
    const duration = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    if (holder && holder !== this.o.identity && now < renewed + duration) return false;
    try {
      await this.client.request({
        method: 'PUT',
        path: paths.lease(this.o.namespace, this.o.name),
        body: { ...lease, spec: spec(lease.spec) },
        unthrottled: true,
        timeoutMs: this.o.retryPeriodMs,
      });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.conflict) return false;
      throw e;
    }
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.client.request<Lease>({ method: 'GET', path: paths.lease(this.o.namespace, this.o.name), unthrottled: true });
      if (lease.spec.holderIdentity === this.o.identity) {
        await this.client.request({ method: 'PUT', path: paths.lease(this.o.namespace, this.o.name), body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } }, unthrottled: true });
      }
    } catch {
      // The lease expires by itself.
    }
  }
}
