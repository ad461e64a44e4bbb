/** Kubernetes Events for SealedSecrets (upstream recorder component "sealed-secrets"). Best effort: a failed Event is logged, never retried. */
import { API_VERSION, KIND, type SealedSecret } from '../src/index.js';
import { paths, type KubeApi } from './kube/client.js';
import { TokenBucket } from './kube/rate-limiter.js';
import type { Logger } from './log.js';
import type { EventSink } from './reconciler.js';

/**
 * Events have a rate limit of their own (like client-go's event broadcaster), so they never take
 * tokens from Secret and status writes, and a bounded backlog: past it, Events are dropped and
 * counted, never queued without end.
 */
export class EventRecorder implements EventSink {
  readonly #limiter = new TokenBucket(20, 100);
  #pending = 0;
  dropped = 0;
  static readonly MAX_PENDING = 1000;

  constructor(
    private readonly client: KubeApi,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
    private readonly host = 'sealed-secrets-controller',
  ) {}

  emit(ss: SealedSecret, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.#pending >= EventRecorder.MAX_PENDING) {
      this.dropped++;
      return;
    }
    const ns = ss.metadata.namespace ?? 'default';
    const t = this.now().toISOString();
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${ss.metadata.name}.`, namespace: ns },
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name: ss.metadata.name, namespace: ns, uid: ss.metadata.uid, resourceVersion: ss.metadata.resourceVersion },
      reason,
      message: message.length > 1024 ? message.slice(0, 1021) + '...' : message,
      type,
      source: { component: 'sealed-secrets', host: this.host },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      reportingComponent: 'sealed-secrets',
    };
    this.#pending++;
    this.#limiter
      .take()
      .then(() => this.client.request({ method: 'POST', path: paths.events(ns), body, unthrottled: true, discardBody: true }))
      .catch((e: unknown) => {
        this.log.debug('event not recorded', { sealedSecret: `${ns}/${ss.metadata.name}`, reason, error: (e as Error).message });
      })
      .finally(() => this.#pending--);
  }
}
