/**
 * Puts a reconciler and its control loop together: the one wiring shared by main.ts,
 * the benchmarks and the tests that drive the real controller.
 */
import { defaultConcurrency } from './config.js';
import { Controller, type ControllerOptions } from './controller.js';
import { EventRecorder } from './events.js';
import type { KubeApi } from './kube/client.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { Reconciler, type EventSink, type ReconcilerConfig } from './reconciler.js';
import type { UnsealPool } from './unseal-pool.js';

export interface AssembleOptions {
  api: KubeApi;
  pool: UnsealPool;
  log: Logger;
  metrics: Metrics;
  macKey: () => Buffer;
  events?: EventSink;
  reconciler?: Partial<ReconcilerConfig>;
  controller?: Partial<ControllerOptions>;
  now?: () => Date;
}

export function assembleController(o: AssembleOptions): { controller: Controller; reconciler: Reconciler } {
  let controller!: Controller;
  const reconciler = new Reconciler({
    client: o.api,
    getSealedSecret: (k) => controller.getSealedSecret(k),
    getSecret: (k) => controller.getSecret(k),
    pool: o.pool,
    events: o.events ?? new EventRecorder(o.api, o.log),
    metrics: o.metrics,
    log: o.log,
    config: { updateStatus: true, maxUnsealRetries: 5, oldGcBehavior: false, ...o.reconciler },
    macKey: o.macKey,
    now: o.now ?? (() => new Date()),
  });
  controller = new Controller(o.api, reconciler, o.log, o.metrics, {
    namespaces: undefined,
    skipRecreate: false,
    maxUnsealRetries: o.reconciler?.maxUnsealRetries ?? 5,
    concurrency: defaultConcurrency(o.pool.workers),
    ...o.controller,
  });
  return { controller, reconciler };
}
